//! `faasplan sweep` through the binary: monotone benefits of provisioned concurrency, the cost
//! curve, the SLO search against brute force, thread-count determinism, and 1/√R intervals.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use rand::SeedableRng;

use crate::common;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args(args)
        .output()
        .expect("run faasplan")
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = run(args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Poisson at `rate`/s for `seconds`, constant `duration_ms`, 128 MB.
fn write_poisson(path: &Path, rate: f64, seconds: f64, duration_ms: f64) {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "timestamp_ms,function,duration_ms,memory_mb").unwrap();
    let mut t = 0.0;
    loop {
        t += common::exp(&mut rng, rate);
        if t >= seconds {
            break;
        }
        writeln!(w, "{:.3},api,{duration_ms},128", t * 1e3).unwrap();
    }
}

fn metric(point: &serde_json::Value, name: &str) -> (f64, f64) {
    let m = point["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m[0] == name)
        .unwrap_or_else(|| panic!("no metric {name}"));
    (
        m[1]["mean"].as_f64().unwrap(),
        m[1]["half_width"].as_f64().unwrap(),
    )
}

fn steady(dir: &Path) -> String {
    let p = dir.join("steady.csv");
    // λE[S] = 2 busy instances on average; a 10 s keep-alive leaves plenty of cold starts.
    write_poisson(&p, 10.0, 3_600.0, 200.0);
    p.to_str().unwrap().to_string()
}

fn sweep_args(trace: &str) -> Vec<String> {
    [
        "sweep",
        trace,
        "--offering",
        "aws-lambda-x86",
        "--keep-alive",
        "10",
        // A whole number of 5-minute blocks, so provisioned billing is not rounded up.
        "--horizon",
        "60m",
        "--init-ms",
        "lognormal:200,800",
        "--provisioned",
        "0..=10",
        "--replicas",
        "4",
        "--format",
        "json",
        "--quiet",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn provisioned_concurrency_never_hurts_and_idle_instances_cost_linearly() {
    let dir = tempfile::tempdir().unwrap();
    let trace = steady(dir.path());
    let args = sweep_args(&trace);
    let j = json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let grid = j["grid"].as_array().unwrap();
    assert_eq!(grid.len(), 11);
    for w in grid.windows(2) {
        for m in ["cold_start_ratio", "latency_ms_p99"] {
            let (a, ha) = metric(&w[0], m);
            let (b, hb) = metric(&w[1], m);
            assert!(b <= a + ha + hb + 1e-9, "{m} rose from {a} to {b}");
        }
    }
    let cost: Vec<f64> = grid
        .iter()
        .map(|p| metric(p, "cost_monthly_usd").0)
        .collect();
    // The first provisioned instance takes every request that finds it idle: with 2 Erlangs
    // offered it is busy a(1 − B(1, a)) = 2/3 of the time, above the 60 % break-even, so the
    // cost falls or stays flat.
    let (c0, h0) = metric(&grid[0], "cost_monthly_usd");
    assert!(cost[1] <= c0 + h0 + 0.01, "{cost:?}");
    // Past the busy level each extra instance sits idle and costs exactly its provisioned
    // GB-s: 0.125 GB × $0.0000041667/GB-s × 730 h.
    let per_instance = 0.125 * 0.0000041667 * 730.0 * 3600.0;
    for w in cost[8..].windows(2) {
        let step = w[1] - w[0];
        assert!(
            (step - per_instance).abs() < 0.02 * per_instance,
            "step {step} vs {per_instance} ({cost:?})"
        );
    }
}

#[test]
fn the_slo_search_picks_what_brute_force_picks() {
    let dir = tempfile::tempdir().unwrap();
    let trace = steady(dir.path());
    let mut args = sweep_args(&trace);
    args.extend(["--slo", "cold_start_ratio<=1%", "--slo", "p99<=600ms"].map(String::from));
    let j = json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let grid = j["grid"].as_array().unwrap();
    let brute = grid
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            let (c, hc) = metric(p, "cold_start_ratio");
            let (l, hl) = metric(p, "latency_ms_p99");
            c + hc <= 0.01 && l + hl <= 600.0
        })
        .min_by(|a, b| {
            metric(a.1, "cost_monthly_usd")
                .0
                .total_cmp(&metric(b.1, "cost_monthly_usd").0)
        })
        .map(|(i, _)| i);
    assert!(brute.is_some(), "the test needs a feasible point");
    assert_eq!(j["recommended"].as_u64().map(|i| i as usize), brute);
    // An impossible SLO: no recommendation, exit code 1.
    let mut args = sweep_args(&trace);
    args.extend(["--slo", "p99<=1ms"].map(String::from));
    let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no grid point meets"));
    // A metric that does not exist is an error (exit 2), not an unmet SLO.
    let mut args = sweep_args(&trace);
    args.extend(["--slo", "cold_ratio<=1%"].map(String::from));
    let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no metric"));
}

#[test]
fn one_thread_and_two_threads_give_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let trace = steady(dir.path());
    let bytes = |threads: &str| {
        let mut args = sweep_args(&trace);
        args.extend(["--threads", threads].map(String::from));
        let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(0));
        out.stdout
    };
    assert_eq!(bytes("1"), bytes("2"));
}

