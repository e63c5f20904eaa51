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
//!
//! A learning keep-alive policy keeps one state per application. The functions of an application
//! with several are then one partition of the parallel run, stepped together in (time, phase,
//! function) order as in the coupled run, and the driver lends the application's state to each
//! function for its step ([`Apps`]); what one decides for the application (a pre-warm, a
//! cancellation) is passed to the others at once. A function alone in its application holds its
//! own state and runs exactly as before.

mod waiting;

use rayon::prelude::*;

use super::function::{Account, FunctionSim, SimClock};
use super::keepalive::AppState;
use super::queue::{Key, Tournament};
use super::{PlatformConfig, ValidConfig, WarmPlan};
use crate::outcome::shard::{CorruptLog, DeltaLog, ShardOutcome};
use crate::outcome::{Collector, EpochBuffer, FunctionStats, Mode, Outcome, WarmupReport};
use crate::shard::Shard;
use crate::time::{MINUTE, Micros};
use crate::trace::{Invocation, Trace};
use waiting::Waiting;

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
    simulate_waking(trace, cfg, opts, false)
}

/// As [`simulate_with`], but a coupled run wakes every function waiting for account capacity
/// at every release, as before issue 16. Not part of the interface: the tests compare it with
/// the lazy rule, which must give the same outcome.
#[doc(hidden)]
pub fn simulate_waking_eagerly(trace: &Trace, cfg: &ValidConfig, opts: RunOptions) -> Outcome {
    simulate_waking(trace, cfg, opts, true)
}

fn simulate_waking(trace: &Trace, cfg: &ValidConfig, opts: RunOptions, eager: bool) -> Outcome {
    let cfg: &PlatformConfig = cfg;
    let force = if opts.single_thread {
        Some(Mode::Coupled)
    } else {
        opts.force
    };
    let overlap = !opts.single_thread;
    let (slices, excluded) = cut_at_horizon(trace, cfg);
    let excluded = excluded.iter().sum();
    let names: Vec<String> = trace.functions().iter().map(|f| f.name.clone()).collect();
    let mode = match force {
        Some(m) => m,
        None if slices.len() <= 1 => Mode::Coupled,
        None => Mode::Parallel,
    };
    let limit = cfg.account_concurrency.map_or(u64::MAX, u64::from);
    let plan = WarmPlan::new(cfg, &slices);
    let (apps, app_names) = trace.apps();
    let run = |mode| {
        run(
            &slices,
            cfg,
            trace.origin_us(),
            &plan,
            &apps,
            mode,
            limit,
            overlap,
            eager,
        )
    };
    let mut outcome = match mode {
        Mode::Coupled => run(Mode::Coupled),
        Mode::Parallel => run(Mode::Parallel).or_else(|| run(Mode::Coupled)),
    }
    .expect("a coupled run always completes");
    outcome.names = names;
    (outcome.apps, outcome.app_names) = (apps, app_names);
    outcome.excluded_after_horizon = excluded;
    outcome
}

/// Each function's rows before the horizon, and how many it has at or after it.
fn cut_at_horizon<'t>(trace: &'t Trace, cfg: &PlatformConfig) -> (Vec<&'t [Invocation]>, Vec<u64>) {
    (0..trace.functions().len())
        .map(|f| {
            let all = trace.function_invocations(f);
            match cfg.horizon {
                Some(h) => {
                    let n = all.partition_point(|i| i.arrival < h);
                    (&all[..n], (all.len() - n) as u64)
                }
                None => (all, 0),
            }
        })
        .unzip()
}

/// Why a shard of a run, or the merge of shards, cannot give the whole run's outcome exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardRunError {
    #[error(
        "a sharded run needs a fixed window: give the horizon (the whole run's window ends with \
         its last event, which no shard knows)"
    )]
    NoHorizon,
    #[error(
        "the account limit of {limit} binds: the functions' summed instances reach {peak}, so \
         they must run coupled in one process; a sharded run cannot be exact (run it whole, or \
         raise the account limit)"
    )]
    Coupled { limit: u64, peak: u64 },
    #[error("the parts are of a trace of {got} functions, this trace has {want}")]
    OtherTrace { want: usize, got: usize },
    #[error(
        "the parts are of another run: its window is [{got_lo}, {got_end}) µs, this one's [{want_lo}, {want_end}) µs"
    )]
    OtherWindow {
        want_lo: Micros,
        want_end: Micros,
        got_lo: Micros,
        got_end: Micros,
    },
    #[error("function {0} is in two parts")]
    Twice(String),
    #[error("function {0} is in no part")]
    Missing(String),
    #[error(
        "this run changed an instance level at a time earlier than one it had already applied; \
         its shards cannot be merged exactly (please report it, with the command)"
    )]
    OutOfOrder,
    #[error(
        "a provisioned schedule or target tracking changes a function's level on its own clock, \
         also while other shards' functions alone keep the run going: only the whole run \
         applies those changes in order, so a sharded run takes a fixed --provisioned level"
    )]
    ProvisionedPlan,
    #[error(transparent)]
    Corrupt(#[from] CorruptLog),
}

