//! The streamed replay (issue 16): the engine asks an [`ArrivalSource`] for each function's rows
//! just before it needs them and drops the rows it has replayed, so memory holds the functions,
//! the live instances and about a minute of arrivals, not the trace.
//!
//! Invariant: the outcome is the one [`super::simulate_mode`] gives on the trace the source
//! would make, byte for byte. The epochs are the same: an epoch runs only once every row before
//! its end has been given ([`Runner::retarget`] caps the next end at the rows given, so an epoch
//! whose end depends on rows not given yet waits for them), and each function knows whether rows
//! of its own are still to come (a pre-warm with nothing after it is no event in either replay).
//! A cyclic warm-up's replayed end streams too: a second source, windowed to that end
//! ([`Window`]), fills the functions' prefixes before any row of the trace is given.

use super::ShardRunError;
use super::driver::Runner;
use super::{PlatformConfig, ValidConfig, WarmPlan, Warmup};
use crate::outcome::shard::ShardOutcome;
use crate::outcome::{Mode, Outcome};
use crate::time::{MINUTE, Micros, ceil_minute};
use crate::trace::Invocation;
use crate::trace::facts::{Facts, TraceFacts};
use crate::trace::stream::{ArrivalSource, Window};

/// Replays the trace `make()` gives (each call a fresh source of the same rows, cut at
/// `cfg.horizon`) whose facts are `facts`, on `cfg`; `force` picks the scheduling as in
/// [`super::simulate_mode`]. A cyclic warm-up reads the source twice more: once to plan the
/// replay of its end, once to replay it; a parallel run that finds the account limit binds is
/// redone coupled from fresh sources.
pub fn simulate_stream<S: ArrivalSource>(
    make: impl Fn() -> S,
    facts: &Facts,
    cfg: &ValidConfig,
    force: Option<Mode>,
) -> Outcome {
    simulate_stream_from(make, facts, 0, cfg, force)
}

/// As [`simulate_stream`], for a trace whose time 0 stands for `origin_us` in its own clock
/// ([`crate::trace::Trace::origin_us`]: a provisioned schedule's time of day counts from it).
/// [`simulate_stream`] is this at origin 0, an Azure 2019 trace's.
pub fn simulate_stream_from<S: ArrivalSource>(
    make: impl Fn() -> S,
    facts: &Facts,
    origin_us: i64,
    cfg: &ValidConfig,
    force: Option<Mode>,
) -> Outcome {
    let cfg: &PlatformConfig = cfg;
    let n = facts.functions().len();
    let mode = match force {
        Some(m) => m,
        None if n <= 1 => Mode::Coupled,
        None => Mode::Parallel,
    };
    let limit = cfg.account_concurrency.map_or(u64::MAX, u64::from);
    let (plan, window) = plan(&make, cfg, n, facts);
    let (apps, app_names) = crate::trace::apps_of(facts.functions());
    let run = |mode| {
        let warm = window.map(|(from, to)| Window::new(make(), n, from, to));
        let runner = Runner::new(n, None, cfg, origin_us, plan.clone(), &apps, mode, limit);
        let (runner, given) = replay(runner, make(), warm).ok()?;
        runner.finish().map(|o| (o, given))
    };
    let (mut outcome, given) = match mode {
        Mode::Coupled => run(Mode::Coupled),
        Mode::Parallel => run(Mode::Parallel).or_else(|| run(Mode::Coupled)),
    }
    .expect("a coupled run always completes");
    outcome.names = facts.functions().iter().map(|f| f.name.clone()).collect();
    (outcome.apps, outcome.app_names) = (apps, app_names);
    outcome.excluded_after_horizon = facts.invocation_count() - given;
    outcome
}

