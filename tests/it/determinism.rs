//! Same inputs and seed, same bytes: whatever the thread count and however functions are scheduled.

use faasplan::engine::{simulate, simulate_mode};
use faasplan::export::summary::Summary;
use faasplan::outcome::{Mode, Outcome};
use faasplan::trace::Trigger;

use crate::common::{self, Service, assert_conserved};

pub(crate) fn json(o: &Outcome) -> String {
    let info = crate::common::neutral_run_info(0, 0, false, 0);
    let s = Summary::new(o, info);
    let mut buf = Vec::new();
    faasplan::export::json::write(&mut buf, &s).unwrap();
    let mut pm = Vec::new();
    faasplan::export::per_minute::write(&mut pm, o).unwrap();
    String::from_utf8(buf).unwrap() + &String::from_utf8(pm).unwrap()
}

fn trace() -> faasplan::trace::Trace {
    common::poisson_multi(
        &[
            (8.0, Service::Exponential(0.3), Trigger::Sync),
            (3.0, Service::LogNormal(0.5, 1.0), Trigger::Async),
            (1.0, Service::Constant(2.0), Trigger::Queue),
            (0.005, Service::Constant(0.1), Trigger::Sync),
            (12.0, Service::Exponential(0.05), Trigger::Sync),
        ],
        1_800.0,
        42,
    )
}

fn pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
}

#[test]
fn one_thread_and_all_threads_give_identical_json() {
    let trace = trace();
    let mut cfg = common::unlimited(120.0, 150.0);
    cfg.init = faasplan::engine::InitDist::lognormal(100.0, 400.0).unwrap();
    cfg.account_concurrency = Some(1000);
    cfg.seed = 3;
    let one = pool(1).install(|| simulate(&trace, &cfg.validate_for(&trace).unwrap()));
    let all = pool(
        std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .max(2),
    )
    .install(|| simulate(&trace, &cfg.validate_for(&trace).unwrap()));
    assert_eq!(one.mode, Mode::Parallel);
    assert_eq!(json(&one), json(&all));
}

#[test]
fn parallel_run_equals_coupled_run_when_the_account_limit_does_not_bind() {
    let trace = trace();
    let mut cfg = common::unlimited(120.0, 150.0);
    cfg.init = faasplan::engine::InitDist::lognormal(100.0, 400.0).unwrap();
    cfg.account_concurrency = Some(1000);
    let parallel = simulate_mode(
        &trace,
        &cfg.validate_for(&trace).unwrap(),
        Some(Mode::Parallel),
    );
    let coupled = simulate_mode(
        &trace,
        &cfg.validate_for(&trace).unwrap(),
        Some(Mode::Coupled),
    );
    assert_eq!(parallel.mode, Mode::Parallel);
    assert_eq!(coupled.mode, Mode::Coupled);
    assert_conserved(&parallel);
    assert_eq!(json(&parallel), json(&coupled));
}

#[test]
fn no_account_limit_takes_the_parallel_path() {
    // Regression: `--account-concurrency none` compared the usage with `u64::MAX as i64` = -1, so
    // every parallel run was dropped after its first epoch and redone coupled.
    let trace = trace();
    let mut cfg = common::unlimited(120.0, 150.0);
    cfg.account_concurrency = None;
    let auto = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_eq!(auto.mode, Mode::Parallel);
    let coupled = simulate_mode(
        &trace,
        &cfg.validate_for(&trace).unwrap(),
        Some(Mode::Coupled),
    );
    assert_eq!(json(&auto), json(&coupled));
}

#[test]
fn a_binding_account_limit_falls_back_to_the_coupled_run() {
    let trace = trace();
    let mut cfg = common::unlimited(120.0, 150.0);
    cfg.account_concurrency = Some(4);
    let auto = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_eq!(auto.mode, Mode::Coupled);
    assert!(auto.totals.throttled > 0);
    assert!(auto.peak_account_usage <= 4);
    let coupled = simulate_mode(
        &trace,
        &cfg.validate_for(&trace).unwrap(),
        Some(Mode::Coupled),
    );
    assert_eq!(json(&auto), json(&coupled));
    assert_conserved(&auto);
}

#[test]
fn another_seed_changes_the_cold_start_samples_only() {
    let trace = trace();
    let mut cfg = common::unlimited(120.0, 150.0);
    cfg.init = faasplan::engine::InitDist::lognormal(100.0, 400.0).unwrap();
    let a = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    cfg.seed = 99;
    let b = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_eq!(a.totals.invocations, b.totals.invocations);
    assert_ne!(a.init.sum_us, b.init.sum_us);
}

/// On the real Azure 2019 sample (60 functions, the first 3 hours), with no account limit: the
/// automatic choice is the parallel run, and it gives the same bytes as the coupled run.
#[test]
fn parallel_equals_coupled_on_the_azure_sample_without_an_account_limit() {
    use faasplan::time::HOUR;
    let trace = crate::common::azure_2019_sample();
    assert!(trace.functions().len() >= 50);
    let mut cfg = faasplan::engine::PlatformConfig::lambda_defaults(
        faasplan::engine::InitDist::lognormal(200.0, 800.0).unwrap(),
    );
    cfg.account_concurrency = None;
    cfg.horizon = Some(3 * HOUR);
    let valid = cfg.validate_for(&trace).unwrap();
    let auto = simulate(&trace, &valid);
    assert_eq!(auto.mode, Mode::Parallel);
    assert_conserved(&auto);
    let coupled = simulate_mode(&trace, &valid, Some(Mode::Coupled));
    assert_eq!(coupled.mode, Mode::Coupled);
    assert_eq!(json(&auto), json(&coupled));
}