#[test]
fn ci_half_width_shrinks_as_one_over_root_r() {
    // The mean init time varies with the seed only. From R = 4 to R = 16 the half-width
    // t·s/√R shrinks by 2 × t(0.975, 3)/t(0.975, 15) ≈ 2.99 in expectation of s; with s from 3
    // degrees of freedom the ratio scatters, so take the median over 9 independent points and
    // accept 1.5..6 (the 5–95 % range of that median is about 1.9..4.5).
    let dir = tempfile::tempdir().unwrap();
    let trace = steady(dir.path());
    let hw = |r: &str| -> Vec<f64> {
        let mut args = sweep_args(&trace);
        let i = args.iter().position(|a| a == "--replicas").unwrap();
        args[i + 1] = r.to_string();
        // Every point identical (no provisioned instances), so each is an independent estimate.
        let p = args.iter().position(|a| a == "--provisioned").unwrap();
        args[p + 1] = "0".to_string();
        let mut all = Vec::new();
        for seed in 0..9 {
            let mut a = args.clone();
            a.extend(["--seed".to_string(), (seed * 1000).to_string()]);
            let j = json(&a.iter().map(String::as_str).collect::<Vec<_>>());
            all.push(metric(&j["grid"][0], "init_ms_mean").1);
        }
        all
    };
    let (h4, h16) = (hw("4"), hw("16"));
    let mut ratios: Vec<f64> = h4.iter().zip(&h16).map(|(a, b)| a / b).collect();
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    assert!(
        (1.5..6.0).contains(&median),
        "median ratio {median} ({ratios:?})"
    );
}

/// Seven days of two functions, each day Poisson at its own rate ("api" at `RATES[d]`/s, "jobs"
/// at half that), 100 ms each, 128 MB: about 7,300 rows.
const RATES: [f64; 7] = [0.008, 0.002, 0.012, 0.004, 0.014, 0.006, 0.010];

fn seven_days(path: &Path) {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(77);
    let mut rows: Vec<(f64, &str)> = Vec::new();
    for (d, &rate) in RATES.iter().enumerate() {
        for (name, r) in [("api", rate), ("jobs", rate / 2.0)] {
            let mut t = d as f64 * 86_400.0;
            loop {
                t += common::exp(&mut rng, r);
                if t >= (d + 1) as f64 * 86_400.0 {
                    break;
                }
                rows.push((t, name));
            }
        }
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "timestamp_ms,function,duration_ms,memory_mb").unwrap();
    for (t, name) in rows {
        writeln!(w, "{:.3},{name},100,128", t * 1e3).unwrap();
    }
}

/// The cold starts of each of the 7 days of the trace as it is (seed 0).
fn daily_cold_starts(path: &Path) -> Vec<f64> {
    let (trace, _) =
        faasplan::trace::format::load(path, &faasplan::trace::format::LoadOptions::default())
            .unwrap();
    let mut cfg = common::unlimited(60.0, 0.0);
    cfg.init = faasplan::engine::InitDist::parse("lognormal:200,800").unwrap();
    let o = faasplan::engine::simulate(&trace, &cfg.validate_for(&trace).unwrap());
    let mut days = vec![0.0; 7];
    for (m, minute) in o.minutes.iter().enumerate() {
        days[(m / 1440).min(6)] += minute.cold_starts as f64;
    }
    days
}