/// The key a function is sharded by: its application when it has one (a learning keep-alive
/// policy couples an application's functions), else its own name; the two kinds never collide.
pub fn shard_key(f: &crate::trace::FunctionMeta) -> String {
    match &f.app {
        Some(a) => Shard::app_key(a),
        None => Shard::function_key(&f.name),
    }
}

/// Runs shard `shard` of the run [`simulate`] makes: the functions [`shard_key`] puts in it,
/// each with the settings and random streams it has in the whole run, independently (the
/// parallel run). [`merge_shards`] puts the parts back together into exactly the whole run's
/// outcome. The window must be fixed (a horizon); the account limit must not bind.
pub fn simulate_shard(
    trace: &Trace,
    cfg: &ValidConfig,
    shard: Shard,
) -> Result<ShardOutcome, ShardRunError> {
    simulate_shard_with(trace, cfg, shard, DeltaLog::default())
}

/// [`simulate_shard`], logging the level changes into `log` (one that spills to a file:
/// [`DeltaLog::spill_to`]).
pub fn simulate_shard_with(
    trace: &Trace,
    cfg: &ValidConfig,
    shard: Shard,
    log: DeltaLog,
) -> Result<ShardOutcome, ShardRunError> {
    let cfg: &PlatformConfig = cfg;
    check_shardable(cfg)?;
    let (slices, excluded) = cut_at_horizon(trace, cfg);
    let plan = WarmPlan::new(cfg, &slices);
    let (apps, _) = trace.apps();
    let ids = shard_ids(trace.functions(), shard);
    let mine: Vec<&[Invocation]> = ids.iter().map(|&f| slices[f as usize]).collect();
    let mut part_plan = plan.clone();
    if part_plan.prefix.len() == slices.len() {
        part_plan.prefix = ids
            .iter()
            .map(|&f| std::mem::take(&mut part_plan.prefix[f as usize]))
            .collect();
    }
    let mut runner = shard_runner(&ids, cfg, trace.origin_us(), part_plan, &apps, log);
    runner.start(&mine);
    while runner.has_work() {
        if !runner.epoch(&mine, Micros::MAX) {
            return Err(runner.coupled_error());
        }
    }
    let mut out = runner.finish_shard(&ids)?;
    out.functions_in_trace = slices.len() as u32;
    out.excluded_after_horizon = ids.iter().map(|&f| excluded[f as usize]).sum();
    Ok(out)
}

/// Refuses settings whose shards cannot be merged exactly: no fixed window, or a provisioned
/// plan (its level changes after the horizon are stamped in epoch order).
pub(crate) fn check_shardable(cfg: &PlatformConfig) -> Result<(), ShardRunError> {
    if cfg.horizon.is_none() {
        return Err(ShardRunError::NoHorizon);
    }
    if cfg.provisioned_plan.is_some()
        || cfg
            .per_function
            .iter()
            .any(|(_, c)| c.provisioned_plan.is_some())
    {
        return Err(ShardRunError::ProvisionedPlan);
    }
    Ok(())
}

/// The functions (indices into `functions`) that [`shard_key`] puts in `shard`, in order.
pub fn shard_ids(functions: &[crate::trace::FunctionMeta], shard: Shard) -> Vec<u32> {
    (0..functions.len())
        .filter(|&f| shard.holds(&shard_key(&functions[f])))
        .map(|f| f as u32)
        .collect()
}

/// The parallel runner of a shard's functions `ids`, which keeps the level changes it applies
/// in `log`;
/// `apps`: the whole trace's applications (empty: each function is its own); `plan`'s prefix
/// has one entry per function of the shard, or none.
pub(crate) fn shard_runner<'c>(
    ids: &[u32],
    cfg: &'c PlatformConfig,
    origin_us: i64,
    plan: WarmPlan,
    apps: &[u32],
    log: DeltaLog,
) -> Runner<'c> {
    let part_apps: Vec<u32> = if apps.is_empty() {
        Vec::new()
    } else {
        ids.iter().map(|&f| apps[f as usize]).collect()
    };
    let limit = cfg.account_concurrency.map_or(u64::MAX, u64::from);
    let mut runner = Runner::new(
        ids.len(),
        Some(ids),
        cfg,
        origin_us,
        plan,
        &part_apps,
        Mode::Parallel,
        limit,
    );
    runner.col.keep_log(log);
    runner
}

