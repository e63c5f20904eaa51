//! Property tests: engine invariants on random small traces and settings (proptest, a fixed
//! number of cases and a fixed seed, so a run is reproducible and takes a few seconds).
//!
//! - conservation: every invocation is warm, cold, throttled or dead-lettered, per function, per
//!   minute and in total, whatever the limits, triggers and keep-alive;
//! - parallel = coupled: with an account limit that never binds, the two schedules give the same
//!   bytes;
//! - streaming = buffered: reading and simulating at once equals reading, then simulating;
//! - a bill never decreases when usage grows: more invocations (a later, separate burst) or
//!   longer durations never lower any shipped offering's bill for the same window.

use std::io::Write;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use faasplan::cost::{BillOptions, bill};
use faasplan::engine::{
    FixedKeepAlive, InitDist, PlatformConfig, ScalingRate, Warmup, simulate, simulate_mode,
};
use faasplan::offering::{Offering, shipped};
use faasplan::outcome::{Mode, UsageSpec};
use faasplan::pipeline::read_and_simulate_streamed;
use faasplan::time::{MINUTE, Micros, SECOND};
use faasplan::trace::canonical::{ReadOptions, read_path};
use faasplan::trace::{Trace, TraceBuilder, Trigger};

use crate::common::assert_conserved;
use crate::determinism::json;
use crate::pipeline::fingerprint;

/// Cases per property: with traces of at most 60 rows, all four properties take a few seconds
/// in a debug build.
const CASES: u32 = 64;

/// Runs `test` on `CASES` values of `strategy`, from a fixed seed.
fn check<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

/// One trace row: arrival (ms, in the first 10 minutes), function, duration (ms), memory, trigger.
#[derive(Debug, Clone, Copy)]
struct Row {
    at_ms: u32,
    function: u8,
    duration_ms: u32,
    memory_mb: u16,
    trigger: Trigger,
}

fn rows(functions: u8, triggers: &'static [Trigger]) -> impl Strategy<Value = Vec<Row>> {
    rows_over(functions, 600_000, triggers)
}

/// As [`rows`], with arrivals over `span_ms`.
fn rows_over(
    functions: u8,
    span_ms: u32,
    triggers: &'static [Trigger],
) -> impl Strategy<Value = Vec<Row>> {
    let row = (
        0u32..span_ms,
        0..functions,
        1u32..30_000,
        prop::sample::select(vec![128u16, 512, 1024]),
        prop::sample::select(triggers),
    )
        .prop_map(|(at_ms, function, duration_ms, memory_mb, trigger)| Row {
            at_ms,
            function,
            duration_ms,
            memory_mb,
            trigger,
        });
    prop::collection::vec(row, 1..60)
}

const ALL_TRIGGERS: &[Trigger] = &[Trigger::Sync, Trigger::Async, Trigger::Queue];

/// The rows as a trace, each shifted by `offset_ms` and its duration multiplied by `stretch`.
fn trace(rows: &[Row], offset_ms: u32, stretch: u32) -> Trace {
    let mut b = TraceBuilder::new();
    // Time 0 is the start of the window in every trace, whichever rows it has.
    b.origin_at_most(0);
    for r in rows {
        let f = b.function_id(&format!("f{}", r.function));
        b.push(
            i64::from(r.at_ms + offset_ms) * 1_000,
            f,
            Micros::from(r.duration_ms * stretch) * 1_000,
            r.memory_mb,
            r.trigger,
        );
    }
    b.finish()
}

/// Platform settings: limits that bind or not, several requests per instance, provisioned
/// instances, a scaling rate, lognormal init times.
#[derive(Debug, Clone)]
struct Settings {
    keep_alive_s: u64,
    per_instance: u32,
    provisioned: u32,
    max_concurrency: Option<u32>,
    account: Option<u32>,
    scaling: Option<(u32, u64)>,
    init_p50_ms: f64,
    seed: u64,
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        1u64..=600,
        1u32..=4,
        0u32..=2,
        prop::option::of(2u32..=6),
        prop::option::of(1u32..=8),
        prop::option::of((1u32..=5, 1u64..=10)),
        10.0f64..800.0,
        any::<u64>(),
    )
        .prop_map(
            |(keep_alive_s, per_instance, provisioned, max, account, scaling, init, seed)| {
                Settings {
                    keep_alive_s,
                    per_instance,
                    provisioned,
                    max_concurrency: max,
                    account,
                    scaling,
                    init_p50_ms: init,
                    seed,
                }
            },
        )
}

