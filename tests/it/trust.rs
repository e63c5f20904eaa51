//! Answers a user can trust: warm-up and function timeouts, each checked on a case worked out by
//! hand.

use std::process::Output;

use faasplan::engine::{DAY, InitDist, Warmup, simulate};
use faasplan::time::{MINUTE, Micros, SECOND};
use faasplan::trace::{Trace, TraceBuilder, Trigger};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::common::{self, assert_conserved};

use crate::common::faasplan;

fn json(out: &Output) -> serde_json::Value {
    common::json_out(out)
}

/// One day of three functions with a diurnal rate (sparse at night, so keep-alive matters), the
/// same arrivals repeated `days` times.
fn diurnal_days(days: u64) -> Trace {
    let mut rng = Pcg64Mcg::seed_from_u64(7);
    let mut day: Vec<(Micros, u32, Micros)> = Vec::new();
    for (f, peak_per_min) in [(0u32, 6.0f64), (1, 1.5), (2, 0.2)] {
        let mut t = 0.0f64;
        loop {
            // Thinning of a Poisson process with rate peak * (0.55 - 0.45 cos(2π t / day)).
            let u: f64 = rng.random();
            t += -(1.0 - u).ln() / (peak_per_min / 60.0);
            if t >= 86_400.0 {
                break;
            }
            let rate = 0.55 - 0.45 * (2.0 * std::f64::consts::PI * t / 86_400.0).cos();
            if rng.random::<f64>() < rate {
                let d = 50_000 + rng.random_range(0..2_000_000);
                day.push(((t * 1e6) as Micros, f, d));
            }
        }
    }
    day.sort();
    let mut b = TraceBuilder::new();
    for f in 0..3 {
        b.function_id(&format!("f{f}"));
    }
    for d in 0..days {
        for &(at, f, dur) in &day {
            b.push((at + d * DAY) as i64, f, dur, 0, Trigger::Sync);
        }
    }
    b.finish()
}

#[test]
fn cyclic_warmup_equals_a_later_day_of_the_same_day_repeated() {
    // With a constant init time the engine is deterministic given the arrivals, so a day replayed
    // after the same day must give exactly the cyclic run's numbers.
    let mut cfg = common::unlimited(600.0, 250.0);
    cfg.init = InitDist::parse("250").unwrap();
    cfg.horizon = Some(DAY);
    cfg.warmup = Warmup::Cyclic;
    let one = diurnal_days(1);
    let cyclic = simulate(&one, &cfg.validate_for(&one).unwrap());
    assert_conserved(&cyclic);
    assert_eq!(cyclic.window_us, DAY);
    assert_eq!(cyclic.minutes.len(), 1_440);

    let mut cfg7 = cfg.clone();
    cfg7.warmup = Warmup::None;
    cfg7.horizon = Some(7 * DAY);
    let days = diurnal_days(7);
    let week = simulate(&days, &cfg7.validate_for(&days).unwrap());
    assert_conserved(&week);
    let day_cold = |d: usize| -> u64 {
        week.minutes[d * 1_440..(d + 1) * 1_440]
            .iter()
            .map(|m| m.cold_starts)
            .sum()
    };
    // The first day starts empty: more cold starts than the cyclic run.
    assert!(
        day_cold(0) > cyclic.totals.cold_starts,
        "day 1 {} vs cyclic {}",
        day_cold(0),
        cyclic.totals.cold_starts
    );
    for d in 1..7 {
        assert_eq!(day_cold(d), cyclic.totals.cold_starts, "day {}", d + 1);
    }
    // Minute by minute too, and the warm-up's own cold starts are reported, not counted.
    let cold: Vec<u64> = cyclic.minutes.iter().map(|m| m.cold_starts).collect();
    let day3: Vec<u64> = week.minutes[2 * 1_440..3 * 1_440]
        .iter()
        .map(|m| m.cold_starts)
        .collect();
    assert_eq!(cold, day3);
    assert!(cyclic.warmup.invocations > 0 && cyclic.warmup.replayed_us >= 10 * MINUTE);
}

