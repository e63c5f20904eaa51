//! Issue 16: a coupled run wakes only the functions whose retry can matter when account capacity
//! comes back (the lazy rule in `src/engine/driver/waiting.rs`). The oracle is the eager rule
//! it replaced (every waiting function woken at every release), kept for these tests: both must
//! give the same outcome, field for field and byte for byte, on runs where many queues wait.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use faasplan::engine::{
    FixedKeepAlive, InitDist, KeepAliveSpec, PlatformConfig, ProvisionedPlan, RunOptions,
    ScalingRate, Schedule, simulate_waking_eagerly, simulate_with,
};
use faasplan::outcome::{Mode, Outcome};
use faasplan::time::{Micros, SECOND};
use faasplan::trace::{Trace, TraceBuilder, Trigger};

use crate::common::assert_conserved;
use crate::determinism::json;

/// The coupled run under both rules; panics unless they agree on everything.
fn lazy_and_eager(trace: &Trace, cfg: &PlatformConfig) -> Result<Outcome, TestCaseError> {
    let valid = cfg.validate_for(trace).unwrap();
    let opts = RunOptions {
        force: Some(Mode::Coupled),
        single_thread: true,
    };
    let lazy = simulate_with(trace, &valid, opts);
    let eager = simulate_waking_eagerly(trace, &valid, opts);
    prop_assert_eq!(format!("{lazy:?}"), format!("{eager:?}"));
    prop_assert_eq!(json(&lazy), json(&eager));
    Ok(lazy)
}

/// One row: arrival (in steps of 50 ms, so that arrivals, completions and expiries often fall
/// on the same microsecond), function, duration (ms; zero-length ones release at the instant
/// they start), trigger.
#[derive(Debug, Clone, Copy)]
struct Row {
    at: u32,
    function: u8,
    duration_ms: u32,
    trigger: Trigger,
}

fn rows() -> impl Strategy<Value = Vec<Row>> {
    let row = (
        0u32..2_400,
        0u8..6,
        prop_oneof![Just(0u32), 1u32..400, 1_000u32..20_000],
        prop::sample::select(vec![
            Trigger::Queue,
            Trigger::Queue,
            Trigger::Queue,
            Trigger::Sync,
            Trigger::Async,
        ]),
    )
        .prop_map(|(at, function, duration_ms, trigger)| Row {
            at,
            function,
            duration_ms,
            trigger,
        });
    prop::collection::vec(row, 1..250)
}

fn trace(rows: &[Row]) -> Trace {
    let mut b = TraceBuilder::new();
    b.origin_at_most(0);
    for r in rows {
        let f = b.function_id(&format!("f{}", r.function));
        let memory = [128u16, 512, 1024][usize::from(r.function) % 3];
        b.push(
            i64::from(r.at) * 50_000,
            f,
            Micros::from(r.duration_ms) * 1_000,
            memory,
            r.trigger,
        );
    }
    b.finish()
}

/// Settings that make queues wait for the account: a limit of 1 to 5, short queue waits that
/// expire, and the features whose state decides whether a retry can do anything (provisioned
/// instances and a schedule that changes them, several requests per instance, function limits,
/// a scaling rate, zero or random init times, a learning keep-alive policy that pre-warms).
#[derive(Debug, Clone)]
struct Settings {
    account: u32,
    queue_wait_ms: u64,
    keep_alive_s: u64,
    hybrid: bool,
    per_instance: u32,
    provisioned: u32,
    schedule: bool,
    max_concurrency: Option<u32>,
    scaling: Option<(u32, u64)>,
    zero_init: bool,
    seed: u64,
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        (1u32..=5, 50u64..20_000, 1u64..=120, any::<bool>()),
        (1u32..=3, 0u32..=2, any::<bool>()),
        (
            prop::option::of(1u32..=4),
            prop::option::of((1u32..=3, 1u64..=3_000)),
            any::<bool>(),
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (account, queue_wait_ms, keep_alive_s, hybrid),
                (per_instance, provisioned, schedule),
                (max_concurrency, scaling, zero_init, seed),
            )| Settings {
                account,
                queue_wait_ms,
                keep_alive_s,
                hybrid,
                per_instance,
                provisioned,
                schedule,
                max_concurrency,
                scaling,
                zero_init,
                seed,
            },
        )
}

