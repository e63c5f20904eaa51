//! Conservation of invocations under every trigger and limit: nothing is lost or counted twice.

use faasplan::engine::{ScalingRate, simulate};
use faasplan::time::SECOND;
use faasplan::trace::Trigger;

use crate::common::{self, Service, assert_conserved};

#[test]
fn sync_async_and_queue_under_tight_limits() {
    let trace = common::poisson_multi(
        &[
            (20.0, Service::Exponential(0.5), Trigger::Sync),
            (15.0, Service::LogNormal(0.3, 1.0), Trigger::Async),
            (10.0, Service::Constant(0.8), Trigger::Queue),
            (0.01, Service::Constant(0.1), Trigger::Sync),
        ],
        3_600.0,
        5,
    );
    let mut cfg = common::unlimited(300.0, 200.0);
    cfg.max_concurrency = Some(6);
    cfg.provisioned = 2;
    cfg.account_concurrency = Some(14);
    cfg.scaling = Some(ScalingRate {
        burst: 3,
        refill_every: 2 * SECOND,
    });
    cfg.queue_max_wait = 30 * SECOND;
    cfg.retry.max_age = 120 * SECOND;
    cfg.validate(trace.functions().len()).unwrap();
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_conserved(&o);
    let t = &o.totals;
    assert!(
        t.throttled > 0,
        "the limits must bite for this test to mean anything"
    );
    assert!(t.dead_lettered > 0, "async events must run out of age");
    assert!(t.retries > 0);
    assert!(
        o.peak_account_usage <= 14,
        "peak usage {}",
        o.peak_account_usage
    );
    // Queue requests either waited or were throttled, never dropped.
    assert!(t.waited > 0);
    // Both concurrency limits refuse requests here.
    assert!(t.throttled_account > 0 && t.throttled_function > 0, "{t:?}");
}

#[test]
fn throttles_are_blamed_on_the_limit_that_refused_them() {
    // 20 concurrent 60 s requests at t = 0 against an account limit of 10: exactly 10 throttled,
    // all of them by the account limit.
    let rows: Vec<(f64, &str, f64)> = (0..20).map(|i| (i as f64 * 0.001, "f", 60_000.0)).collect();
    let trace = common::trace_from_rows(&rows);
    let mut cfg = common::unlimited(600.0, 100.0);
    cfg.account_concurrency = Some(10);
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_conserved(&o);
    assert_eq!(o.totals.throttled, 10);
    assert_eq!(o.totals.throttled_account, 10);
    // The same with a function limit of 5 below it: 15 throttled by the function's own limit.
    cfg.max_concurrency = Some(5);
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_eq!((o.totals.throttled, o.totals.throttled_function), (15, 15));
    // A scaling rate of 3 new instances and one more per 10 s, no concurrency limit: 3 served
    // at once, 17 throttled by the rate.
    cfg.max_concurrency = None;
    cfg.account_concurrency = None;
    cfg.scaling = Some(ScalingRate {
        burst: 3,
        refill_every: 10 * SECOND,
    });
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_eq!((o.totals.throttled, o.totals.throttled_rate), (17, 17));
}

#[test]
fn per_instance_concurrency_packs_requests() {
    let trace = common::poisson(50.0, 1_800.0, Service::Exponential(0.4), 3);
    let mut one = common::unlimited(600.0, 300.0);
    one.per_instance_concurrency = 1;
    let mut many = one.clone();
    many.per_instance_concurrency = 20;
    let a = simulate(&trace, &one.validate_for(&trace).unwrap());
    let b = simulate(&trace, &many.validate_for(&trace).unwrap());
    assert_conserved(&a);
    assert_conserved(&b);
    // λE[S] = 20 requests in flight: one per instance needs ~20+ instances, 20 per instance ~1-3.
    assert!(a.totals.peak_busy >= 20);
    assert!(b.totals.peak_busy <= 5, "peak busy {}", b.totals.peak_busy);
    assert!(b.totals.cold_starts < a.totals.cold_starts);
}

#[test]
fn max_lifetime_recycles_instances() {
    let trace = common::poisson(2.0, 7_200.0, Service::Constant(0.05), 9);
    let mut cfg = common::unlimited(600.0, 100.0);
    let forever = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    cfg.max_lifetime = Some(900 * SECOND);
    let recycled = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_conserved(&recycled);
    // Two hours with 15-minute lifetimes: at least 7 more instance starts than without.
    assert!(
        recycled.totals.instances_started >= forever.totals.instances_started + 7,
        "{} vs {}",
        recycled.totals.instances_started,
        forever.totals.instances_started
    );
}

#[test]
fn horizon_excludes_later_arrivals_and_says_how_many() {
    let trace = common::poisson(5.0, 600.0, Service::Constant(0.1), 1);
    let mut cfg = common::unlimited(600.0, 100.0);
    cfg.horizon = Some(300 * SECOND);
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_conserved(&o);
    assert_eq!(
        o.totals.invocations + o.excluded_after_horizon,
        trace.len() as u64
    );
    assert_eq!(o.window_us, 300 * SECOND);
    assert_eq!(o.minutes.len(), 5);
}

#[test]
fn back_to_back_requests_make_one_active_period() {
    // Each request starts the instant the previous one ends: the instance never idles, so
    // per-period billing (Flex's 1 s minimum, Cloud Run's 100 ms rounding) sees one period.
    let mut b = faasplan::trace::TraceBuilder::new();
    let id = b.function_id("f");
    for i in 0..100i64 {
        b.push(i * 700_000, id, 700_000, 0, Trigger::Sync);
    }
    let trace = b.finish();
    let cfg = common::unlimited(600.0, 0.0);
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_conserved(&o);
    let active = &o.totals.on_demand_active;
    assert_eq!(o.totals.instances_started, 1);
    assert_eq!(active.count, 1, "{active:?}");
    assert_eq!(active.raw_us, 100 * 700_000);
    // Executions are still billed one by one.
    assert_eq!(o.totals.usage[0].on_demand.count, 100);
}
