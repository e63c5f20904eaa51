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

use super::function::{Account, FunctionSim, Phase, SimClock};
use super::{PlatformConfig, ValidConfig, WarmPlan};
use crate::outcome::{Collector, EpochBuffer, FunctionStats, Mode, Outcome, WarmupReport};
use crate::time::{MINUTE, Micros};
use crate::trace::{Invocation, Trace};

/// Replays `trace` on the platform `cfg` (validated for it with
/// [`PlatformConfig::validate_for`]).
pub fn simulate(trace: &Trace, cfg: &ValidConfig) -> Outcome {
    simulate_mode(trace, cfg, None)
}

/// As [`simulate`], but `force` picks the scheduling (tests compare the two).
pub fn simulate_mode(trace: &Trace, cfg: &ValidConfig, force: Option<Mode>) -> Outcome {
    simulate_with(
        trace,
        cfg,
        RunOptions {
            force,
            single_thread: false,
        },
    )
}

/// How to run the engine. None of it changes the outcome's numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Force the scheduling (tests compare the two).
    pub force: Option<Mode>,
    /// Keep the run on the calling thread: functions interleaved (coupled), no collector on
    /// another core. For callers that already run many simulations in parallel (`sweep`,
    /// `breakeven`): nested joins would only make the workers wait on each other.
    pub single_thread: bool,
}

/// As [`simulate`], with [`RunOptions`].
pub fn simulate_with(trace: &Trace, cfg: &ValidConfig, opts: RunOptions) -> Outcome {
    let cfg: &PlatformConfig = cfg;
    let force = if opts.single_thread {
        Some(Mode::Coupled)
    } else {
        opts.force
    };
    let overlap = !opts.single_thread;
    let mut excluded = 0u64;
    let slices: Vec<&[Invocation]> = (0..trace.functions().len())
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
    let names: Vec<String> = trace.functions().iter().map(|f| f.name.clone()).collect();
    let mode = match force {
        Some(m) => m,
        None if slices.len() <= 1 => Mode::Coupled,
        None => Mode::Parallel,
    };
    let limit = cfg.account_concurrency.map_or(u64::MAX, u64::from);
    let plan = WarmPlan::new(cfg, &slices);
    let mut outcome = match mode {
        Mode::Coupled => run(
            &slices,
            cfg,
            trace.origin_us(),
            &plan,
            Mode::Coupled,
            limit,
            overlap,
        ),
        Mode::Parallel => {
            match run(
                &slices,
                cfg,
                trace.origin_us(),
                &plan,
                Mode::Parallel,
                limit,
                overlap,
            ) {
                Some(o) => Some(o),
                None => run(
                    &slices,
                    cfg,
                    trace.origin_us(),
                    &plan,
                    Mode::Coupled,
                    limit,
                    overlap,
                ),
            }
        }
    }
    .expect("a coupled run always completes");
    outcome.names = names;
    (outcome.apps, outcome.app_names) = trace.apps();
    outcome.excluded_after_horizon = excluded;
    outcome
}

/// The time of day (microseconds since midnight, in the trace's clock) of an origin.
pub(crate) fn time_of_day(origin_us: i64) -> Micros {
    origin_us.rem_euclid(super::DAY as i64) as Micros
}

/// One run. Returns `None` when a parallel run finds that the account limit would have bound.
fn run(
    slices: &[&[Invocation]],
    cfg: &PlatformConfig,
    origin_us: i64,
    plan: &WarmPlan,
    mode: Mode,
    limit: u64,
    overlap_collector: bool,
) -> Option<Outcome> {
    let mut runner = Runner::new(slices.len(), cfg, origin_us, plan.clone(), mode, limit);
    runner.overlap_collector = overlap_collector;
    runner.start(slices);
    while runner.has_work() {
        if !runner.epoch(slices, Micros::MAX) {
            return None;
        }
    }
    runner.finish()
}

/// A run in progress, advanced one epoch at a time. The arrivals are passed to every call, so a
/// streaming reader may extend them between epochs (see `pipeline`).
pub(crate) struct Runner<'c> {
    mode: Mode,
    limit: u64,
    /// The engine's clock: warm-up offset and measured window.
    clock: SimClock,
    warmup: WarmupReport,
    shared: Account,
    accounts: Vec<Account>,
    sims: Vec<FunctionSim<'c>>,
    col: Collector,
    /// Buffers of the previous epoch, merged while the next one runs.
    collected: Vec<EpochBuffer>,
    blocked: Vec<u32>,
    /// The end of the next epoch to run; `None` before `start` and once no event is left.
    t_end: Option<Micros>,
    /// The end of the last epoch run.
    last_end: Micros,
    aborted: bool,
    /// Merge the previous epoch on another rayon worker while this one runs. Off when the other
    /// core is busy already (the streaming pipeline's reader thread).
    pub overlap_collector: bool,
}