/// The outcome of the whole run from its shards' parts (each function in exactly one part),
/// identical to [`simulate`]'s. Errors when the parts are not of this trace and settings' run,
/// or when the account limit binds (the whole run would have been coupled).
pub fn merge_shards(
    trace: &Trace,
    cfg: &ValidConfig,
    parts: &[&ShardOutcome],
) -> Result<Outcome, ShardRunError> {
    let (slices, _) = cut_at_horizon(trace, cfg);
    let plan = WarmPlan::new(cfg, &slices);
    merge_parts(trace.functions(), &plan, cfg, parts)
}

/// [`merge_shards`] on the trace's `functions` and the whole run's warm-up `plan` (only its
/// window and offset are read, not its rows).
pub(crate) fn merge_parts(
    functions_meta: &[crate::trace::FunctionMeta],
    plan: &WarmPlan,
    cfg: &PlatformConfig,
    parts: &[&ShardOutcome],
) -> Result<Outcome, ShardRunError> {
    let n = functions_meta.len();
    let horizon = plan.horizon(cfg.horizon);
    let window_end = horizon.ok_or(ShardRunError::NoHorizon)?.max(plan.lo);
    let mut functions: Vec<Option<FunctionStats>> = vec![None; n];
    let name = |f: usize| functions_meta[f].name.clone();
    for p in parts {
        if p.functions_in_trace as usize != n {
            return Err(ShardRunError::OtherTrace {
                want: n,
                got: p.functions_in_trace as usize,
            });
        }
        if (p.lo, p.window_end) != (plan.lo, window_end) {
            return Err(ShardRunError::OtherWindow {
                want_lo: plan.lo,
                want_end: window_end,
                got_lo: p.lo,
                got_end: p.window_end,
            });
        }
        for (f, stats) in &p.functions {
            let f = *f as usize;
            let slot = functions.get_mut(f).ok_or(ShardRunError::OtherTrace {
                want: n,
                got: f + 1,
            })?;
            if slot.is_some() {
                return Err(ShardRunError::Twice(name(f)));
            }
            *slot = Some(stats.clone());
        }
    }
    let mut totals = FunctionStats::default();
    let mut all = Vec::with_capacity(n);
    for (f, s) in functions.into_iter().enumerate() {
        let s = s.ok_or_else(|| ShardRunError::Missing(name(f)))?;
        totals.add(&s);
        all.push(s);
    }
    let mut col = Collector::from_shards(plan.lo, horizon, parts)?;
    col.finish(window_end);
    let limit = cfg.account_concurrency.map_or(u64::MAX, u64::from);
    if i128::from(col.peak_usage) > i128::from(limit) {
        return Err(ShardRunError::Coupled {
            limit,
            peak: col.peak_usage.max(0) as u64,
        });
    }
    let mode = if n <= 1 {
        Mode::Coupled
    } else {
        Mode::Parallel
    };
    let warmup = warmup_report(cfg, plan);
    let mut outcome = outcome_of(col, all, totals, window_end, plan.lo, mode, warmup);
    outcome.names = functions_meta.iter().map(|f| f.name.clone()).collect();
    (outcome.apps, outcome.app_names) = crate::trace::apps_of(functions_meta);
    outcome.excluded_after_horizon = parts.iter().map(|p| p.excluded_after_horizon).sum();
    Ok(outcome)
}

/// What a run reports of its warm-up before it runs (the counts come at the end).
fn warmup_report(cfg: &PlatformConfig, plan: &WarmPlan) -> WarmupReport {
    WarmupReport {
        kind: cfg.warmup.describe(),
        replayed_us: plan.replayed,
        measured_from_us: plan.lo - plan.offset,
        ..WarmupReport::default()
    }
}

/// The time of day (microseconds since midnight, in the trace's clock) of an origin.
pub(crate) fn time_of_day(origin_us: i64) -> Micros {
    origin_us.rem_euclid(super::DAY as i64) as Micros
}

/// One run. Returns `None` when a parallel run finds that the account limit would have bound.
#[allow(clippy::too_many_arguments)]
fn run(
    slices: &[&[Invocation]],
    cfg: &PlatformConfig,
    origin_us: i64,
    plan: &WarmPlan,
    apps: &[u32],
    mode: Mode,
    limit: u64,
    overlap_collector: bool,
    eager_wake: bool,
) -> Option<Outcome> {
    let mut runner = Runner::new(
        slices.len(),
        None,
        cfg,
        origin_us,
        plan.clone(),
        apps,
        mode,
        limit,
    );
    runner.overlap_collector = overlap_collector;
    runner.waiting = Waiting::new(eager_wake);
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
    /// Applications of several functions under a learning policy, if there are any.
    apps: Option<Apps>,
    col: Collector,
    /// Buffers of the previous epoch, merged while the next one runs.
    collected: Vec<EpochBuffer>,
    /// Functions whose queue waits for account capacity (coupled runs).
    waiting: Waiting,
    /// The end of the next epoch to run; `None` before `start` and once no event is left.
    t_end: Option<Micros>,
    /// The end of the last epoch run.
    last_end: Micros,
    aborted: bool,
    /// Merge the previous epoch on another rayon worker while this one runs. Off when the other
    /// core is busy already (the streaming pipeline's reader thread).
    pub overlap_collector: bool,
    /// What the epochs need to know of each function to pass over those with nothing to do
    /// (parallel runs without applications; `None`: every function is advanced every epoch).
    quiet: Option<Vec<Quiet>>,
}

