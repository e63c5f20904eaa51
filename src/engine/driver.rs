//! Runs the per-function simulations epoch by epoch (one simulated minute at a time) and merges
//! their output in function order.
//!
//! - **Parallel**: functions are independent unless the account limit couples them, so each
//!   function advances through the epoch on its own (rayon) with no account limit, and the
//!   collector tracks the summed account usage. If that sum never exceeds the limit, no request
//!   could have been refused for it, and the result equals the coupled run exactly: within one
//!   function every event is handled in the same order, and across functions releases (timers)
//!   at a time come before acquisitions (retries, arrivals). If it does exceed the limit, the run
//!   is discarded and redone coupled.
//! - **Coupled**: one event at a time across all functions, ordered by (time, phase, function),
//!   sharing one account counter.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::PlatformConfig;
use super::function::{Account, FunctionSim};
use crate::outcome::{Collector, EpochBuffer, FunctionStats, Mode, Outcome};
use crate::time::{MINUTE, Micros};
use crate::trace::Trace;

/// Replays `trace` on the platform `cfg` (validated with [`PlatformConfig::validate`]).
pub fn simulate(trace: &Trace, cfg: &PlatformConfig) -> Outcome {
    simulate_mode(trace, cfg, None)
}

/// As [`simulate`], but `force` picks the scheduling (tests compare the two).
pub fn simulate_mode(trace: &Trace, cfg: &PlatformConfig, force: Option<Mode>) -> Outcome {
    let mut excluded = 0u64;
    let slices: Vec<&[crate::trace::Invocation]> = (0..trace.functions.len())
        .map(|f| {
            let all = trace.function_invocations(f);
            match cfg.horizon {
                Some(h) => {
                    let n = all.partition_point(|i| i.arrival < h);
                    excluded += (all.len() - n) as u64;
                    &all[..n]
                }
                None => all,
            }
        })
        .collect();
    let names: Vec<String> = trace.functions.iter().map(|f| f.name.clone()).collect();
    let mode = match force {
        Some(m) => m,
        None if slices.len() <= 1 => Mode::Coupled,
        None => Mode::Parallel,
    };
    let limit = cfg.account_concurrency.map_or(u64::MAX, u64::from);
    let mut outcome = match mode {
        Mode::Coupled => run(&slices, cfg, Mode::Coupled, limit),
        Mode::Parallel => match run(&slices, cfg, Mode::Parallel, limit) {
            Some(o) => Some(o),
            None => run(&slices, cfg, Mode::Coupled, limit),
        },
    }
    .expect("a coupled run always completes");
    outcome.names = names;
    outcome.excluded_after_horizon = excluded;
    outcome
}

