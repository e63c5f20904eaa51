//! Shards and their merge (issue 16): shard i of N runs some functions; the merge of all N parts
//! is the whole run, byte for byte (the summary JSON and the per-minute series), in every setting
//! that changes what a function does over time: keep-alive, provisioned concurrency, a cyclic
//! warm-up, and a learning policy that couples an application's functions.

use faasplan::engine::{
    InitDist, KeepAliveSpec, PlatformConfig, ShardRunError, Warmup, merge_shards, simulate,
    simulate_shard,
};
use faasplan::outcome::shard::ShardOutcome;
use faasplan::shard::Shard;
use faasplan::time::SECOND;
use faasplan::trace::{Trace, TraceBuilder, Trigger};

use crate::common::{self, Service};
use crate::determinism::json;

fn trace() -> Trace {
    common::poisson_multi(
        &[
            (8.0, Service::Exponential(0.3), Trigger::Sync),
            (3.0, Service::LogNormal(0.5, 1.0), Trigger::Async),
            (1.0, Service::Constant(2.0), Trigger::Queue),
            (0.005, Service::Constant(0.1), Trigger::Sync),
            (12.0, Service::Exponential(0.05), Trigger::Sync),
            (0.5, Service::Exponential(1.0), Trigger::Sync),
            (0.02, Service::Constant(3.0), Trigger::Sync),
        ],
        1_800.0,
        42,
    )
}

fn config() -> PlatformConfig {
    let mut cfg = common::unlimited(120.0, 150.0);
    cfg.init = InitDist::lognormal(100.0, 400.0).unwrap();
    cfg.account_concurrency = Some(1000);
    cfg.horizon = Some(1_800 * SECOND);
    cfg.seed = 3;
    cfg
}

/// Runs every shard of `n` and merges them.
fn sharded(trace: &Trace, cfg: &PlatformConfig, n: u32) -> String {
    let valid = cfg.validate_for(trace).unwrap();
    let parts: Vec<ShardOutcome> = (0..n)
        .map(|i| simulate_shard(trace, &valid, Shard::new(i, n).unwrap()).unwrap())
        .collect();
    let held: usize = parts.iter().map(|p| p.functions.len()).sum();
    assert_eq!(held, trace.functions().len(), "each function in one part");
    let refs: Vec<&ShardOutcome> = parts.iter().collect();
    json(&merge_shards(trace, &valid, &refs).unwrap())
}

fn whole(trace: &Trace, cfg: &PlatformConfig) -> String {
    json(&simulate(trace, &cfg.validate_for(trace).unwrap()))
}

#[test]
fn merged_shards_equal_the_whole_run_byte_for_byte() {
    let t = trace();
    let cfg = config();
    let want = whole(&t, &cfg);
    for n in [1, 2, 3, 4, 7, 16] {
        assert_eq!(sharded(&t, &cfg, n), want, "{n} shards");
    }
}

#[test]
fn merged_shards_equal_the_whole_run_with_provisioned_concurrency_and_a_cyclic_warmup() {
    let t = trace();
    let mut cfg = config();
    cfg.provisioned = 2;
    cfg.warmup = Warmup::Cyclic;
    let want = whole(&t, &cfg);
    assert!(want.contains("provisioned"));
    for n in [2, 4] {
        assert_eq!(sharded(&t, &cfg, n), want, "{n} shards");
    }
    let mut cfg = config();
    cfg.warmup = Warmup::For(300 * SECOND);
    assert_eq!(sharded(&t, &cfg, 3), whole(&t, &cfg));
}