/// One function's state as the epochs see it, kept in one dense array: on a day of 46,000
/// functions most of them do nothing in most minutes, and advancing each one anyway (its next
/// event, its idle instances, its buffers) was about a tenth of the run (issue 16).
///
/// Invariant: a function is passed over in an epoch only if `advance_to` would change nothing:
/// `wake` (its `quiet_until`) is at or after the epoch's end, and it has been given no row since
/// (`seen`) and no change to its prefix or to whether rows are still to come (those set `wake`
/// to 0).
#[derive(Debug, Clone, Copy)]
struct Quiet {
    /// `FunctionSim::quiet_until` when last advanced; 0: advance it next epoch.
    wake: Micros,
    /// Its next event that keeps the run going (`Micros::MAX`: none), valid if `next_ok`.
    next: Micros,
    next_ok: bool,
    /// The length of its slice of rows when `wake` and `next` were taken.
    seen: usize,
    /// Advanced in the last epoch.
    due: bool,
    /// Its output buffers hold nothing, not even capacity: while it is passed over, they need
    /// no swap and no shrink.
    settled: bool,
    /// What it was last told of rows still to come (`None`: not told yet).
    to_come: Option<bool>,
}

impl Quiet {
    const NEW: Quiet = Quiet {
        wake: 0,
        next: Micros::MAX,
        next_ok: false,
        seen: 0,
        due: true,
        settled: false,
        to_come: None,
    };

    /// It was just advanced over `arr`: what it knows now holds until something changes.
    fn advanced(&mut self, s: &FunctionSim, arr: &[Invocation]) {
        self.wake = s.quiet_until(arr);
        self.ask_next(s, arr);
        self.seen = arr.len();
    }

    fn ask_next(&mut self, s: &FunctionSim, arr: &[Invocation]) {
        self.next = s.next_event_for_run(arr).map_or(Micros::MAX, |(t, _)| t);
        self.next_ok = true;
    }

    /// Something changed outside `advance_to`: advance it next epoch, and ask it its next event.
    fn invalidate(&mut self) {
        self.wake = 0;
        self.next_ok = false;
        self.settled = false;
    }
}