/// Runs shard `ids` (see [`super::shard_ids`]) of the run [`simulate_stream`] makes, as
/// [`super::simulate_shard`] does on the whole trace: `all()` gives every function's rows (a
/// cyclic warm-up's plan reads them once), `mine()` the shard's functions' rows, in `ids`' order
/// (`bufs[k]` holds function `ids[k]`'s rows); `rows_of_mine`: their invocations, also those
/// after the horizon; `log`: where the level changes go (see [`super::simulate_shard_with`]).
pub fn simulate_shard_stream<S: ArrivalSource>(
    all: impl Fn() -> S,
    mine: impl Fn() -> S,
    facts: &Facts,
    ids: &[u32],
    rows_of_mine: u64,
    cfg: &ValidConfig,
    log: crate::outcome::shard::DeltaLog,
) -> Result<ShardOutcome, ShardRunError> {
    let cfg: &PlatformConfig = cfg;
    super::driver::check_shardable(cfg)?;
    let n = facts.functions().len();
    let (mut plan, window) = plan(&all, cfg, n, facts);
    plan.prefix = vec![Vec::new(); ids.len()];
    let (apps, _) = crate::trace::apps_of(facts.functions());
    let warm = window.map(|(from, to)| Window::new(mine(), ids.len(), from, to));
    let runner = super::driver::shard_runner(ids, cfg, 0, plan, &apps, log);
    let (runner, given) = replay(runner, mine(), warm)?;
    let mut out = runner.finish_shard(ids)?;
    out.functions_in_trace = n as u32;
    out.excluded_after_horizon = rows_of_mine - given;
    Ok(out)
}

/// The whole run's outcome from its shards' parts, as [`super::merge_shards`] makes it from the
/// held trace; `all()` gives every function's rows (a cyclic warm-up's plan reads them once).
pub fn merge_shards_stream<S: ArrivalSource>(
    all: impl Fn() -> S,
    facts: &Facts,
    cfg: &ValidConfig,
    parts: &[&ShardOutcome],
) -> Result<Outcome, ShardRunError> {
    let cfg: &PlatformConfig = cfg;
    let (plan, _) = plan(&all, cfg, facts.functions().len(), facts);
    super::driver::merge_parts(facts.functions(), &plan, cfg, parts)
}

/// Replays `src` on `runner` (made for the source's functions, in its order), after the rows
/// of `warm` on the engine's clock (a cyclic warm-up's replayed end, before any row of `src`);
/// gives back the runner with every epoch run, and the rows of `src` given. `Err`: a parallel
/// run found that the account limit binds (`ShardRunError::Coupled`).
fn replay<'c, S: ArrivalSource>(
    mut runner: Runner<'c>,
    mut src: S,
    mut warm: Option<Window<S>>,
) -> Result<(Runner<'c>, u64), ShardRunError> {
    let offset = runner.offset();
    let n = runner.functions();
    let mut bufs: Vec<Vec<Invocation>> = vec![Vec::new(); n];
    // Gives the rows of `src` up to `at_least` (its own clock), or on to the next minute that
    // has any; returns the bound before which every row of it is given (`MAX`: all).
    let fill =
        |src: &mut dyn ArrivalSource, bufs: &mut [Vec<Invocation>], at_least: Micros| match src
            .next_arrival_minute()
        {
            None => Micros::MAX,
            Some(m) => {
                let until = at_least.max(m + MINUTE);
                src.fill(until, bufs);
                if src.next_arrival_minute().is_none() {
                    Micros::MAX
                } else {
                    until
                }
            }
        };
    // Gives rows up to `at_least` on the engine's clock: the warm-up's first (its clock is the
    // engine's), then the trace's (offset by the warm-up); returns the engine-clock bound before
    // which every row is given.
    let give = |runner: &mut Runner,
                src: &mut S,
                warm: &mut Option<Window<S>>,
                bufs: &mut [Vec<Invocation>],
                at_least: Micros| {
        let complete = match warm {
            Some(w) => match fill(w, bufs, at_least) {
                Micros::MAX => {
                    *warm = None;
                    runner.extend_prefix(bufs);
                    // Every warm-up row is given, and no row of the trace comes before
                    // `offset`: give the trace's first rows too. An empty replayed end (a
                    // horizon past the trace's end) would otherwise leave the engine nothing to
                    // run, and the replay would stop before any row of the trace.
                    fill(src, bufs, at_least.saturating_sub(offset)).saturating_add(offset)
                }
                until => {
                    runner.extend_prefix(bufs);
                    // No row of the trace is given yet: none may be counted as given.
                    until.min(offset)
                }
            },
            None => fill(src, bufs, at_least.saturating_sub(offset)).saturating_add(offset),
        };
        runner
            .set_rows_to_come(|f| src.has_more(f) || warm.as_ref().is_some_and(|w| w.has_more(f)));
        complete
    };
    let mut complete = give(&mut runner, &mut src, &mut warm, &mut bufs, 0);
    {
        let slices: Vec<&[Invocation]> = bufs.iter().map(Vec::as_slice).collect();
        runner.start(&slices);
    }
    let mut ran = false;
    while let Some(end) = runner.next_end() {
        if end <= complete {
            let slices: Vec<&[Invocation]> = bufs.iter().map(Vec::as_slice).collect();
            if !runner.epoch(&slices, complete) {
                return Err(runner.coupled_error());
            }
            ran = true;
            runner.drop_taken(&mut bufs);
            continue;
        }
        // The epoch would end past the rows given: give them up to its end, or on to the next
        // minute that has any.
        complete = give(&mut runner, &mut src, &mut warm, &mut bufs, end);
        let slices: Vec<&[Invocation]> = bufs.iter().map(Vec::as_slice).collect();
        if ran {
            runner.retarget(&slices, complete);
        } else {
            runner.start(&slices);
        }
    }
    let given = src.given();
    Ok((runner, given))
}