impl<'c> Runner<'c> {
    /// `origin_us`: the trace's origin in its own clock (for schedules' time of day); `plan`: the
    /// warm-up (its prefix has one entry per function, or none).
    pub fn new(
        functions: usize,
        cfg: &'c PlatformConfig,
        origin_us: i64,
        plan: WarmPlan,
        mode: Mode,
        limit: u64,
    ) -> Self {
        let clock = SimClock {
            tod0: time_of_day(origin_us - plan.offset as i64),
            offset: plan.offset,
            lo: plan.lo,
            horizon: plan.horizon(cfg.horizon),
        };
        let warmup = WarmupReport {
            kind: cfg.warmup.describe(),
            replayed_us: plan.replayed,
            measured_from_us: plan.lo - plan.offset,
            ..WarmupReport::default()
        };
        let mut prefixes = plan.prefix.into_iter();
        let sim_limit = match mode {
            Mode::Coupled => limit,
            Mode::Parallel => u64::MAX,
        };
        let mut shared = Account {
            usage: 0,
            limit: sim_limit,
        };
        let mut accounts: Vec<Account> = Vec::new();
        let mut sims: Vec<FunctionSim> = Vec::with_capacity(functions);
        for f in 0..functions {
            let prefix = prefixes.next().unwrap_or_default();
            match mode {
                Mode::Coupled => {
                    sims.push(FunctionSim::new(f as u32, cfg, clock, prefix, &mut shared))
                }
                Mode::Parallel => {
                    let mut acct = Account {
                        usage: 0,
                        limit: sim_limit,
                    };
                    sims.push(FunctionSim::new(f as u32, cfg, clock, prefix, &mut acct));
                    accounts.push(acct);
                }
            }
        }
        Runner {
            mode,
            limit,
            clock,
            warmup,
            shared,
            accounts,
            collected: sims.iter().map(|_| EpochBuffer::default()).collect(),
            sims,
            col: Collector::new(clock.lo, clock.horizon),
            blocked: Vec::new(),
            t_end: None,
            last_end: MINUTE,
            aborted: false,
            overlap_collector: true,
        }
    }

    /// The earliest pending event over all functions.
    fn next_event(&self, slices: &[&[Invocation]]) -> Option<Micros> {
        self.sims
            .iter()
            .zip(slices)
            .filter_map(|(s, a)| s.next_event(a))
            .map(|(t, _)| t)
            .min()
    }

    /// True when the summed account usage of a parallel run went past the limit (`none` is
    /// `u64::MAX`, which no usage reaches).
    fn over_limit(&self) -> bool {
        i128::from(self.col.peak_usage) > i128::from(self.limit)
    }

    /// Sets the first epoch from the first event.
    pub fn start(&mut self, slices: &[&[Invocation]]) {
        self.t_end = self.next_event(slices).map(|t| (t / MINUTE + 1) * MINUTE);
    }

    pub fn has_work(&self) -> bool {
        self.t_end.is_some()
    }

    /// The end of the epoch `epoch` would run next.
    pub fn next_end(&self) -> Option<Micros> {
        self.t_end
    }

