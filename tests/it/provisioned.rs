//! Provisioned concurrency that changes over time: schedules and target tracking bill the
//! instance-time they hold, checked by hand on small cases.

use faasplan::engine::{ProvisionedPlan, Schedule, TargetTracking, simulate};
use faasplan::time::{Micros, SECOND};
use faasplan::trace::{Trace, TraceBuilder, Trigger};

use crate::common::{self, assert_conserved};

/// Requests every `gap` from 0 until `end`, each running `duration` (relative clock: 00:00 at 0).
fn regular(gap: Micros, end: Micros, duration: Micros) -> Trace {
    let mut b = TraceBuilder::new();
    let id = b.function_id("f");
    let mut t = 0;
    while t < end {
        b.push(t as i64, id, duration, 0, Trigger::Sync);
        t += gap;
    }
    b.finish()
}

const H: Micros = 3600 * SECOND;

#[test]
fn a_schedule_bills_each_step_for_its_hours() {
    // 01:00-02:00 five instances, otherwise one; requests every 10 minutes for 3 hours.
    let trace = regular(600 * SECOND, 3 * H, 100_000);
    let mut cfg = common::unlimited(600.0, 100.0);
    cfg.provisioned_plan = Some(ProvisionedPlan::Schedule(
        Schedule::parse("01:00-02:00=5,else=1").unwrap(),
    ));
    cfg.horizon = Some(3 * H);
    cfg.validate(1).unwrap();
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_conserved(&o);
    let t = &o.totals;
    // 1 h × 1 + 1 h × 5 + 1 h × 1 = 7 instance-hours configured.
    assert_eq!(t.provisioned_configured_us, 7 * H);
    assert_eq!(t.provisioned_changes, 2);
    let per_minute: u128 = o.minutes.iter().map(|m| m.provisioned_us).sum();
    assert_eq!(per_minute, (7 * H) as u128);
    // One request at a time, always on a provisioned instance.
    assert_eq!(t.cold_starts, 0);
    assert_eq!(t.provisioned_busy_us, 18 * 100_000);
    assert_eq!(t.provisioned_idle_us, 7 * H - 18 * 100_000);
}

#[test]
fn a_schedule_follows_the_traces_clock() {
    // A Unix-epoch trace starting at 01:30 UTC: the 01:00-02:00 step holds for its first 30 min.
    let mut b = TraceBuilder::new();
    let id = b.function_id("f");
    let start: i64 =
        1_700_000_000_000_000 - 1_700_000_000_000_000 % (24 * H as i64) + 90 * 60_000_000;
    for i in 0..6 {
        b.push(start + i * 600_000_000, id, 100_000, 0, Trigger::Sync);
    }
    let trace = b.finish();
    let mut cfg = common::unlimited(600.0, 100.0);
    cfg.provisioned_plan = Some(ProvisionedPlan::Schedule(
        Schedule::parse("01:00-02:00=4,else=2").unwrap(),
    ));
    cfg.horizon = Some(H);
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    // 30 min × 4 + 30 min × 2 = 3 instance-hours.
    assert_eq!(o.totals.provisioned_configured_us, 3 * H);
}

#[test]
fn target_tracking_doubles_until_the_target_and_bills_each_level() {
    // Ten requests always in flight (one every 100 ms, 1 s each). Target 50 %: the level doubles
    // after every 3 one-minute periods at 100 % (1, 2, 4, 8, 16), then settles at 20 (10 / 20 =
    // 50 %) after 3 periods at 62.5 %.
    let trace = regular(100_000, 1_200 * SECOND, SECOND);
    let mut cfg = common::unlimited(600.0, 100.0);
    cfg.provisioned_plan = Some(ProvisionedPlan::Target(TargetTracking {
        target: 0.5,
        min: 1,
        max: 50,
        interval: 60 * SECOND,
        scale_out_after: 3,
        scale_in_after: 15,
    }));
    cfg.validate(1).unwrap();
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_conserved(&o);
    let t = &o.totals;
    assert_eq!(o.window_us, 1_260 * SECOND);
    assert_eq!(t.provisioned_changes, 5);
    // 180 s at each of 1, 2, 4, 8, 16, then 20 from 900 s to the window end at 1,260 s.
    let expected = (180 * (1 + 2 + 4 + 8 + 16) + 360 * 20) * SECOND;
    assert_eq!(t.provisioned_configured_us, expected);
    // The per-minute series carries the level minute by minute: 1 for the first three minutes,
    // 20 from minute 15, and its integral is the same.
    let per_minute: u128 = o.minutes.iter().map(|m| m.provisioned_us).sum();
    assert_eq!(per_minute, expected as u128);
    assert_eq!(o.minutes[0].provisioned_us, 60 * SECOND as u128);
    assert_eq!(o.minutes[16].provisioned_us, 20 * 60 * SECOND as u128);
    // Held instance-time = busy + idle, and never less than what was configured.
    assert!(t.provisioned_busy_us + t.provisioned_idle_us >= expected);
}

#[test]
fn lowering_the_level_retires_busy_instances_after_they_finish() {
    // Long requests (5 min) every minute; the level drops from 6 to 1 at 01:00 while all busy.
    let trace = regular(60 * SECOND, 2 * H, 300 * SECOND);
    let mut cfg = common::unlimited(600.0, 100.0);
    cfg.provisioned_plan = Some(ProvisionedPlan::Schedule(
        Schedule::parse("00:00-01:00=6,else=1").unwrap(),
    ));
    let o = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_conserved(&o);
    let t = &o.totals;
    assert_eq!(t.provisioned_changes, 1);
    // Configured: 6 for the first hour, 1 after; held: retiring instances run out their request.
    let held = t.provisioned_busy_us + t.provisioned_idle_us;
    assert!(
        held > t.provisioned_configured_us,
        "{held} vs {}",
        t.provisioned_configured_us
    );
    assert!(held <= t.provisioned_configured_us + 5 * 300 * SECOND);
    assert!(o.peak_account_usage <= 6);
}