impl Settings {
    fn config(&self, functions: u32) -> PlatformConfig {
        let init = if self.zero_init {
            InitDist::Constant(0)
        } else {
            InitDist::lognormal(80.0, 400.0).unwrap()
        };
        let mut cfg = PlatformConfig::lambda_defaults(init);
        cfg.keep_alive = if self.hybrid {
            KeepAliveSpec::parse("hybrid:1h").unwrap().policy()
        } else {
            Arc::new(FixedKeepAlive(self.keep_alive_s * SECOND))
        };
        // Above what the provisioned instances of every function hold, by 1 to 5.
        let held = self.provisioned + u32::from(self.schedule);
        cfg.account_concurrency = Some(self.account + held * functions);
        cfg.queue_max_wait = self.queue_wait_ms * 1_000;
        cfg.retry.max_age = 60 * SECOND;
        cfg.per_instance_concurrency = self.per_instance;
        if self.schedule {
            // One minute with one more provisioned instance, then none: a raise (acquisition)
            // and a lowering (release) on the plan's ticks.
            let s = format!("00:01-00:02={},else=0", self.provisioned + 1);
            cfg.provisioned_plan = Some(ProvisionedPlan::Schedule(Schedule::parse(&s).unwrap()));
        } else {
            cfg.provisioned = self.provisioned;
        }
        cfg.max_concurrency = self
            .max_concurrency
            .map(|m| m.max(self.provisioned + u32::from(self.schedule)));
        cfg.scaling = self.scaling.map(|(burst, every_ms)| ScalingRate {
            burst,
            refill_every: every_ms * 1_000,
        });
        cfg.seed = self.seed;
        cfg
    }
}

#[test]
fn waking_only_the_functions_that_can_win_gives_the_eager_outcome() {
    let config = Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[16; 32]);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let result = runner.run(&(rows(), settings()), |(rows, s)| {
        let trace = trace(&rows);
        let cfg = s.config(trace.functions().len() as u32);
        if cfg.validate_for(&trace).is_err() {
            return Ok(());
        }
        let o = lazy_and_eager(&trace, &cfg)?;
        assert_conserved(&o);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The Azure 2019 sample (60 functions, the first 2 hours), its functions' triggers set in turn
/// to queue, queue, async and sync (the sample has no trigger column: all its rows are sync),
/// under an account limit of 20: the limit binds (the run is coupled, queue requests wait and
/// expire), and the lazy rule gives the eager rule's bytes.
#[test]
fn the_azure_sample_under_a_binding_account_limit_gives_the_eager_bytes() {
    use faasplan::time::HOUR;
    let sample = crate::common::azure_2019_sample();
    let mut b = TraceBuilder::new();
    b.origin_at_most(sample.origin_us());
    let triggers = [
        Trigger::Queue,
        Trigger::Queue,
        Trigger::Async,
        Trigger::Sync,
    ];
    for (f, meta) in sample.functions().iter().enumerate() {
        let id = b.function_id(&meta.name);
        for i in sample.function_invocations(f) {
            let at = sample.origin_us() + i.arrival as i64;
            b.push(at, id, i.duration, i.memory_mb, triggers[f % 4]);
        }
    }
    let trace = b.finish();
    assert_eq!(trace.len(), sample.len());
    let mut cfg = PlatformConfig::lambda_defaults(InitDist::lognormal(200.0, 800.0).unwrap());
    cfg.account_concurrency = Some(20);
    cfg.queue_max_wait = 30 * SECOND;
    cfg.horizon = Some(2 * HOUR);
    let valid = cfg.validate_for(&trace).unwrap();
    let lazy = simulate_with(&trace, &valid, RunOptions::default());
    assert_eq!(lazy.mode, Mode::Coupled, "the limit binds");
    assert!(
        lazy.totals.waited > 1_000 && lazy.totals.throttled_account > 1_000,
        "queues wait and expire at the limit: waited {}, throttled by the account {}",
        lazy.totals.waited,
        lazy.totals.throttled_account
    );
    let eager = simulate_waking_eagerly(&trace, &valid, RunOptions::default());
    assert_eq!(format!("{lazy:?}"), format!("{eager:?}"));
    assert_eq!(json(&lazy), json(&eager));
}