    /// Runs the next epoch. Every arrival before `complete_before` must be in `slices` (sorted);
    /// later ones may still be missing. Returns false if a parallel run must be redone coupled.
    pub fn epoch(&mut self, slices: &[&[Invocation]], complete_before: Micros) -> bool {
        let Some(t_end) = self.t_end else {
            return true;
        };
        debug_assert!(t_end <= complete_before || complete_before == Micros::MAX);
        let mode = self.mode;
        let (sims, accounts, shared, blocked) = (
            &mut self.sims,
            &mut self.accounts,
            &mut self.shared,
            &mut self.blocked,
        );
        let (col, collected) = (&mut self.col, &mut self.collected);
        // The collector merges epoch N while the functions simulate epoch N+1 (on another core
        // when there is one). Buffers swap between the two sides; the merge order stays fixed.
        let mut simulate = || match mode {
            Mode::Parallel => {
                sims.par_iter_mut()
                    .zip(accounts.par_iter_mut())
                    .zip(slices.par_iter())
                    .for_each(|((s, a), arr)| s.advance_to(t_end, arr, a));
            }
            Mode::Coupled if sims.len() == 1 => sims[0].advance_to(t_end, slices[0], shared),
            Mode::Coupled => coupled_epoch(sims, slices, shared, blocked, t_end),
        };
        let mut collect = || {
            for b in collected.iter_mut() {
                col.absorb(b);
            }
            col.end_epoch();
        };
        if self.overlap_collector {
            rayon::join(simulate, collect);
        } else {
            collect();
            simulate();
        }
        if self.mode == Mode::Parallel && self.over_limit() {
            self.aborted = true;
            return false;
        }
        for (s, b) in self.sims.iter_mut().zip(self.collected.iter_mut()) {
            // Nothing happened to this function in the epoch, and its buffer still has room from
            // an earlier one: give back what its busy minutes needed (issue 14, D10). At most
            // twice per quiet stretch (the collector frees the empty buffers themselves).
            if s.out.is_empty() && s.out.heap_bytes() > 0 {
                s.shrink_to_fit();
            }
            std::mem::swap(&mut s.out, b);
        }
        self.last_end = t_end;
        // The next epoch ends with the minute of the next event. While rows are still unread,
        // the first of them (at or after `complete_before`) may come before any known event.
        let known = self.next_event(slices);
        let next = if complete_before == Micros::MAX {
            known
        } else {
            Some(known.map_or(complete_before, |t| t.min(complete_before)))
        };
        self.t_end = next.map(|t| (t_end + MINUTE).max((t / MINUTE + 1) * MINUTE));
        true
    }

    /// Ends the run: the window is the horizon, or the end of the minute in which the last event
    /// fell. Returns `None` if the run was aborted.
    pub fn finish(mut self) -> Option<Outcome> {
        if self.aborted {
            return None;
        }
        for b in self.collected.iter_mut() {
            self.col.absorb(b);
        }
        self.collected = Vec::new();
        self.col.end_epoch();
        if self.mode == Mode::Parallel && self.over_limit() {
            return None;
        }
        // The window ends at the horizon, or with the minute of the last event; it starts after
        // the warm-up.
        let window_end = self
            .clock
            .horizon
            .unwrap_or(self.last_end)
            .max(self.clock.lo);
        // In function order, each function's state freed once its numbers are out, so that the
        // functions' engine state and their numbers are never both held whole (issue 14, D10).
        let mut sims = std::mem::take(&mut self.sims);
        sims.reverse();
        let mut functions = Vec::new();
        let mut totals = FunctionStats::default();
        while let Some(mut s) = sims.pop() {
            s.finish(window_end);
            self.col.absorb(&mut s.out);
            totals.add(&s.stats);
            functions.push(std::mem::take(&mut s.stats));
            if sims.capacity() > 2 * sims.len() + 64 {
                sims.shrink_to_fit();
            }
        }
        let mut col = self.col;
        col.finish(window_end);
        let window_us = window_end - self.clock.lo;
        let peak_account_usage = col.peak_usage_measured().max(0) as u64;
        let mut warmup = self.warmup;
        warmup.invocations = totals.warmup_invocations;
        warmup.cold_starts = totals.warmup_cold_starts;
        totals.peak_busy = col.minutes.iter().map(|m| m.peak_busy).max().unwrap_or(0);
        let alive_integral_us = col.minutes.iter().map(|m| m.alive_us).sum();
        Some(Outcome {
            window_us,
            names: Vec::new(),
            apps: Vec::new(),
            app_names: Vec::new(),
            functions,
            totals,
            latency: col.latency,
            latency_warm: col.latency_warm,
            latency_cold: col.latency_cold,
            init: col.init,
            minutes: col.minutes,
            alive_integral_us,
            peak_account_usage,
            mode: self.mode,
            excluded_after_horizon: 0,
            warmup,
        })
    }
}