impl Settings {
    fn config(&self) -> PlatformConfig {
        let init = InitDist::lognormal(self.init_p50_ms, self.init_p50_ms * 3.0).unwrap();
        let mut cfg = PlatformConfig::lambda_defaults(init);
        cfg.keep_alive = Arc::new(FixedKeepAlive(self.keep_alive_s * SECOND));
        cfg.per_instance_concurrency = self.per_instance;
        cfg.provisioned = self.provisioned;
        cfg.max_concurrency = self.max_concurrency;
        cfg.account_concurrency = self.account;
        cfg.scaling = self.scaling.map(|(burst, every_s)| ScalingRate {
            burst,
            refill_every: every_s * SECOND,
        });
        // Short retries and queue waits, so that refused requests resolve within a small trace.
        cfg.queue_max_wait = 30 * SECOND;
        cfg.retry.max_age = 10 * MINUTE;
        cfg.seed = self.seed;
        cfg
    }
}

#[test]
fn every_invocation_is_warm_cold_throttled_or_dead_lettered() {
    check(
        (rows(3, ALL_TRIGGERS), settings(), any::<bool>()),
        |(rows, s, cyclic)| {
            let trace = trace(&rows, 0, 1);
            let mut cfg = s.config();
            cfg.warmup = if cyclic { Warmup::Cyclic } else { Warmup::None };
            // Settings the platform refuses (more provisioned than the function limit) are
            // not cases.
            let Ok(valid) = cfg.validate_for(&trace) else {
                return Ok(());
            };
            let o = simulate(&trace, &valid);
            assert_conserved(&o);
            prop_assert_eq!(o.totals.invocations, trace.len() as u64);
            Ok(())
        },
    );
}

#[test]
fn parallel_equals_coupled_when_the_account_limit_never_binds() {
    check((rows(3, ALL_TRIGGERS), settings()), |(rows, s)| {
        let trace = trace(&rows, 0, 1);
        let mut cfg = s.config();
        // More than every function's instances together can ever use.
        cfg.account_concurrency = Some(10_000);
        let Ok(valid) = cfg.validate_for(&trace) else {
            return Ok(());
        };
        let parallel = simulate_mode(&trace, &valid, Some(Mode::Parallel));
        let coupled = simulate_mode(&trace, &valid, Some(Mode::Coupled));
        prop_assert_eq!(parallel.mode, Mode::Parallel);
        prop_assert_eq!(coupled.mode, Mode::Coupled);
        prop_assert_eq!(json(&parallel), json(&coupled));
        Ok(())
    });
}

/// A parallel run passes over the functions with nothing to do in an epoch (issue 16); a coupled
/// run steps every event of every function. Sparse rows of many functions over two hours, with
/// keep-alives that end in quiet minutes and, in some cases, an instance lifetime limit.
#[test]
fn passing_over_quiet_functions_changes_nothing() {
    check(
        (
            rows_over(12, 7_200_000, ALL_TRIGGERS),
            settings(),
            prop::option::of(60u64..=1_800),
        ),
        |(rows, s, lifetime_s)| {
            let trace = trace(&rows, 0, 1);
            let mut cfg = s.config();
            cfg.account_concurrency = Some(10_000);
            cfg.max_lifetime = lifetime_s.map(|l| l * SECOND);
            let Ok(valid) = cfg.validate_for(&trace) else {
                return Ok(());
            };
            let parallel = simulate_mode(&trace, &valid, Some(Mode::Parallel));
            let coupled = simulate_mode(&trace, &valid, Some(Mode::Coupled));
            prop_assert_eq!(json(&parallel), json(&coupled));
            Ok(())
        },
    );
}

#[test]
fn streaming_equals_reading_then_simulating() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    check(
        (rows(1, ALL_TRIGGERS), settings(), any::<bool>()),
        |(mut rows, s, cyclic)| {
            // One function in arrival order: the rows the pipeline streams.
            rows.sort_by_key(|r| r.at_ms);
            let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            writeln!(w, "timestamp_ms,function,duration_ms,memory_mb,trigger").unwrap();
            for r in &rows {
                let trigger = r.trigger.as_str();
                let (at, d, mb) = (r.at_ms, r.duration_ms, r.memory_mb);
                writeln!(w, "{at},f,{d},{mb},{trigger}").unwrap();
            }
            w.into_inner().unwrap().sync_all().unwrap();
            let mut cfg = s.config();
            cfg.warmup = if cyclic { Warmup::Cyclic } else { Warmup::None };
            let opts = ReadOptions::default();
            let (trace, _) = read_path(&path, &opts).unwrap();
            let Ok(valid) = cfg.validate_for(&trace) else {
                return Ok(());
            };
            let buffered = simulate(&trace, &valid);
            let (_, _, streamed, overlapped) =
                read_and_simulate_streamed(&path, &opts, &cfg, None).unwrap();
            // A cyclic warm-up streams only from a file large enough to plan it from its tail;
            // these small ones are read first (the fallback, which must agree too).
            prop_assert!(overlapped || cyclic, "the run streamed");
            prop_assert_eq!(fingerprint(&streamed), fingerprint(&buffered));
            Ok(())
        },
    );
}