#[test]
fn a_warmup_duration_leaves_its_minutes_out_of_every_count() {
    let trace = common::poisson(2.0, 3_600.0, common::Service::Constant(0.2), 3);
    let mut cfg = common::unlimited(300.0, 100.0);
    cfg.horizon = Some(3_600 * SECOND);
    let all = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    cfg.warmup = Warmup::parse("15m").unwrap();
    let late = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    assert_conserved(&late);
    let after = |o: &faasplan::outcome::Outcome| o.totals.invocations;
    let arrivals_after_15m = trace
        .invocations()
        .iter()
        .filter(|i| i.arrival >= 15 * MINUTE)
        .count() as u64;
    assert_eq!(after(&late), arrivals_after_15m);
    assert_eq!(
        late.warmup.invocations,
        all.totals.invocations - arrivals_after_15m
    );
    assert_eq!(late.window_us, 45 * MINUTE);
    assert_eq!(late.minutes.len(), 45);
    assert_eq!(late.first_minute(), 15);
    // The minutes it keeps are the full run's minutes 15..60, number for number.
    for (a, b) in late.minutes.iter().zip(&all.minutes[15..]) {
        assert_eq!(
            (a.invocations, a.cold_starts),
            (b.invocations, b.cold_starts)
        );
        assert_eq!((a.busy_us, a.alive_us), (b.busy_us, b.alive_us));
    }
    // Instance-time is clipped to the measured window: the sum of the kept minutes.
    let alive: u128 = all.minutes[15..].iter().map(|m| m.alive_us).sum();
    assert_eq!(late.alive_integral_us, alive);
    // A 90 s warm-up is rounded up to whole minutes; a warm-up past the horizon is refused.
    assert_eq!(Warmup::parse("90s").unwrap(), Warmup::For(2 * MINUTE));
    cfg.warmup = Warmup::parse("2h").unwrap();
    // The library names the field; the binary maps it to --warmup.
    let err = cfg.validate(1).unwrap_err().to_string();
    assert!(err.starts_with("warmup: "), "{err}");
}

#[test]
fn the_default_warmup_does_not_buy_provisioned_concurrency_for_the_transient() {
    // All 5 cold starts of api-steady.csv come from the empty platform at t = 0: in steady state
    // the trace needs no provisioned concurrency for a 0.05 % cold-start objective.
    let repo = env!("CARGO_MANIFEST_DIR");
    let trace = format!("{repo}/workloads/api-steady.csv");
    let args = [
        "sweep",
        trace.as_str(),
        "--provisioned",
        "0..=4",
        "--slo",
        "cold_start_ratio<=0.05%",
        "--offering",
        "aws-lambda-x86",
        "--replicas",
        "3",
        "--format",
        "json",
    ];
    let v = json(&faasplan(&args));
    let i = v["recommended"].as_u64().expect("a recommendation") as usize;
    let provisioned = |v: &serde_json::Value, i: usize| {
        let s = &v["grid"][i]["settings"][0];
        assert_eq!(s[0], "provisioned");
        s[1].as_f64().unwrap()
    };
    assert_eq!(provisioned(&v, i), 0.0);
    // With the empty platform counted, the same search buys an instance.
    let mut none = args.to_vec();
    none.extend(["--warmup", "none"]);
    let v = json(&faasplan(&none));
    let i = v["recommended"].as_u64().expect("a recommendation") as usize;
    assert!(provisioned(&v, i) > 0.0);
}