impl<'c> Runner<'c> {
    /// `origin_us`: the trace's origin in its own clock (for schedules' time of day); `plan`: the
    /// warm-up (its prefix has one entry per function, or none); `apps`: each function's
    /// application (`Trace::apps`; empty: each function is its own); `ids`: each function's index
    /// in the whole trace when the run holds only some of its functions (a shard), for its
    /// settings and random streams.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        functions: usize,
        ids: Option<&[u32]>,
        cfg: &'c PlatformConfig,
        origin_us: i64,
        plan: WarmPlan,
        apps: &[u32],
        mode: Mode,
        limit: u64,
    ) -> Self {
        let clock = SimClock {
            tod0: time_of_day(origin_us - plan.offset as i64),
            offset: plan.offset,
            lo: plan.lo,
            horizon: plan.horizon(cfg.horizon),
        };
        let warmup = warmup_report(cfg, &plan);
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
        for local in 0..functions {
            let f = ids.map_or(local, |ids| ids[local] as usize);
            let prefix = prefixes.next().unwrap_or_default();
            match mode {
                Mode::Coupled => sims.push(FunctionSim::new(
                    f as u32,
                    cfg.for_function(f),
                    clock,
                    prefix,
                    &mut shared,
                )),
                Mode::Parallel => {
                    let mut acct = Account {
                        usage: 0,
                        limit: sim_limit,
                    };
                    sims.push(FunctionSim::new(
                        f as u32,
                        cfg.for_function(f),
                        clock,
                        prefix,
                        &mut acct,
                    ));
                    accounts.push(acct);
                }
            }
        }
        let apps = Apps::new(apps, &mut sims, &mut accounts);
        Runner {
            mode,
            limit,
            clock,
            warmup,
            shared,
            accounts,
            collected: sims.iter().map(|_| EpochBuffer::default()).collect(),
            sims,
            apps,
            col: Collector::new(clock.lo, clock.horizon),
            waiting: Waiting::new(false),
            t_end: None,
            last_end: MINUTE,
            aborted: false,
            overlap_collector: true,
            quiet: None,
        }
        .with_quiet()
    }

    /// Passes over quiet functions where every function is advanced on its own (parallel, no
    /// applications).
    fn with_quiet(mut self) -> Self {
        if self.mode == Mode::Parallel && self.apps.is_none() {
            self.quiet = Some(vec![Quiet::NEW; self.sims.len()]);
        }
        self
    }

    /// The earliest pending event over all functions that keeps the run going.
    fn next_event(&mut self, slices: &[&[Invocation]]) -> Option<Micros> {
        let Some(quiet) = &mut self.quiet else {
            return self
                .sims
                .iter()
                .zip(slices)
                .filter_map(|(s, a)| s.next_event_for_run(a))
                .map(|(t, _)| t)
                .min();
        };
        let mut min = Micros::MAX;
        for ((s, a), q) in self.sims.iter().zip(slices).zip(quiet.iter_mut()) {
            if q.seen != a.len() {
                // Rows were given since it was last advanced.
                q.invalidate();
                q.seen = a.len();
            }
            if !q.next_ok {
                q.ask_next(s, a);
            }
            min = min.min(q.next);
        }
        (min != Micros::MAX).then_some(min)
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

    /// The functions it runs.
    pub fn functions(&self) -> usize {
        self.sims.len()
    }

    /// The warm-up's offset: where the trace's own clock starts on the engine's.
    pub fn offset(&self) -> Micros {
        self.clock.offset
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
        let (sims, accounts, shared, waiting, apps) = (
            &mut self.sims,
            &mut self.accounts,
            &mut self.shared,
            &mut self.waiting,
            &mut self.apps,
        );
        let (col, collected) = (&mut self.col, &mut self.collected);
        // The collector merges epoch N while the functions simulate epoch N+1 (on another core
        // when there is one). Buffers swap between the two sides; the merge order stays fixed.
        let quiet = &mut self.quiet;
        let simulate = || match (mode, apps) {
            (Mode::Parallel, None) => match quiet {
                Some(quiet) => sims
                    .par_iter_mut()
                    .zip(accounts.par_iter_mut())
                    .zip(slices.par_iter())
                    .zip(quiet.par_iter_mut())
                    .for_each(|(((s, a), arr), q)| {
                        q.due = q.wake < t_end || q.seen != arr.len();
                        if q.due {
                            s.advance_to(t_end, arr, a);
                            q.advanced(s, arr);
                        }
                    }),
                None => sims
                    .par_iter_mut()
                    .zip(accounts.par_iter_mut())
                    .zip(slices.par_iter())
                    .for_each(|((s, a), arr)| s.advance_to(t_end, arr, a)),
            },
            (Mode::Parallel, Some(apps)) => apps.parallel_epoch(sims, accounts, slices, t_end),
            (Mode::Coupled, _) if sims.len() == 1 => sims[0].advance_to(t_end, slices[0], shared),
            (Mode::Coupled, apps) => {
                let mut lent = apps.as_mut().map(|a| a.lent());
                let mut all: Vec<&mut FunctionSim> = sims.iter_mut().collect();
                coupled_epoch(&mut all, slices, shared, waiting, t_end, lent.as_mut())
            }
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
        for (f, (s, b)) in self
            .sims
            .iter_mut()
            .zip(self.collected.iter_mut())
            .enumerate()
        {
            let q = self.quiet.as_mut().map(|q| &mut q[f]);
            if let Some(q) = &q
                && !q.due
                && q.settled
            {
                continue;
            }
            // Nothing happened to this function in the epoch, and its buffer still has room from
            // an earlier one: give back what its busy minutes needed (issue 14, D10). At most
            // twice per quiet stretch (the collector frees the empty buffers themselves).
            if s.out.is_empty() && s.out.heap_bytes() > 0 {
                s.shrink_to_fit();
            }
            std::mem::swap(&mut s.out, b);
            if let Some(q) = q {
                q.settled = !q.due && s.out.heap_bytes() == 0 && b.heap_bytes() == 0;
            }
        }
        self.last_end = t_end;
        self.retarget(slices, complete_before);
        true
    }

    /// Sets the next epoch's end after the last one: with the minute of the next event. While
    /// rows are still unread, the first of them (at or after `complete_before`) may come before
    /// any known event. A streaming driver calls it again once it has given more rows.
    pub fn retarget(&mut self, slices: &[&[Invocation]], complete_before: Micros) {
        let known = self.next_event(slices);
        let next = if complete_before == Micros::MAX {
            known
        } else {
            Some(known.map_or(complete_before, |t| t.min(complete_before)))
        };
        let after = self.last_end;
        self.t_end = next.map(|t| (after + MINUTE).max((t / MINUTE + 1) * MINUTE));
    }

    /// Tells each function whether rows of its own are still to be given (`more(f)`).
    pub fn set_rows_to_come(&mut self, more: impl Fn(usize) -> bool) {
        let Some(quiet) = &mut self.quiet else {
            for (f, s) in self.sims.iter_mut().enumerate() {
                s.set_rows_to_come(more(f));
            }
            return;
        };
        for (f, (s, q)) in self.sims.iter_mut().zip(quiet.iter_mut()).enumerate() {
            let more = more(f);
            if q.to_come != Some(more) {
                s.set_rows_to_come(more);
                q.to_come = Some(more);
                q.invalidate();
            }
        }
    }

    /// Moves each function's next warm-up rows (engine clock) to the end of its prefix.
    pub fn extend_prefix(&mut self, bufs: &mut [Vec<Invocation>]) {
        for (f, (s, b)) in self.sims.iter_mut().zip(bufs.iter_mut()).enumerate() {
            if !b.is_empty() {
                s.extend_prefix(b);
                if let Some(q) = &mut self.quiet {
                    q[f].invalidate();
                }
            }
        }
    }

    /// Drops from each function's rows those it has replayed (a streaming driver's buffers, and
    /// the warm-up rows it gave), so that only rows still to come are held.
    pub fn drop_taken(&mut self, bufs: &mut [Vec<Invocation>]) {
        for (f, (s, b)) in self.sims.iter_mut().zip(bufs.iter_mut()).enumerate() {
            // A function passed over in the last epoch took nothing (what it took before was
            // dropped after that epoch).
            let q = self.quiet.as_mut().map(|q| &mut q[f]);
            if q.as_ref().is_some_and(|q| !q.due) {
                continue;
            }
            s.drop_taken_prefix();
            let n = s.arrivals_taken();
            if n > 0 {
                b.drain(..n);
                s.rebase_arrivals(n);
                // Give back what a busy minute needed once the rows are gone.
                if b.capacity() > 4 * b.len() + 1024 {
                    b.shrink_to(2 * b.len());
                }
            }
            if let Some(q) = q
                && q.seen == b.len() + n
            {
                // Only taken rows went: what it knew of its next event still holds.
                q.seen = b.len();
            }
        }
    }

    /// The window's end: the horizon, or the end of the minute in which the last event fell
    /// (never before the warm-up's end).
    fn window_end(&self) -> Micros {
        self.clock
            .horizon
            .unwrap_or(self.last_end)
            .max(self.clock.lo)
    }

    /// Merges what is left, closes every function at `window_end` and returns their numbers
    /// (by run index) and sums. `None` if the run was aborted.
    fn finish_functions(
        &mut self,
        window_end: Micros,
    ) -> Option<(Vec<FunctionStats>, FunctionStats)> {
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
        Some((functions, totals))
    }

    /// Ends the run: the window is the horizon, or the end of the minute in which the last event
    /// fell. Returns `None` if the run was aborted.
    pub fn finish(mut self) -> Option<Outcome> {
        let window_end = self.window_end();
        let (functions, totals) = self.finish_functions(window_end)?;
        let mut col = self.col;
        col.finish(window_end);
        Some(outcome_of(
            col,
            functions,
            totals,
            window_end,
            self.clock.lo,
            self.mode,
            self.warmup,
        ))
    }

    /// Ends a shard's run (see [`simulate_shard`]): the functions' numbers by index in the
    /// trace, and the collector's parts before the window is closed. `None` if the account
    /// limit was exceeded within the shard.
    /// Why a shard's parallel run stopped: the account limit binds.
    pub(crate) fn coupled_error(&self) -> ShardRunError {
        ShardRunError::Coupled {
            limit: self.limit,
            peak: self.col.peak_usage.max(0) as u64,
        }
    }

    /// A shard's part of the run (its functions `ids`), once every epoch has run.
    pub(crate) fn finish_shard(mut self, ids: &[u32]) -> Result<ShardOutcome, ShardRunError> {
        let coupled = self.coupled_error();
        let window_end = self.window_end();
        let (functions, _) = self.finish_functions(window_end).ok_or(coupled)?;
        // The run's changes are applied; what closing the functions changed is pending.
        let run_log = self.col.take_log();
        self.col.keep_log(DeltaLog::default());
        self.col.end_epoch();
        let mut out = ShardOutcome {
            functions: ids.iter().copied().zip(functions).collect(),
            lo: self.clock.lo,
            window_end,
            ..ShardOutcome::default()
        };
        out.take_collector(&mut self.col, run_log, window_end);
        if !out.log.is_monotone() || !out.finish_log.is_monotone() {
            return Err(ShardRunError::OutOfOrder);
        }
        Ok(out)
    }
}

/// The outcome of a run from its closed collector and its functions' numbers.
fn outcome_of(
    col: Collector,
    functions: Vec<FunctionStats>,
    mut totals: FunctionStats,
    window_end: Micros,
    lo: Micros,
    mode: Mode,
    mut warmup: WarmupReport,
) -> Outcome {
    let window_us = window_end - lo;
    let peak_account_usage = col.peak_usage_measured().max(0) as u64;
    warmup.invocations = totals.warmup_invocations;
    warmup.cold_starts = totals.warmup_cold_starts;
    totals.peak_busy = col.minutes.iter().map(|m| m.peak_busy).max().unwrap_or(0);
    let alive_integral_us = col.minutes.iter().map(|m| m.alive_us).sum();
    Outcome {
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
        mode,
        excluded_after_horizon: 0,
        warmup,
    }
}

/// Marks a function alone in its application in [`Apps::slot`].
const ALONE: u32 = u32::MAX;

/// The applications of several functions, when the keep-alive policy learns: their states, kept
/// here and lent to each member for its step.
struct Apps {
    /// Per function, its application's index in `states`, or [`ALONE`].
    slot: Vec<u32>,
    /// Per application: its state, and its functions (ascending).
    states: Vec<AppState>,
    members: Vec<Vec<u32>>,
    /// The parallel run's partitions: single functions and whole applications, by first function.
    units: Vec<Unit>,
}

/// One partition of a parallel run.
enum Unit {
    Alone(u32),
    /// An application's index in `Apps::states`, and its members' local view: every member in
    /// slot 0 and the members as local indices 0..n.
    App(u32, Vec<u32>, Vec<Vec<u32>>),
}

/// What [`coupled_epoch`] needs to lend application states: per (local) function its slot, the
/// states, and per slot its (local) members.
struct Lent<'a> {
    slot: &'a [u32],
    states: &'a mut [AppState],
    members: &'a [Vec<u32>],
}