/// Steps all functions in global (time, phase, function) order until `t_end`.
fn coupled_epoch(
    sims: &mut [FunctionSim],
    slices: &[&[Invocation]],
    account: &mut Account,
    blocked: &mut Vec<u32>,
    t_end: Micros,
) {
    let mut heap: BinaryHeap<Reverse<(Micros, Phase, u32)>> = sims
        .iter()
        .enumerate()
        .filter_map(|(f, s)| {
            s.next_event(slices[f])
                .map(|(t, p)| Reverse((t, p, f as u32)))
        })
        .filter(|Reverse((t, _, _))| *t < t_end)
        .collect();
    while let Some(Reverse(first)) = heap.pop() {
        // Step this function for as long as its next event still comes first: the heap is only
        // touched when another function's event is due (same order, fewer heap operations).
        let mut key = first;
        loop {
            let (t, phase, f) = key;
            let sim = &mut sims[f as usize];
            let arrivals = slices[f as usize];
            if sim.next_event(arrivals) != Some((t, phase)) {
                break; // stale entry
            }
            let before = account.usage;
            sim.step_event(t, phase, arrivals, account);
            if sim.blocked_on_account() && !blocked.contains(&f) {
                blocked.push(f);
            }
            let next = sim
                .next_event(arrivals)
                .filter(|&(t2, _)| t2 < t_end)
                .map(|(t2, p2)| (t2, p2, f));
            if account.usage < before && !blocked.is_empty() {
                for g in std::mem::take(blocked) {
                    let s = &mut sims[g as usize];
                    s.wake(t);
                    if let Some((t2, p2)) = s.next_event(slices[g as usize])
                        && t2 < t_end
                    {
                        heap.push(Reverse((t2, p2, g)));
                    }
                }
            }
            match next {
                Some(k) if heap.peek().is_none_or(|Reverse(top)| k < *top) => key = k,
                Some(k) => {
                    heap.push(Reverse(k));
                    break;
                }
                None => break,
            }
        }
    }
    for s in sims.iter_mut() {
        s.end_epoch(t_end);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine::{FixedKeepAlive, InitDist};
    use crate::outcome::MemoryUsage;
    use crate::time::SECOND;
    use crate::trace::Trigger;

    /// Issue 14, D10: a million functions took ~3 KB each, most of it room that a function's
    /// busiest minute had needed and that it kept after it had finished (lists grown to four
    /// entries for one, epoch buffers of both sides). A function that is done keeps its
    /// numbers and little else: here one instance's record, its usage at one size and its
    /// lists' leftovers, a few hundred bytes, where it kept ~1.3 KB.
    #[test]
    fn a_finished_function_keeps_no_room_its_busy_minutes_needed() {
        let n = 300;
        let cfg = PlatformConfig {
            account_concurrency: None,
            scaling: None,
            keep_alive: Arc::new(FixedKeepAlive(30 * SECOND)),
            warmup: crate::engine::Warmup::None,
            ..PlatformConfig::lambda_defaults(InitDist::Constant(50_000))
        };
        // Function f: three requests in minute f (two overlap, so two instances).
        let rows: Vec<Vec<Invocation>> = (0..n)
            .map(|f| {
                let at = f as Micros * MINUTE;
                [(0, 2 * SECOND), (SECOND, SECOND), (5 * SECOND, SECOND)]
                    .map(|(t, d)| Invocation {
                        arrival: at + t,
                        duration: d,
                        function: f as u32,
                        memory_mb: 0,
                        trigger: Trigger::Sync,
                    })
                    .to_vec()
            })
            .collect();
        let slices: Vec<&[Invocation]> = rows.iter().map(Vec::as_slice).collect();
        let plan = WarmPlan::new(&cfg, &slices);
        for mode in [Mode::Parallel, Mode::Coupled] {
            let mut runner = Runner::new(n, &cfg, 0, plan.clone(), mode, u64::MAX);
            runner.start(&slices);
            while runner.has_work() {
                assert!(runner.epoch(&slices, Micros::MAX));
            }
            // Every function but the last few had quiet epochs after its last event.
            for (f, s) in runner.sims.iter().enumerate().take(n - 3) {
                // Two instance records (72 B each), the usage at one size, small lists.
                let budget = 2 * 72 + size_of::<MemoryUsage>() + 96;
                assert!(
                    s.heap_bytes() <= budget,
                    "{mode:?}: function {f} holds {} heap bytes after it finished (budget {budget})",
                    s.heap_bytes()
                );
            }
            for b in &runner.collected[..n - 3] {
                assert_eq!(
                    b.heap_bytes(),
                    0,
                    "{mode:?}: an empty epoch buffer is freed"
                );
            }
            let o = runner.finish().unwrap();
            assert_eq!(o.totals.invocations, 3 * n as u64);
            assert_eq!(o.totals.cold_starts, 2 * n as u64);
        }
    }
}