/// Every shipped offering, and the usage each bills by.
fn offerings() -> (Vec<Offering>, UsageSpec) {
    let all: Vec<Offering> = shipped::names()
        .into_iter()
        .map(|n| Offering::resolve(n).unwrap())
        .collect();
    let usage = all
        .iter()
        .fold(UsageSpec::default(), |u, o| u.union(&o.usage_spec()));
    (all, usage)
}

/// The window bill of `trace` on every offering, in their order.
fn bills(trace: &Trace, cfg: &PlatformConfig, offerings: &[Offering]) -> Vec<f64> {
    let o = simulate(trace, &cfg.validate_for(trace).unwrap());
    offerings
        .iter()
        .map(|off| bill(&o, off, &BillOptions::default()).unwrap().window_usd)
        .collect()
}

/// More invocations: the same rows plus a burst that starts after the first rows' instances
/// have all expired (20 minutes later), in the same 40-minute window. The first part is simulated
/// exactly as without the burst, so the bill grows by what the burst costs, which is never
/// negative, whatever the limits.
#[test]
fn more_invocations_never_cost_less() {
    let (offerings, usage) = offerings();
    check(
        (
            rows(2, &[Trigger::Sync]),
            rows(2, &[Trigger::Sync]),
            settings(),
        ),
        |(first, burst, s)| {
            let mut cfg = s.config();
            cfg.horizon = Some(40 * MINUTE);
            cfg.usage = usage.clone();
            if cfg.validate(2).is_err() {
                return Ok(());
            }
            let mut both = first.clone();
            both.extend(burst.iter().map(|r| Row {
                at_ms: r.at_ms + 1_200_000,
                ..*r
            }));
            let fewer = bills(&trace(&first, 0, 1), &cfg, &offerings);
            let more = bills(&trace(&both, 0, 1), &cfg, &offerings);
            for ((o, a), b) in offerings.iter().zip(&fewer).zip(&more) {
                prop_assert!(b >= a, "{}: {b} < {a}", o.meta.name);
            }
            Ok(())
        },
    );
}

/// Longer durations: every duration multiplied by 2 or 3, on a platform where an instance, once
/// started, lives to the window's end (no limits, init 0, a day's keep-alive). Then at every
/// instant at least as many requests are in flight, every instance starts no later, and each
/// execution is no shorter: no usage a sheet bills by shrinks.
#[test]
fn longer_durations_never_cost_less() {
    let (offerings, usage) = offerings();
    check(
        (rows(2, &[Trigger::Sync]), 2u32..=3, any::<u64>()),
        |(rows, stretch, seed)| {
            let mut cfg = PlatformConfig::lambda_defaults(InitDist::Constant(0));
            cfg.keep_alive = Arc::new(FixedKeepAlive(24 * 3_600 * SECOND));
            cfg.account_concurrency = None;
            cfg.scaling = None;
            cfg.horizon = Some(20 * MINUTE);
            cfg.usage = usage.clone();
            cfg.seed = seed;
            let shorter = bills(&trace(&rows, 0, 1), &cfg, &offerings);
            let longer = bills(&trace(&rows, 0, stretch), &cfg, &offerings);
            for ((o, a), b) in offerings.iter().zip(&shorter).zip(&longer) {
                prop_assert!(b >= a, "{}: {b} < {a}", o.meta.name);
            }
            Ok(())
        },
    );
}

#[test]
fn merged_shards_equal_the_whole_run() {
    use faasplan::engine::{ShardRunError, merge_shards, simulate_shard};
    use faasplan::outcome::shard::ShardOutcome;
    use faasplan::shard::Shard;
    check(
        (rows(4, ALL_TRIGGERS), settings(), 1u32..=5, 5u64..=40),
        |(rows, s, n, horizon_min)| {
            let trace = trace(&rows, 0, 1);
            let mut cfg = s.config();
            cfg.horizon = Some(horizon_min * MINUTE);
            let Ok(valid) = cfg.validate_for(&trace) else {
                return Ok(());
            };
            let whole = simulate_mode(&trace, &valid, None);
            let parts: Result<Vec<ShardOutcome>, ShardRunError> = (0..n)
                .map(|i| simulate_shard(&trace, &valid, Shard::new(i, n).unwrap()))
                .collect();
            let merged = parts.and_then(|parts| {
                let refs: Vec<&ShardOutcome> = parts.iter().collect();
                merge_shards(&trace, &valid, &refs)
            });
            match merged {
                // Refused only where the whole run's functions had to run coupled.
                Err(ShardRunError::Coupled { .. }) => {
                    prop_assert!(
                        whole.mode == Mode::Coupled,
                        "refused, but the whole run was parallel"
                    );
                }
                Err(e) => prop_assert!(false, "{e}"),
                Ok(m) => {
                    prop_assert_eq!(json(&m), json(&whole));
                }
            }
            Ok(())
        },
    );
}
