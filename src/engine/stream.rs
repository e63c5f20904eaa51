//! The streamed replay (issue 16): the engine asks an [`ArrivalSource`] for each function's rows
//! just before it needs them and drops the rows it has replayed, so memory holds the functions,
//! the live instances and about a minute of arrivals, not the trace.
//!
//! Invariant: the outcome is the one [`super::simulate_mode`] gives on the trace the source
//! would make, byte for byte. The epochs are the same: an epoch runs only once every row before
//! its end has been given ([`Runner::retarget`] caps the next end at the rows given, so an epoch
//! whose end depends on rows not given yet waits for them), and each function knows whether rows
//! of its own are still to come (a pre-warm with nothing after it is no event in either replay).

use super::driver::Runner;
use super::{PlatformConfig, ValidConfig, WarmPlan, Warmup};
use crate::outcome::{Mode, Outcome};
use crate::time::{MINUTE, Micros, ceil_minute};
use crate::trace::Invocation;
use crate::trace::facts::{Facts, TraceFacts};
use crate::trace::stream::ArrivalSource;

/// Replays the trace `make()` gives (each call a fresh source of the same rows, cut at
/// `cfg.horizon`) whose facts are `facts`, on `cfg`; `force` picks the scheduling as in
/// [`super::simulate_mode`]. The source is read once more for a cyclic warm-up (twice when the
/// replayed end reaches back past the keep-alive), and again if a parallel run finds that the
/// account limit binds.
pub fn simulate_stream<S: ArrivalSource>(
    make: impl Fn() -> S,
    facts: &Facts,
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
    let plan = plan(&make, cfg, n, facts);
    let (apps, app_names) = crate::trace::apps_of(facts.functions());
    let run = |mode| run(make(), n, cfg, &plan, &apps, mode, limit);
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

/// One replay of `src`. `None` when a parallel run finds that the account limit binds.
fn run<S: ArrivalSource>(
    mut src: S,
    n: usize,
    cfg: &PlatformConfig,
    plan: &WarmPlan,
    apps: &[u32],
    mode: Mode,
    limit: u64,
) -> Option<(Outcome, u64)> {
    let offset = plan.offset;
    let mut bufs: Vec<Vec<Invocation>> = vec![Vec::new(); n];
    let mut runner = Runner::new(n, None, cfg, 0, plan.clone(), apps, mode, limit);
    let give = |src: &mut S, bufs: &mut [Vec<Invocation>], at_least: Micros| match src
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
    // Every row before `complete` (the trace's clock) has been given; `Micros::MAX`: all of them.
    let mut complete = give(&mut src, &mut bufs, 0);
    runner.set_rows_to_come(|f| src.has_more(f));
    let engine = |c: Micros| c.saturating_add(offset);
    {
        let slices: Vec<&[Invocation]> = bufs.iter().map(Vec::as_slice).collect();
        runner.start(&slices);
    }
    let mut ran = false;
    while let Some(end) = runner.next_end() {
        if end <= engine(complete) {
            let slices: Vec<&[Invocation]> = bufs.iter().map(Vec::as_slice).collect();
            if !runner.epoch(&slices, engine(complete)) {
                return None;
            }
            ran = true;
            runner.drop_taken(&mut bufs);
            continue;
        }
        // The epoch would end past the rows given: give them up to its end, or on to the next
        // minute that has any.
        complete = give(&mut src, &mut bufs, end.saturating_sub(offset));
        runner.set_rows_to_come(|f| src.has_more(f));
        let slices: Vec<&[Invocation]> = bufs.iter().map(Vec::as_slice).collect();
        if ran {
            runner.retarget(&slices, engine(complete));
        } else {
            runner.start(&slices);
        }
    }
    let given = src.given();
    runner.finish().map(|o| (o, given))
}

/// The warm-up plan [`WarmPlan::new`] makes on the whole trace, from passes over fresh sources.
fn plan<S: ArrivalSource>(
    make: &impl Fn() -> S,
    cfg: &PlatformConfig,
    n: usize,
    facts: &Facts,
) -> WarmPlan {
    let none = WarmPlan {
        prefix: vec![Vec::new(); n],
        ..WarmPlan::default()
    };
    match cfg.warmup {
        Warmup::None => none,
        Warmup::For(d) => WarmPlan { lo: d, ..none },
        Warmup::Cyclic => cyclic(make, cfg, n, facts).unwrap_or(none),
    }
}

/// The cyclic plan (see [`super::cyclic_span`]): the period is the horizon, or the minute after
/// the last arrival (the facts give its minute). A first pass finds the earliest request that
/// reaches past the period's end and keeps the rows within the keep-alive of the end; a second
/// pass is needed only when that request comes earlier. `None`: no row before the horizon.
fn cyclic<S: ArrivalSource>(
    make: &impl Fn() -> S,
    cfg: &PlatformConfig,
    n: usize,
    facts: &Facts,
) -> Option<WarmPlan> {
    let reach = cfg.keep_alive.longest();
    let period = match cfg.horizon {
        Some(h) => h,
        None => ceil_minute(facts.last()?.0 + 1),
    };
    let base = ceil_minute(reach).max(MINUTE).min(period);
    let mut tail: Vec<Vec<Invocation>> = vec![Vec::new(); n];
    let mut earliest = period;
    let mut any = false;
    each_minute(make(), n, |f, rows| {
        any |= !rows.is_empty();
        for i in rows {
            if i.arrival.saturating_add(i.duration).saturating_add(reach) > period {
                earliest = earliest.min(i.arrival);
            }
        }
        let from = rows.partition_point(|i| i.arrival < period - base);
        tail[f].extend_from_slice(&rows[from..]);
    });
    if !any {
        return None;
    }
    let w = base
        .max(ceil_minute(period - earliest.min(period)))
        .min(period);
    if w > base {
        for t in &mut tail {
            t.clear();
        }
        each_minute(make(), n, |f, rows| {
            let from = rows.partition_point(|i| i.arrival < period - w);
            tail[f].extend_from_slice(&rows[from..]);
        });
    }
    let slices: Vec<&[Invocation]> = tail.iter().map(Vec::as_slice).collect();
    Some(WarmPlan::cyclic(period, w, &slices))
}

/// Gives every row of `src`, a minute at a time, to `each(function, rows)`; holds one minute.
fn each_minute<S: ArrivalSource>(mut src: S, n: usize, mut each: impl FnMut(usize, &[Invocation])) {
    let mut bufs: Vec<Vec<Invocation>> = vec![Vec::new(); n];
    while let Some(m) = src.next_arrival_minute() {
        src.fill(m + MINUTE, &mut bufs);
        for (f, b) in bufs.iter_mut().enumerate() {
            if !b.is_empty() {
                each(f, b);
                b.clear();
            }
        }
    }
}