#[test]
fn block_bootstrap_interval_covers_the_spread_of_days_and_init_only_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("week.csv");
    seven_days(&path);
    let trace = path.to_str().unwrap();
    const R: usize = 20;
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            trace,
            "--offering",
            "aws-lambda-x86",
            "--keep-alive",
            "60",
            "--init-ms",
            "lognormal:200,800",
            "--replicas",
            "20",
            "--format",
            "json",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        let j = json(&args);
        assert_eq!(j["grid"].as_array().unwrap().len(), 1, "no axis: one point");
        j
    };
    let boot = sweep(&["--resample", "block:1d"]);
    let init_only = sweep(&[]);
    assert_eq!(boot["interval"], "prediction");
    assert_eq!(boot["resample"]["blocks"], 7);
    assert_eq!(init_only["interval"], "mean");
    let (boot_mean, boot_hw) = metric(&boot["grid"][0], "cold_starts");
    let (_, init_hw) = metric(&init_only["grid"][0], "cold_starts");

    // The honest spread: the 7 days' cold-start counts are 7 draws of "a day"; the weekly total
    // is their sum, whose standard error from the day-to-day spread is √7·s_days.
    let days = daily_cold_starts(&path);
    let total: f64 = days.iter().sum();
    let (_, se_day_mean) = common::mean_se(&days); // s_days / √7
    let se_total = 7.0 * se_day_mean; // √7 · s_days
    // A bootstrap week sums 7 days drawn with replacement: sd √(6/7)·√7·s_days. The prediction
    // half-width t(0.975, 19)·s·√(1 + 1/20) is then 2.09 × 1.025 × 0.926 ≈ 1.98 standard
    // errors in expectation; s from 19 degrees of freedom is below 0.533 of its value with
    // probability 0.1 % (χ²(19) 0.1 % quantile 5.41), so it covers one standard error.
    assert!(
        boot_hw >= se_total,
        "bootstrap ±{boot_hw:.1} narrower than the days' standard error {se_total:.1} (days {days:?})"
    );
    // Init-time draws alone leave the traffic fixed: their interval does not cover it.
    assert!(
        init_hw < se_total,
        "init-only ±{init_hw:.1} vs the days' standard error {se_total:.1}"
    );
    // The bootstrap is centred on the trace: its mean week is the observed week within 4
    // standard errors of a mean of 20 replicas (s = half-width / (t·√(1 + 1/R))).
    let s = boot_hw / (2.093 * (1.0 + 1.0 / R as f64).sqrt());
    assert!(
        (boot_mean - total).abs() <= 4.0 * s / (R as f64).sqrt(),
        "bootstrap mean {boot_mean:.1} vs the week's {total:.1} (s {s:.1})"
    );
    eprintln!(
        "7-day trace: days {days:?}; standard error of the week {se_total:.1}; block:1d ±{boot_hw:.1} \
         (mean {boot_mean:.1}, trace {total}); init-only ±{init_hw:.2}"
    );
}

#[test]
fn resample_block_outside_a_minute_to_half_the_trace_exits_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let trace = steady(dir.path()); // one hour
    for bad in ["block:30s", "block:31m", "block:soon", "1h", "bootstrap:1h"] {
        let mut args = sweep_args(&trace);
        args.extend(["--resample", bad].map(String::from));
        let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("--resample"), "{bad}: {err}");
    }
    let mut args = sweep_args(&trace);
    args.extend(["--resample", "block:30m"].map(String::from));
    let j = json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(j["resample"]["blocks"], 2);
}

#[test]
fn sweep_output_with_resample_does_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let trace = steady(dir.path());
    let bytes = |threads: &str| {
        let mut args = sweep_args(&trace);
        args.extend(["--threads", threads, "--resample", "block:10m"].map(String::from));
        let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(0));
        out.stdout
    };
    assert_eq!(bytes("1"), bytes("2"));
}