impl Apps {
    /// `None` unless the policy learns and an application has several functions. Moves each such
    /// application's state out of its first function (so it draws from that function's stream,
    /// as a lone function does), and in a parallel run pools its members' account usage in the
    /// first member's account.
    fn new(apps: &[u32], sims: &mut [FunctionSim], accounts: &mut [Account]) -> Option<Apps> {
        if apps.len() != sims.len() || !sims.first().is_some_and(|s| s.app.ka.learns()) {
            return None;
        }
        let mut count = vec![0u32; apps.iter().max().map_or(0, |&a| a as usize + 1)];
        for &a in apps {
            count[a as usize] += 1;
        }
        if count.iter().all(|&n| n <= 1) {
            return None;
        }
        let mut of_app = vec![ALONE; count.len()];
        let mut slot = vec![ALONE; sims.len()];
        let mut states = Vec::new();
        let mut members: Vec<Vec<u32>> = Vec::new();
        let mut units = Vec::new();
        for (f, &a) in apps.iter().enumerate() {
            if count[a as usize] == 1 {
                units.push(Unit::Alone(f as u32));
                continue;
            }
            let s = &mut of_app[a as usize];
            if *s == ALONE {
                *s = states.len() as u32;
                let mut state = std::mem::replace(&mut sims[f].app, AppState::lent());
                state.shared = true;
                states.push(state);
                members.push(Vec::new());
                units.push(Unit::App(*s, Vec::new(), Vec::new()));
            } else {
                sims[f].app = AppState::lent();
                let first = members[*s as usize][0] as usize;
                if !accounts.is_empty() {
                    let moved = std::mem::take(&mut accounts[f].usage);
                    accounts[first].usage += moved;
                }
            }
            slot[f] = *s;
            members[*s as usize].push(f as u32);
            sims[f].in_shared_app = true;
        }
        for u in &mut units {
            if let Unit::App(s, local_slot, local_members) = u {
                let n = members[*s as usize].len() as u32;
                *local_slot = vec![0; n as usize];
                *local_members = vec![(0..n).collect()];
            }
        }
        Some(Apps {
            slot,
            states,
            members,
            units,
        })
    }

