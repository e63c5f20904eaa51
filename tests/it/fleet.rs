//! The server fleet against queueing theory, the autoscaler's timing, and the fleet's billing.

use std::path::Path;

use faasplan::engine::fleet::{Autoscale, FleetConfig, FleetSize, Speed, simulate_fleet};
use faasplan::servers::{self, ServerType, bill_fleet, billed_instance_s};
use faasplan::time::{MINUTE, Micros, SECOND};
use faasplan::trace::{TraceBuilder, Trigger};
use rand::SeedableRng;

use crate::common::{self, Service, mean_se};

fn fixed(count: u32, slots: u32) -> FleetConfig {
    FleetConfig {
        slots,
        size: FleetSize::Fixed(count),
        speed: Speed::Factor(1.0),
        queue_limit: None,
        max_wait: None,
        horizon: None,
        cpu: None,
    }
}

/// Erlang-C: the probability that an arrival waits in an M/M/c queue with offered load `a`.
fn erlang_c(c: u32, a: f64) -> f64 {
    // Via Erlang-B: C = c·B / (c − a(1 − B)).
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    c as f64 * b / (c as f64 - a * (1.0 - b))
}

#[test]
fn erlang_c_formula_matches_a_known_value() {
    // c = 2, a = 1 (ρ = 0.5): C = 1/3.
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn erlang_c_probability_of_waiting_and_mean_wait() {
    let (c, rate, mean_s) = (4u32, 3.0, 1.0);
    let a = rate * mean_s;
    let p_wait = erlang_c(c, a);
    let mean_wait_s = p_wait / (c as f64 / mean_s - rate);
    let mut waited = Vec::new();
    let mut waits = Vec::new();
    for seed in 0..8 {
        let trace = common::poisson(rate, 20_000.0, Service::Exponential(mean_s), 300 + seed);
        let cfg = fixed(c, 1);
        cfg.validate().unwrap();
        let o = simulate_fleet(&trace, &cfg.validated().unwrap());
        assert_eq!(o.invocations, o.served + o.rejected);
        assert_eq!(o.rejected, 0, "no limits, no rejections");
        waited.push(o.waited as f64 / o.served as f64);
        waits.push(o.queue_wait.mean_us() / 1e6);
    }
    let (pw, pw_se) = mean_se(&waited);
    let (w, w_se) = mean_se(&waits);
    assert!(
        (pw - p_wait).abs() < 4.0 * pw_se,
        "P(wait) {pw:.4} ± {pw_se:.4}, Erlang-C {p_wait:.4}"
    );
    assert!(
        (w - mean_wait_s).abs() < 4.0 * w_se,
        "mean wait {w:.4} ± {w_se:.4} s, Erlang-C {mean_wait_s:.4} s"
    );
}

/// Poisson arrivals at `before` per second until `step_s`, then `after` per second, until `end_s`.
fn step_trace(
    before: f64,
    after: f64,
    step_s: f64,
    end_s: f64,
    service_s: f64,
) -> faasplan::trace::Trace {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(21);
    let mut b = TraceBuilder::new();
    let id = b.function_id("api");
    let mut t = 0.0;
    loop {
        let rate = if t < step_s { before } else { after };
        t += common::exp(&mut rng, rate);
        if t >= end_s {
            break;
        }
        b.push(
            (t * 1e6) as i64,
            id,
            (service_s * 1e6) as Micros,
            0,
            Trigger::Sync,
        );
    }
    b.finish()
}

#[test]
fn autoscaler_scales_out_one_interval_plus_boot_after_a_step_and_queues_meanwhile() {
    let step_s = 1_800.0;
    let trace = step_trace(4.0, 40.0, step_s, 3_600.0, 0.5);
    let interval = 60 * SECOND;
    let boot = 90 * SECOND;
    let cfg = FleetConfig {
        slots: 4,
        size: FleetSize::Auto(Autoscale {
            min: 2,
            max: 20,
            target: 0.6,
            interval,
            boot_delay: boot,
            cooldown: 300 * SECOND,
            doubling: None,
        }),
        speed: Speed::Factor(1.0),
        queue_limit: None,
        max_wait: None,
        horizon: None,
        cpu: None,
    };
    cfg.validate().unwrap();
    let o = simulate_fleet(&trace, &cfg.validated().unwrap());
    assert_eq!(o.invocations, o.served + o.rejected);
    let step = (step_s * 1e6) as Micros;
    // The first scale-out after the step comes at the first evaluation after it.
    let first_out = o
        .scale_events
        .iter()
        .find(|e| e.time_s * 1e6 > step as f64 && e.to > e.from)
        .expect("the fleet scales out after the step");
    let t_out = (first_out.time_s * 1e6) as Micros;
    assert!(
        t_out > step && t_out <= step + interval,
        "scale-out at {t_out}"
    );
    // Load 40/s × 0.5 s = 20 busy slots: at 0.6 target, 20 / 0.6 / 4 = 9 instances eventually.
    assert!(o.instances_max >= 8, "max instances {}", o.instances_max);
    // Before the step nothing waits; right after it (until one interval + boot) requests queue;
    // ten minutes after the step the fleet has caught up.
    let m_step = (step / MINUTE) as usize;
    let before: u64 = o.minutes[m_step - 10..m_step]
        .iter()
        .map(|m| m.waited)
        .sum();
    let during: u64 = o.minutes[m_step..m_step + 3].iter().map(|m| m.waited).sum();
    let later: u64 = o.minutes[m_step + 12..m_step + 20]
        .iter()
        .map(|m| m.waited)
        .sum();
    let arrivals_later: u64 = o.minutes[m_step + 12..m_step + 20]
        .iter()
        .map(|m| m.invocations)
        .sum();
    assert!(
        before * 100 < during,
        "queued before {before}, during {during}"
    );
    assert!(
        during > 1_000,
        "queueing must grow while instances boot: {during}"
    );
    assert!(
        (later as f64) < 0.2 * arrivals_later as f64,
        "after the scale-out {later} of {arrivals_later} still queue"
    );
    assert!(o.boot_events >= 5);
}

/// A shipped catalogue's instance type (EC2 bills per second with a 60 s minimum).
fn server(name: &str) -> ServerType {
    servers::find(name, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// A test-only catalogue: the shipped EC2 one with its `[billing]` rule replaced.
fn ec2_billed(per_second: bool, minimum_s: u64) -> ServerType {
    let text = include_str!("../../pricing/servers/aws-ec2-us-east-1.toml");
    let rule = "per_second = true\nminimum_s = 60\n";
    assert_eq!(text.matches(rule).count(), 1);
    let text = text.replace(
        rule,
        &format!("per_second = {per_second}\nminimum_s = {minimum_s}\n"),
    );
    let all = servers::parse_catalog(Path::new("test-per-hour.toml"), &text)
        .unwrap_or_else(|e| panic!("{e}"));
    all.into_iter()
        .find(|s| s.name == "m7g.large")
        .expect("m7g.large is in the catalogue")
}

#[test]
fn fleet_cost_is_instance_seconds_with_a_60_second_minimum() {
    let ec2 = server("m7g.large");
    assert!(ec2.per_second && ec2.minimum_s == 60);
    let trace = common::poisson(1.0, 600.0, Service::Constant(0.1), 3);
    // Fixed fleet, 10-minute window: 3 instances × 600 s.
    let mut cfg = fixed(3, 8);
    cfg.horizon = Some(600 * SECOND);
    let o = simulate_fleet(&trace, &cfg.validated().unwrap());
    assert_eq!(billed_instance_s(&o, &ec2), 3 * 600);
    // A 30-second window still bills each instance start for 60 s.
    cfg.horizon = Some(30 * SECOND);
    let o = simulate_fleet(&trace, &cfg.validated().unwrap());
    assert_eq!(billed_instance_s(&o, &ec2), 3 * 60);
    // A fractional second is billed as a whole second.
    cfg.horizon = Some(90 * SECOND + 1);
    let o = simulate_fleet(&trace, &cfg.validated().unwrap());
    assert_eq!(billed_instance_s(&o, &ec2), 3 * 91);
    let b = bill_fleet(&o, &ec2, 0.0);
    assert!((b.instance_hours - 3.0 * 91.0 / 3600.0).abs() < 1e-12);
    assert!((b.window_usd - b.instance_hours * ec2.usd_per_hour).abs() < 1e-12);
}

/// The catalogue's rule is data: the same run on a catalogue that bills per started hour bills a
/// server up 61 minutes for 2 hours, and one up 30 s for its 1-hour minimum.
#[test]
fn per_hour_catalogue_bills_started_hours() {
    let hourly = ec2_billed(false, 3_600);
    let trace = common::poisson(1.0, 3_600.0, Service::Constant(0.1), 5);
    let mut cfg = fixed(1, 8);
    cfg.horizon = Some(61 * MINUTE);
    let o = simulate_fleet(&trace, &cfg.validated().unwrap());
    assert_eq!(billed_instance_s(&o, &hourly), 2 * 3_600);
    let b = bill_fleet(&o, &hourly, 0.0);
    assert_eq!(b.instance_hours, 2.0);
    assert!((b.window_usd - 2.0 * hourly.usd_per_hour).abs() < 1e-12);
    // Per second, the same life is 61 minutes.
    let per_second = bill_fleet(&o, &server("m7g.large"), 0.0);
    assert!((per_second.instance_hours - 61.0 / 60.0).abs() < 1e-12);
    // Exactly one hour is one hour; a short life is billed its minimum.
    cfg.horizon = Some(60 * MINUTE);
    let o = simulate_fleet(&trace, &cfg.validated().unwrap());
    assert_eq!(billed_instance_s(&o, &hourly), 3_600);
    cfg.horizon = Some(30 * SECOND);
    let o = simulate_fleet(&trace, &cfg.validated().unwrap());
    assert_eq!(billed_instance_s(&o, &hourly), 3_600);
    // Per hour without a minimum: 30 s is still a started hour.
    assert_eq!(billed_instance_s(&o, &ec2_billed(false, 0)), 3_600);
    // Per second without a minimum: 30 s is 30 s.
    assert_eq!(billed_instance_s(&o, &ec2_billed(true, 0)), 30);
}

#[test]
fn queue_limit_and_max_wait_reject_and_are_counted() {
    let trace = common::poisson(20.0, 600.0, Service::Constant(0.5), 8);
    let mut cfg = fixed(1, 2); // capacity 4/s against 20/s
    cfg.queue_limit = Some(10);
    let o = simulate_fleet(&trace, &cfg.validated().unwrap());
    assert_eq!(o.invocations, o.served + o.rejected);
    assert!(o.rejected > o.served);
    assert!(o.peak_queue <= 10);
    cfg.queue_limit = None;
    cfg.max_wait = Some(2 * SECOND);
    let o = simulate_fleet(&trace, &cfg.validated().unwrap());
    assert_eq!(o.invocations, o.served + o.rejected);
    assert!(o.queue_wait.quantile_us(1.0) <= 2 * SECOND);
}

#[test]
fn cpu_share_rule_scales_service_time() {
    // 512 MB on Lambda ≈ 0.289 vCPU, so 100 ms there is ≈ 28.9 ms on a whole vCPU.
    let mut b = TraceBuilder::new();
    let id = b.function_id("f");
    b.push(0, id, 100_000, 512, Trigger::Sync);
    let trace = b.finish();
    let mut cfg = fixed(1, 1);
    cfg.speed = Speed::CpuShare {
        default_memory_mb: 128,
    };
    let o = simulate_fleet(&trace, &cfg.validated().unwrap());
    let expected = (100_000.0 * 512.0 / 1769.0_f64).round() as Micros;
    assert_eq!(o.latency.max_us, expected);
}

/// A fleet replays a streamed trace (an Azure 2019 trace expanded a minute at a time) exactly
/// as the held one: with no horizon (every row) and with one (the rows after it excluded), a
/// fixed fleet that queues and one that autoscales.
#[test]
fn a_fleet_on_a_streamed_trace_equals_it_on_the_held_trace() {
    use faasplan::engine::fleet::simulate_fleet_stream;
    use faasplan::trace::azure2019::{self, Options};
    use faasplan::trace::facts::TraceFacts;
    let trace = common::azure_2019_sample();
    let input = faasplan::trace::input::Input::open(
        &common::azure_2019_sample_dir().join("invocations_per_function.csv"),
    )
    .unwrap();
    let parsed = azure2019::parse(input, &Options::of(&common::azure_2019_sample_options(3)))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut auto = fixed(2, 8);
    auto.size = FleetSize::Auto(Autoscale {
        min: 2,
        max: 40,
        target: 0.6,
        interval: 60 * SECOND,
        boot_delay: 90 * SECOND,
        cooldown: 300 * SECOND,
        doubling: None,
    });
    for (horizon, cfg) in [
        (None, fixed(30, 8)),
        (Some(3 * 3600 * SECOND), fixed(12, 4)),
        (Some(2 * 3600 * SECOND), auto),
    ] {
        let cfg = FleetConfig { horizon, ..cfg }.validated().unwrap();
        let held = simulate_fleet(&trace, &cfg);
        let streamed = simulate_fleet_stream(
            parsed.stream(3, horizon),
            trace.functions().len(),
            trace.invocation_count(),
            &cfg,
        );
        assert!(
            format!("{streamed:?}") == format!("{held:?}"),
            "horizon {horizon:?}"
        );
        assert!(held.invocations > 10_000, "{}", held.invocations);
        assert_eq!(
            held.invocations + held.excluded_after_horizon,
            trace.invocation_count()
        );
        assert_eq!(horizon.is_some(), held.excluded_after_horizon > 0);
    }
}