/// The table's rows, after the header line and the blank line.
fn table_rows(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .skip(3)
        .take_while(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn no_axis_sweep_is_one_point_as_configured_with_a_label_and_a_report() {
    // It used to print "recommended: " with an empty label and fail at --report.
    let dir = tempfile::tempdir().unwrap();
    let trace = steady(dir.path());
    let report = dir.path().join("report");
    let out = run(&[
        "sweep",
        &trace,
        "--offering",
        "aws-lambda-x86",
        "--replicas",
        "2",
        "--slo",
        "p99<=2s",
        "--quiet",
        "--report",
        report.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("recommended: as configured (monthly $"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(md.contains("as configured"), "{md}");
    let j = json(&[
        "sweep",
        &trace,
        "--offering",
        "aws-lambda-x86",
        "--replicas",
        "2",
        "--slo",
        "p99<=2s",
        "--format",
        "json",
    ]);
    assert_eq!(j["recommended"], 0);
    assert_eq!(j["grid"][0]["settings"].as_array().unwrap().len(), 0);
}

#[test]
fn table_shows_an_interval_on_every_cell_or_on_none() {
    // Cells with a zero half-width used to be bare beside "±0.0" cells.
    let dir = tempfile::tempdir().unwrap();
    let trace = steady(dir.path());
    for (replicas, every) in [("3", true), ("1", false)] {
        let mut args = sweep_args(&trace);
        let f = args.iter().position(|a| a == "json").unwrap();
        args[f] = "table".into();
        let r = args.iter().position(|a| a == "--replicas").unwrap();
        args[r + 1] = replicas.into();
        let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let rows = table_rows(&out.stdout);
        assert_eq!(rows.len(), 11, "{rows:?}");
        for row in rows {
            // provisioned, then 5 metric cells.
            assert_eq!(row.matches('±').count(), if every { 5 } else { 0 }, "{row}");
        }
    }
}

#[test]
fn sweep_help_promises_one_offering_and_lists_the_slo_metrics() {
    let out = run(&["sweep", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.contains("Repeat it to replay"), "{help}");
    assert!(help.contains("The one offering"), "{help}");
    for name in faasplan::sweep::metric::METRICS
        .iter()
        .flat_map(|m| m.slo_names)
    {
        assert!(help.contains(name), "--help lacks {name}");
    }
    assert!(help.contains("block:DURATION"), "{help}");
}

#[test]
fn slo_ratio_without_percent_is_rejected_and_p99_9_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let trace = steady(dir.path());
    let mut args = sweep_args(&trace);
    args.extend(["--slo", "cold_start_ratio<=0.5"].map(String::from));
    let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--slo") && err.contains("0.5%"), "{err}");
    let mut args = sweep_args(&trace);
    args.extend(["--slo", "p99.9<=60s"].map(String::from));
    let j = json(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(j["slos"][0]["column"], "latency_ms_p999");
    assert!(j["recommended"].is_u64());
}

/// Each named sweep metric reads the summary field whose column `--format csv` prints under its
/// name: renaming a field or a column fails here instead of silently renaming an SLO metric.
#[test]
fn each_named_metric_reads_the_csv_column_it_names() {
    use faasplan::export::summary::{Percentiles, Summary};
    use faasplan::sweep::metric::METRICS;
    let trace = common::poisson(2.0, 600.0, common::Service::Constant(0.2), 5);
    let mut cfg = common::unlimited(60.0, 150.0);
    cfg.provisioned = 1;
    let offering = faasplan::offering::Offering::resolve("aws-lambda-x86").unwrap();
    cfg.usage = offering.usage_spec();
    let o = faasplan::engine::simulate(&trace, &cfg.validate_for(&trace).unwrap());
    let mut s = Summary::new(
        &o,
        common::neutral_run_info(trace.invocations().len() as u64, 0, false, 0),
    );
    let mut bill = faasplan::cost::bill(&o, &offering, &Default::default()).unwrap();
    // Distinct values, so that two metrics reading one field (or swapped columns) are caught.
    s.latency_ms = Percentiles {
        mean: 1.5,
        p50: 2.5,
        p90: 3.5,
        p95: 4.5,
        p99: 5.5,
        p999: 6.5,
        max: 7.5,
    };
    s.cold_start_ratio = 0.125;
    s.throttle_ratio = 0.0625;
    s.instance_seconds.provisioned_idle = 8.25;
    bill.monthly_usd = 9.75;
    s.cost = Some(bill);
    let columns = faasplan::export::csv::columns(&s);
    let mut seen = Vec::new();
    for info in METRICS {
        assert_eq!(info.metric.column(), info.column);
        let (_, cell) = columns
            .iter()
            .find(|(c, _)| c == info.column)
            .unwrap_or_else(|| panic!("no CSV column {}", info.column));
        let value = info.metric.value(&s).unwrap();
        assert_eq!(cell.parse::<f64>().unwrap(), value, "{}", info.column);
        assert!(
            !seen.contains(&value.to_bits()),
            "{} repeats a value",
            info.column
        );
        seen.push(value.to_bits());
    }
}