    /// The whole run's view, for a coupled epoch.
    fn lent(&mut self) -> Lent<'_> {
        Lent {
            slot: &self.slot,
            states: &mut self.states,
            members: &self.members,
        }
    }

    /// One epoch of a parallel run: each lone function advances alone, each application's
    /// functions together as a coupled epoch of their own (on the first member's account).
    fn parallel_epoch(
        &mut self,
        sims: &mut [FunctionSim],
        accounts: &mut [Account],
        slices: &[&[Invocation]],
        t_end: Micros,
    ) {
        let mut cells: Vec<Option<(&mut FunctionSim, &mut Account)>> =
            sims.iter_mut().zip(accounts.iter_mut()).map(Some).collect();
        let mut states: Vec<Option<&mut AppState>> = self.states.iter_mut().map(Some).collect();
        let jobs: Vec<_> = self
            .units
            .iter()
            .map(|u| match u {
                Unit::Alone(f) => (vec![cells[*f as usize].take()], None, u),
                Unit::App(s, _, _) => (
                    self.members[*s as usize]
                        .iter()
                        .map(|&f| cells[f as usize].take())
                        .collect(),
                    states[*s as usize].take(),
                    u,
                ),
            })
            .collect();
        let members = &self.members;
        jobs.into_par_iter().for_each(|(cells, state, unit)| {
            let (mut group, mut accts): (Vec<&mut FunctionSim>, Vec<&mut Account>) =
                cells.into_iter().flatten().unzip();
            match (unit, state) {
                (Unit::App(s, local_slot, local_members), Some(state)) => {
                    let arrivals: Vec<&[Invocation]> = members[*s as usize]
                        .iter()
                        .map(|&f| slices[f as usize])
                        .collect();
                    let mut lent = Lent {
                        slot: local_slot,
                        states: std::slice::from_mut(state),
                        members: local_members,
                    };
                    // No account limit here: nothing waits for it.
                    let mut waiting = Waiting::new(false);
                    let account = &mut *accts[0];
                    coupled_epoch(
                        &mut group,
                        &arrivals,
                        account,
                        &mut waiting,
                        t_end,
                        Some(&mut lent),
                    );
                }
                (Unit::Alone(f), _) => {
                    group[0].advance_to(t_end, slices[*f as usize], accts[0]);
                }
                (Unit::App(..), None) => unreachable!("each application's state is taken once"),
            }
        });
    }
}