fn long_invocation_trace(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("long.csv");
    std::fs::write(
        &path,
        "timestamp_ms,function,duration_ms\n0,job,1200000\n60000,job,100\n",
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_20_minute_invocation_on_lambda_times_out_at_900_s() {
    let dir = tempfile::tempdir().unwrap();
    let trace = long_invocation_trace(&dir);
    let pm = dir.path().join("pm.csv");
    let v = json(&faasplan(&[
        "simulate",
        &trace,
        "--offering",
        "aws-lambda-x86",
        "--init-ms",
        "0",
        "--warmup",
        "none",
        "--format",
        "json",
        "--per-minute",
        pm.to_str().unwrap(),
    ]));
    assert_eq!(v["timed_out"], 1);
    assert_eq!(v["run"]["timeout_s"], 900.0);
    // Billed: 900 s + 0.1 s at 128 MB = 112.5125 GB-s, not 150.0125.
    let duration = v["cost"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == "duration")
        .expect("a duration line");
    let gb_s = duration["quantity"].as_f64().unwrap();
    assert!((gb_s - 0.125 * 900.1).abs() < 1e-9, "{duration}");
    // Its latency is the timeout, and the per-minute series counts it in its arrival minute.
    assert_eq!(v["latency_ms"]["max"], 900_000.0);
    let series = std::fs::read_to_string(&pm).unwrap();
    let header: Vec<&str> = series.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "timed_out").unwrap();
    let first: Vec<&str> = series.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(first[col], "1");

    // A shorter --timeout cuts at 30 s; above Lambda's maximum is an error naming the flag.
    let v = json(&faasplan(&[
        "simulate",
        &trace,
        "--offering",
        "aws-lambda-x86",
        "--init-ms",
        "0",
        "--warmup",
        "none",
        "--timeout",
        "30s",
        "--format",
        "json",
    ]));
    assert_eq!(v["latency_ms"]["max"], 30_000.0);
    for bad in ["20m", "none", "0", "soon"] {
        let out = faasplan(&[
            "simulate",
            &trace,
            "--offering",
            "aws-lambda-x86",
            "--timeout",
            bad,
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("--timeout"), "{bad}: {err}");
        assert!(out.stdout.is_empty());
    }
    // Azure Premium has no maximum: nothing is cut without --timeout.
    let v = json(&faasplan(&[
        "simulate",
        &trace,
        "--offering",
        "azure-functions-premium-ep1",
        "--warmup",
        "none",
        "--format",
        "json",
    ]));
    assert_eq!(v["timed_out"], 0);
    assert_eq!(v["run"]["timeout_s"], serde_json::Value::Null);
}

#[test]
fn every_shipped_offering_states_its_timeouts() {
    use faasplan::offering::{Offering, shipped};
    for name in shipped::names() {
        let o = Offering::resolve(name).unwrap();
        let t = &o.timeout;
        assert!(
            t.default > 0 && t.max.is_none_or(|m| m >= t.default),
            "{name}"
        );
        assert!(!t.provenance.source.is_empty(), "{name}");
    }
    let max = |n: &str| Offering::resolve(n).unwrap().timeout.max;
    assert_eq!(max("aws-lambda-x86"), Some(900 * SECOND));
    assert_eq!(max("azure-functions-consumption"), Some(600 * SECOND));
    assert_eq!(max("gcp-cloud-functions-gen1"), Some(540 * SECOND));
    assert_eq!(max("azure-functions-premium-ep1"), None);
}

#[test]
fn keep_alive_and_max_lifetime_take_units() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let trace = format!("{repo}/workloads/api-steady.csv");
    let v = json(&faasplan(&[
        "simulate",
        &trace,
        "--keep-alive",
        "10m",
        "--max-lifetime",
        "2h",
        "--format",
        "json",
    ]));
    assert_eq!(v["run"]["keep_alive"], "fixed 600 s");
    assert_eq!(v["run"]["max_lifetime_s"], 7_200.0);
    let out = faasplan(&["simulate", &trace, "--keep-alive", "10 parsecs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--keep-alive"));
}

#[cfg(unix)]
#[test]
fn outputs_get_the_modes_of_ordinary_files_not_0600() {
    use std::os::unix::fs::PermissionsExt;
    let repo = env!("CARGO_MANIFEST_DIR");
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // What the umask gives a file and a directory created the ordinary way.
    let probe = dir.path().join("probe");
    std::fs::write(&probe, "x").unwrap();
    let probe_dir = dir.path().join("probe-dir");
    std::fs::create_dir(&probe_dir).unwrap();

    let out = dir.path().join("generated.csv");
    let spec = format!("{repo}/workloads/api-backend.toml");
    let o = faasplan(&["generate", &spec, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(mode(&out), mode(&probe), "generate --out");

    let report = dir.path().join("report");
    let trace = format!("{repo}/workloads/api-steady.csv");
    let o = faasplan(&["simulate", &trace, "--report", report.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(mode(&report), mode(&probe_dir), "--report directory");
}

#[test]
fn the_startup_transient_and_timeouts_raise_warnings_naming_their_flags() {
    let repo = env!("CARGO_MANIFEST_DIR");
    let trace = format!("{repo}/workloads/api-steady.csv");
    let warnings = |v: &serde_json::Value| -> Vec<String> {
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect()
    };
    // api-steady's 5 cold starts all come from the empty platform.
    let v = json(&faasplan(&[
        "simulate", &trace, "--warmup", "none", "--format", "json",
    ]));
    assert!(
        warnings(&v)
            .iter()
            .any(|w| w.contains("5 of the 5 cold starts") && w.contains("--warmup")),
        "{:?}",
        warnings(&v)
    );
    let v = json(&faasplan(&["simulate", &trace, "--format", "json"]));
    assert!(!warnings(&v).iter().any(|w| w.contains("--warmup")));
    // One of two invocations times out on Lambda.
    let dir = tempfile::tempdir().unwrap();
    let long = long_invocation_trace(&dir);
    let v = json(&faasplan(&[
        "simulate",
        &long,
        "--offering",
        "aws-lambda-x86",
        "--format",
        "json",
    ]));
    assert!(
        warnings(&v)
            .iter()
            .any(|w| w.contains("15 min timeout") && w.contains("--timeout")),
        "{:?}",
        warnings(&v)
    );
}