#[test]
fn an_application_stays_in_one_shard_and_a_learning_policy_merges_exactly() {
    // Seven functions in three applications (and one alone), under the hybrid policy, which
    // keeps one state per application.
    let src = trace();
    let mut b = TraceBuilder::new();
    for (f, meta) in src.functions().iter().enumerate() {
        let id = b.function_id(&meta.name);
        if f < 6 {
            b.set_app(id, &format!("app{}", f % 3)).unwrap();
        }
        for r in src.function_invocations(f) {
            b.push(r.arrival as i64, id, r.duration, r.memory_mb, r.trigger);
        }
    }
    b.origin_at_most(0);
    let t = b.finish();
    let mut cfg = config();
    cfg.keep_alive = KeepAliveSpec::parse("hybrid").unwrap().policy();
    cfg.max_lifetime = cfg.keep_alive.max_lifetime();
    let valid = cfg.validate_for(&t).unwrap();
    for n in [2, 3, 4] {
        for i in 0..n {
            let part = simulate_shard(&t, &valid, Shard::new(i, n).unwrap()).unwrap();
            let apps: std::collections::BTreeSet<_> = part
                .functions
                .iter()
                .filter_map(|(f, _)| t.functions()[*f as usize].app.clone())
                .collect();
            for app in apps {
                let members = t
                    .functions()
                    .iter()
                    .filter(|m| m.app.as_ref() == Some(&app));
                let held = members
                    .filter(|m| {
                        part.functions
                            .iter()
                            .any(|(f, _)| t.functions()[*f as usize].name == m.name)
                    })
                    .count();
                assert_eq!(held, 2, "both functions of {app} in shard {i}/{n}");
            }
        }
        assert_eq!(sharded(&t, &cfg, n), whole(&t, &cfg), "{n} shards");
    }
}

#[test]
fn a_shard_needs_a_horizon_and_an_account_limit_that_does_not_bind() {
    let t = trace();
    let mut cfg = config();
    cfg.horizon = None;
    let valid = cfg.validate_for(&t).unwrap();
    assert_eq!(
        simulate_shard(&t, &valid, Shard::WHOLE).unwrap_err(),
        ShardRunError::NoHorizon
    );
    // A limit of 3 binds: the functions together need more instances. Within a shard, or only
    // once the shards are merged; either way no partial result is called exact.
    let mut cfg = config();
    cfg.account_concurrency = Some(3);
    let valid = cfg.validate_for(&t).unwrap();
    let parts: Vec<Result<ShardOutcome, ShardRunError>> = (0..7)
        .map(|i| simulate_shard(&t, &valid, Shard::new(i, 7).unwrap()))
        .collect();
    let merged = if parts.iter().all(Result::is_ok) {
        let parts: Vec<ShardOutcome> = parts.into_iter().map(Result::unwrap).collect();
        let refs: Vec<&ShardOutcome> = parts.iter().collect();
        merge_shards(&t, &valid, &refs).map(|_| ())
    } else {
        Err(parts.into_iter().find_map(Result::err).unwrap())
    };
    assert!(
        matches!(merged, Err(ShardRunError::Coupled { limit: 3, peak }) if peak > 3),
        "{merged:?}"
    );
}

#[test]
fn the_merge_refuses_a_missing_or_doubled_part() {
    let t = trace();
    let cfg = config();
    let valid = cfg.validate_for(&t).unwrap();
    let parts: Vec<ShardOutcome> = (0..3)
        .map(|i| simulate_shard(&t, &valid, Shard::new(i, 3).unwrap()).unwrap())
        .collect();
    let nonempty: Vec<&ShardOutcome> = parts.iter().filter(|p| !p.functions.is_empty()).collect();
    assert!(nonempty.len() >= 2);
    let missing = merge_shards(&t, &valid, &nonempty[1..]).unwrap_err();
    assert!(matches!(missing, ShardRunError::Missing(_)), "{missing}");
    let mut doubled: Vec<&ShardOutcome> = parts.iter().collect();
    doubled.push(nonempty[0]);
    let twice = merge_shards(&t, &valid, &doubled).unwrap_err();
    assert!(matches!(twice, ShardRunError::Twice(_)), "{twice}");
    // Another window (horizon) is another run.
    let mut other = config();
    other.horizon = Some(900 * SECOND);
    let valid_other = other.validate_for(&t).unwrap();
    let refs: Vec<&ShardOutcome> = parts.iter().collect();
    let e = merge_shards(&t, &valid_other, &refs).unwrap_err();
    assert!(matches!(e, ShardRunError::OtherWindow { .. }), "{e}");
}