/// Steps all functions in global (time, phase, function) order until `t_end`. With `apps`, each
/// function of an application of several steps with the application's state, and what it
/// decides for the application reaches the others before the next event.
/// (One instance for both callers: `sims` are references.)
///
/// The queue holds each function's next event before `t_end`, one entry per function: every
/// change of a function's next event (its own step, a wake-up, an application's signal) is
/// followed by [`Tournament::set`] or [`Tournament::clear`], so the root is always the next
/// event of the run.
#[inline(never)]
fn coupled_epoch(
    sims: &mut [&mut FunctionSim],
    slices: &[&[Invocation]],
    account: &mut Account,
    waiting: &mut Waiting,
    t_end: Micros,
    mut apps: Option<&mut Lent>,
) {
    // The function's next event before `t_end` into the queue, or its slot emptied.
    let reschedule =
        |queue: &mut Queue, sim: &FunctionSim, arrivals: &[Invocation], f: u32| match sim
            .next_event(arrivals)
            .filter(|&(t, _)| t < t_end)
        {
            Some((t, p)) => queue.set(Key::new(t, p, f)),
            None => queue.clear(f),
        };
    let mut queue = Queue::new(sims.len());
    for (f, s) in sims.iter_mut().enumerate() {
        s.out.set_epoch_end(t_end);
        reschedule(&mut queue, s, slices[f], f as u32);
    }
    while let Some(key) = queue.min() {
        let (t, phase, f) = (key.time(), key.phase(), key.function());
        let sim: &mut FunctionSim = sims[f as usize];
        let arrivals = slices[f as usize];
        debug_assert_eq!(
            sim.next_event(arrivals),
            Some((t, phase)),
            "a stale queue entry"
        );
        if waiting.wake_before(f, t, phase) {
            // Woken before this step, as the eager rule had woken it at the release.
            sim.wake(t);
            waiting.woken_before_step(f);
            reschedule(&mut queue, sim, arrivals, f);
            continue;
        }
        let before = account.usage;
        let app = apps
            .as_deref_mut()
            .map(|a| (a.slot[f as usize], &mut *a))
            .filter(|&(s, _)| s != ALONE);
        match app {
            None => sim.step_event(t, phase, arrivals, account),
            Some((s, lent)) => {
                let state = &mut lent.states[s as usize];
                std::mem::swap(&mut sim.app, state);
                sim.step_event(t, phase, arrivals, account);
                std::mem::swap(&mut sim.app, state);
                if let Some(signal) = state.signal.take() {
                    for &g in &lent.members[s as usize] {
                        if g == f {
                            continue;
                        }
                        let other: &mut FunctionSim = sims[g as usize];
                        other.app_signal(signal);
                        reschedule(&mut queue, other, slices[g as usize], g);
                    }
                }
            }
        }
        let released = account.usage < before;
        let headroom = account.limit.saturating_sub(account.usage);
        for &g in waiting.after_step(f, sims, t, released, headroom) {
            let s: &mut FunctionSim = sims[g as usize];
            s.wake(t);
            reschedule(&mut queue, s, slices[g as usize], g);
        }
        reschedule(&mut queue, sims[f as usize], arrivals, f);
    }
    waiting.end_epoch();
    for s in sims.iter_mut() {
        s.end_epoch(t_end);
    }
}

/// The coupled epoch's queue (candidates measured in BENCHMARKS.md, issue 16).
type Queue = Tournament;

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
            let mut runner = Runner::new(n, None, &cfg, 0, plan.clone(), &[], mode, u64::MAX);
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