/// One run. Returns `None` when a parallel run finds that the account limit would have bound.
fn run(
    slices: &[&[crate::trace::Invocation]],
    cfg: &PlatformConfig,
    mode: Mode,
    limit: u64,
) -> Option<Outcome> {
    let sim_limit = match mode {
        Mode::Coupled => limit,
        Mode::Parallel => u64::MAX,
    };
    let mut shared = Account {
        usage: 0,
        limit: sim_limit,
    };
    let mut accounts: Vec<Account> = Vec::new();
    let mut sims: Vec<FunctionSim> = Vec::with_capacity(slices.len());
    for (f, inv) in slices.iter().enumerate() {
        match mode {
            Mode::Coupled => sims.push(FunctionSim::new(f as u32, cfg, inv, &mut shared)),
            Mode::Parallel => {
                let mut acct = Account {
                    usage: 0,
                    limit: sim_limit,
                };
                sims.push(FunctionSim::new(f as u32, cfg, inv, &mut acct));
                accounts.push(acct);
            }
        }
    }
    let mut col = Collector::new(cfg.horizon);
    let mut blocked: Vec<u32> = Vec::new();
    let first = sims
        .iter()
        .filter_map(|s| s.next_event())
        .map(|(t, _)| t)
        .min();
    let mut t_end = first.map_or(MINUTE, |t| (t / MINUTE + 1) * MINUTE);
    // The collector merges epoch N while the functions simulate epoch N+1 (on another core when
    // there is one). Buffers swap between the two sides; the merge order stays fixed.
    let mut collected: Vec<EpochBuffer> = sims.iter().map(|_| EpochBuffer::default()).collect();
    loop {
        rayon::join(
            || match mode {
                Mode::Parallel => {
                    sims.par_iter_mut()
                        .zip(accounts.par_iter_mut())
                        .for_each(|(s, a)| s.advance_to(t_end, a));
                }
                Mode::Coupled if sims.len() == 1 => sims[0].advance_to(t_end, &mut shared),
                Mode::Coupled => coupled_epoch(&mut sims, &mut shared, &mut blocked, t_end),
            },
            || {
                for b in collected.iter_mut() {
                    col.absorb(b);
                }
                col.end_epoch();
            },
        );
        if mode == Mode::Parallel && col.peak_usage > limit as i64 {
            return None;
        }
        for (s, b) in sims.iter_mut().zip(collected.iter_mut()) {
            std::mem::swap(&mut s.out, b);
        }
        let next = sims
            .iter()
            .filter_map(|s| s.next_event())
            .map(|(t, _)| t)
            .min();
        match next {
            None => break,
            Some(t) => t_end = (t_end + MINUTE).max((t / MINUTE + 1) * MINUTE),
        }
    }
    for b in collected.iter_mut() {
        col.absorb(b);
    }
    col.end_epoch();
    if mode == Mode::Parallel && col.peak_usage > limit as i64 {
        return None;
    }
    // The window: the horizon, or the end of the minute in which the last event fell.
    let window_us = cfg.horizon.unwrap_or(t_end);
    let mut functions = Vec::with_capacity(sims.len());
    let mut totals = FunctionStats::default();
    for s in &mut sims {
        s.finish(window_us);
        col.absorb(&mut s.out);
        totals.add(&s.stats);
        functions.push(std::mem::take(&mut s.stats));
    }
    col.finish(window_us);
    totals.peak_busy = col.minutes.iter().map(|m| m.peak_busy).max().unwrap_or(0);
    let alive_integral_us = col.minutes.iter().map(|m| m.alive_us).sum();
    Some(Outcome {
        window_us,
        names: Vec::new(),
        functions,
        totals,
        latency: col.latency,
        latency_warm: col.latency_warm,
        latency_cold: col.latency_cold,
        init: col.init,
        minutes: col.minutes,
        alive_integral_us,
        peak_account_usage: col.peak_usage.max(0) as u64,
        mode,
        excluded_after_horizon: 0,
    })
}

/// Steps all functions in global (time, phase, function) order until `t_end`.
fn coupled_epoch(
    sims: &mut [FunctionSim],
    account: &mut Account,
    blocked: &mut Vec<u32>,
    t_end: Micros,
) {
    let mut heap: BinaryHeap<Reverse<(Micros, u8, u32)>> = sims
        .iter()
        .enumerate()
        .filter_map(|(f, s)| s.next_event().map(|(t, p)| Reverse((t, p, f as u32))))
        .filter(|Reverse((t, _, _))| *t < t_end)
        .collect();
    while let Some(Reverse((t, phase, f))) = heap.pop() {
        let sim = &mut sims[f as usize];
        if sim.next_event() != Some((t, phase)) {
            continue; // stale entry
        }
        let before = account.usage;
        sim.step_event(t, phase, account);
        if sim.blocked_on_account && !blocked.contains(&f) {
            blocked.push(f);
        }
        if let Some((t2, p2)) = sim.next_event()
            && t2 < t_end
        {
            heap.push(Reverse((t2, p2, f)));
        }
        if account.usage < before && !blocked.is_empty() {
            for g in std::mem::take(blocked) {
                let s = &mut sims[g as usize];
                s.wake(t);
                if let Some((t2, p2)) = s.next_event()
                    && t2 < t_end
                {
                    heap.push(Reverse((t2, p2, g)));
                }
            }
        }
    }
    for s in sims.iter_mut() {
        s.end_epoch(t_end, account);
    }
}