/// The warm-up plan [`WarmPlan::new`] makes on the whole trace, without its prefix rows, and
/// for a cyclic warm-up the window of the trace that is replayed first, as `(from, to)`.
fn plan<S: ArrivalSource>(
    make: &impl Fn() -> S,
    cfg: &PlatformConfig,
    n: usize,
    facts: &Facts,
) -> (WarmPlan, Option<(Micros, Micros)>) {
    let none = WarmPlan {
        prefix: vec![Vec::new(); n],
        ..WarmPlan::default()
    };
    match cfg.warmup {
        Warmup::None => (none, None),
        Warmup::For(d) => (WarmPlan { lo: d, ..none }, None),
        Warmup::Cyclic => match cyclic(make, cfg, n, facts) {
            Some((period, w)) if w > 0 => (
                WarmPlan {
                    offset: w,
                    lo: w,
                    replayed: w,
                    ..none
                },
                Some((period - w, period)),
            ),
            _ => (none, None),
        },
    }
}

/// The cyclic span (see [`super::cyclic_span`]) from one pass over a fresh source: the period is
/// the horizon, or the minute after the last arrival (the facts give its minute); the pass finds
/// the earliest request that reaches past the period's end. `None`: no row before the horizon.
fn cyclic<S: ArrivalSource>(
    make: &impl Fn() -> S,
    cfg: &PlatformConfig,
    n: usize,
    facts: &Facts,
) -> Option<(Micros, Micros)> {
    let reach = cfg.keep_alive.longest();
    let period = match cfg.horizon {
        Some(h) => h,
        None => ceil_minute(facts.last()?.0 + 1),
    };
    let mut earliest = period;
    let mut any = false;
    each_minute(make(), n, |rows| {
        any |= !rows.is_empty();
        for i in rows {
            if i.arrival.saturating_add(i.duration).saturating_add(reach) > period {
                earliest = earliest.min(i.arrival);
            }
        }
    });
    if !any {
        return None;
    }
    let w = ceil_minute(reach)
        .max(MINUTE)
        .max(ceil_minute(period - earliest.min(period)))
        .min(period);
    Some((period, w))
}

/// Gives every row of `src`, a minute at a time, to `each(rows)`; holds one minute.
fn each_minute<S: ArrivalSource>(mut src: S, n: usize, mut each: impl FnMut(&[Invocation])) {
    let mut bufs: Vec<Vec<Invocation>> = vec![Vec::new(); n];
    while let Some(m) = src.next_arrival_minute() {
        src.fill(m + MINUTE, &mut bufs);
        for b in bufs.iter_mut() {
            if !b.is_empty() {
                each(b);
                b.clear();
            }
        }
    }
}
