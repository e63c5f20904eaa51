//! CPU as a resource: durations that scale with the vCPUs a memory size gets, checked by hand.

use crate::common::faasplan;

fn json(args: &[&str]) -> serde_json::Value {
    crate::common::json_out(&faasplan(args))
}

/// `n` requests of `ms`, a minute apart (never two at once), without memory_mb.
fn spaced(dir: &tempfile::TempDir, n: usize, ms: f64) -> String {
    let path = dir.path().join("spaced.csv");
    let mut s = String::from("timestamp_ms,function,duration_ms\n");
    for i in 0..n {
        s.push_str(&format!("{},f,{ms}\n", i * 60_000));
    }
    std::fs::write(&path, s).unwrap();
    path.to_string_lossy().into_owned()
}

fn gb_s(v: &serde_json::Value) -> f64 {
    v["cost"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == "duration")
        .and_then(|l| l["quantity"].as_f64())
        .expect("a duration line")
}

#[test]
fn a_cpu_bound_function_costs_the_same_up_to_one_vcpu_on_lambda_and_more_beyond() {
    // Fully CPU-bound, one thread, 200 ms measured at 1 vCPU (1,769 MB). Up to 1,769 MB the
    // duration is 200 ms × 1769 / m, so GB-s per invocation stay 0.2 × 1769 / 1024 (plus at most
    // 1 ms of rounding); above it the duration stays 200 ms and GB-s grow with memory.
    let dir = tempfile::tempdir().unwrap();
    let trace = spaced(&dir, 20, 200.0);
    let flat = 0.2 * 1769.0 / 1024.0;
    let mut last = 0.0;
    for mb in [128u32, 256, 512, 1024, 1769, 2048, 3008, 10240] {
        let v = json(&[
            "simulate",
            &trace,
            "--offering",
            "aws-lambda-x86",
            "--memory-mb",
            &mb.to_string(),
            "--cpu-bound",
            "1",
            "--cpu-ref",
            "1vcpu",
            "--init-ms",
            "0",
            "--warmup",
            "none",
            "--format",
            "json",
        ]);
        let per_invocation = gb_s(&v) / 20.0;
        let ms = v["latency_ms"]["mean"].as_f64().unwrap();
        let want_ms = 200.0 * (1769.0 / f64::from(mb)).max(1.0);
        assert!(
            (ms - want_ms).abs() < 0.001,
            "{mb} MB: {ms} ms, want {want_ms}"
        );
        if mb <= 1769 {
            let rounding = f64::from(mb) / 1024.0 * 0.001;
            assert!(
                (per_invocation - flat).abs() <= rounding + 1e-12,
                "{mb} MB: {per_invocation} GB-s, want {flat}"
            );
        } else {
            assert!((per_invocation - f64::from(mb) / 1024.0 * 0.2).abs() < 1e-9);
            assert!(
                per_invocation > last,
                "{mb} MB costs more than the size below"
            );
        }
        last = per_invocation;
    }
    // No profile: durations as traced at every size (and the output says so).
    let v = json(&[
        "simulate",
        &trace,
        "--offering",
        "aws-lambda-x86",
        "--memory-mb",
        "128",
        "--init-ms",
        "0",
        "--warmup",
        "none",
        "--format",
        "json",
    ]);
    assert_eq!(v["latency_ms"]["mean"], 200.0);
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("replayed as traced")
    );
}

#[test]
fn lambda_at_512_mb_and_cloud_run_at_1_vcpu_differ_by_their_cpus() {
    let dir = tempfile::tempdir().unwrap();
    let trace = spaced(&dir, 10, 1000.0);
    let mean = |offering: &str, mb: &str| -> f64 {
        let v = json(&[
            "simulate",
            &trace,
            "--offering",
            offering,
            "--memory-mb",
            mb,
            "--cpu-bound",
            "1",
            "--cpu-ref",
            "512MB@aws-lambda-x86",
            "--init-ms",
            "0",
            "--warmup",
            "none",
            "--format",
            "json",
        ]);
        v["latency_ms"]["mean"].as_f64().unwrap()
    };
    let lambda = mean("aws-lambda-x86", "512");
    let run = mean("gcp-cloud-run-request", "512");
    assert!((lambda - 1000.0).abs() < 0.001);
    // 512 MB on Lambda is 512/1769 vCPU; Cloud Run's instance has 1.
    let want = 1769.0 / 512.0;
    assert!((lambda / run - want).abs() < 1e-3, "ratio {}", lambda / run);
}

#[test]
fn bad_cpu_settings_exit_2_naming_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let trace = spaced(&dir, 3, 100.0);
    for (args, expected) in [
        (vec!["--cpu-bound", "1.5"], "--cpu-bound"),
        (vec!["--cpu-bound=-0.1"], "--cpu-bound"),
        (
            vec!["--cpu-bound", "1", "--cpu-threads", "0"],
            "--cpu-threads",
        ),
        (vec!["--cpu-bound", "1", "--cpu-ref", "fast"], "--cpu-ref"),
        (vec!["--cpu-ref", "1vcpu"], "--cpu-ref"),
        (
            vec!["--offering", "aws-lambda-x86", "--memory-mb", "20000"],
            "10240",
        ),
        (
            vec!["--cpu-bound", "1", "--cpu-ref", "512MB@no-such-offering"],
            "no-such-offering",
        ),
    ] {
        let mut all = vec!["simulate", trace.as_str()];
        all.extend(args.iter().copied());
        let out = faasplan(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(expected),
            "{args:?}: expected {expected:?} in {err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn rows_without_memory_are_measured_where_they_run_unless_runs_differ_in_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let trace = spaced(&dir, 3, 100.0);
    // One run: the rows ran at its size, as traced, and the note says so.
    let v = json(&[
        "simulate",
        &trace,
        "--memory-mb",
        "512",
        "--cpu-bound",
        "1",
        "--init-ms",
        "0",
        "--warmup",
        "none",
        "--format",
        "json",
    ]);
    assert_eq!(v["latency_ms"]["mean"].as_f64(), Some(100.0), "{v}");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("rows without memory_mb were measured at the size they run at (512 MB"),
        "{notes}"
    );
    // Runs on different CPUs would each replay the traced duration and hide the change: a
    // memory sweep and a comparison of offerings need --cpu-ref.
    for args in [
        vec![
            "sweep",
            &trace,
            "--offering",
            "aws-lambda-x86",
            "--memory-mb",
            "128,1769",
            "--cpu-bound",
            "1",
        ],
        vec![
            "compare",
            &trace,
            "--offering",
            "aws-lambda-x86",
            "--offering",
            "gcp-cloud-run-request",
            "--memory-mb",
            "512",
            "--cpu-bound",
            "1",
        ],
    ] {
        let out = faasplan(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("--cpu-ref") && err.contains("vCPU"), "{err}");
        assert!(out.stdout.is_empty());
    }
    // Runs on the same CPU agree without one: Lambda at 1,769 MB and Cloud Run at 1 vCPU.
    let out = faasplan(&[
        "compare",
        &trace,
        "--offering",
        "aws-lambda-x86",
        "--offering",
        "gcp-cloud-run-request",
        "--memory-mb",
        "1769",
        "--cpu-bound",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A sweep's grid point's mean of `column`.
fn point(v: &serde_json::Value, i: usize, column: &str) -> f64 {
    v["grid"][i]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m[0] == column)
        .and_then(|m| m[1]["mean"].as_f64())
        .unwrap_or_else(|| panic!("point {i} has no {column}"))
}

#[test]
fn a_memory_sweep_of_a_cpu_bound_function_is_flat_in_cost_up_to_one_vcpu_and_marks_its_sizes() {
    // Fully CPU-bound, one thread, 200 ms at 1 vCPU, never two at once, no cold starts. Oracle
    // (Lambda: 1 vCPU at 1,769 MB): duration 200 × 1769 / m ms up to 1,769 MB, 200 ms above;
    // GB-s per invocation flat (0.2 × 1769 / 1024, plus at most 1 ms of rounding) up to 1,769
    // MB, rising with memory above it. Every point is billed $0.20 per 1M requests on top.
    let dir = tempfile::tempdir().unwrap();
    let trace = spaced(&dir, 30, 200.0);
    let sizes = [128u32, 256, 512, 1024, 1769, 3008, 10240];
    let list: Vec<String> = sizes.iter().map(u32::to_string).collect();
    let v = json(&[
        "sweep",
        &trace,
        "--offering",
        "aws-lambda-x86",
        "--memory-mb",
        &list.join(","),
        "--cpu-bound",
        "1",
        "--cpu-ref",
        "1vcpu",
        "--init-ms",
        "0",
        "--replicas",
        "1",
        "--slo",
        "p99<=400ms",
        "--format",
        "json",
        "--quiet",
    ]);
    let gb_s_rate = 0.0000166667;
    let request = 0.2e-6;
    let flat = 0.2 * 1769.0 / 1024.0;
    let mut last = 0.0;
    for (i, &mb) in sizes.iter().enumerate() {
        let p99 = point(&v, i, "latency_ms_p99");
        let want = 200.0 * (1769.0 / f64::from(mb)).max(1.0);
        // p99 comes from a histogram with 3 significant digits.
        assert!(
            (p99 - want).abs() <= want * 1e-3,
            "{mb} MB: p99 {p99}, want {want}"
        );
        let gb_s = (point(&v, i, "cost_per_invocation_usd") - request) / gb_s_rate;
        if mb <= 1769 {
            let rounding = f64::from(mb) / 1024.0 * 0.001;
            assert!(
                (gb_s - flat).abs() <= rounding + 1e-9,
                "{mb} MB: {gb_s} GB-s per invocation, want {flat}"
            );
        } else {
            assert!(
                (gb_s - f64::from(mb) / 1024.0 * 0.2).abs() < 1e-9,
                "{mb} MB"
            );
            assert!(gb_s > last, "{mb} MB costs more than the size below");
        }
        last = gb_s;
    }
    // 1,769 MB is cheapest (flat cost, but the 1 ms rounding bites least there: 200 ms exactly)
    // and fastest; the SLO (p99 <= 400 ms) first holds at 1,024 MB (345.5 ms), but 1,769 MB is
    // cheaper, so the SLO search picks it too.
    let m = &v["memory"];
    assert_eq!(m["cheapest"], 4, "{m}");
    assert_eq!(m["fastest"], 4, "{m}");
    assert_eq!(m["slo_pick"], v["recommended"]);
    assert_eq!(m["balanced_weight"], 0.5);
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("100 % CPU-bound"))
    );
}

const POWER_TUNING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/workloads/power-tuning-example.json"
);

/// Lambda's duration price as Power Tuning's example was billed: 100 ms rounding (before
/// December 2020) at $0.0000166667 per GB-s, no request charge (Power Tuning's averagePrice is
/// the duration charge alone).
fn lambda_2020(dir: &tempfile::TempDir) -> String {
    let good = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/pricing/good.toml"
    ))
    .unwrap();
    let path = dir.path().join("lambda-2020.toml");
    std::fs::write(
        &path,
        good.replace("name = \"test-good\"", "name = \"lambda-2020\"")
            .replace("rounding = \"1ms\"", "rounding = \"100ms\""),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_real_power_tuning_output_reproduces_its_own_average_cost_per_size() {
    // workloads/power-tuning-example.json: the example in Power Tuning's README-INPUT-OUTPUT.md
    // (6 sizes, 128 to 3008 MB). Replay it as measured: a trace measured at 1,024 MB (its
    // average duration there), swept over the measured sizes with --power-tuning, billed at the
    // rate of its time (100 ms rounding). Each size's duration is then the measured average
    // there, and its bill per invocation must be averagePrice within 1 % (Power Tuning priced a
    // 128 MB-ms at $2.08e-9, AWS's published figure rounded; 0.2 % below the GB-s rate).
    let pt: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(POWER_TUNING).unwrap()).unwrap();
    let stats = pt["results"]["stats"].as_array().unwrap();
    let at = |mb: u64, key: &str| {
        stats
            .iter()
            .find(|s| s["value"].as_u64() == Some(mb))
            .and_then(|s| s[key].as_f64())
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("measured-at-1024.csv");
    let mut csv = String::from("timestamp_ms,function,duration_ms,memory_mb\n");
    for i in 0..10 {
        // A minute apart: the longest (128 MB, 37 s) never overlaps the next.
        csv.push_str(&format!(
            "{},f,{},1024\n",
            i * 60_000,
            at(1024, "averageDuration")
        ));
    }
    std::fs::write(&path, csv).unwrap();
    let sizes: Vec<u64> = stats.iter().map(|s| s["value"].as_u64().unwrap()).collect();
    let list: Vec<String> = sizes.iter().map(u64::to_string).collect();
    let offering = lambda_2020(&dir);
    let v = json(&[
        "sweep",
        path.to_str().unwrap(),
        "--offering",
        &offering,
        "--memory-mb",
        &list.join(","),
        "--power-tuning",
        POWER_TUNING,
        "--init-ms",
        "0",
        "--replicas",
        "1",
        "--format",
        "json",
        "--quiet",
    ]);
    for (i, &mb) in sizes.iter().enumerate() {
        let mean = point(&v, i, "latency_ms_mean");
        let want = at(mb, "averageDuration");
        // Microsecond durations: a relative 1e-6.
        assert!(
            (mean / want - 1.0).abs() < 1e-6,
            "{mb} MB: {mean} ms, want {want}"
        );
        let cost = point(&v, i, "cost_per_invocation_usd");
        let price = at(mb, "averagePrice");
        assert!(
            (cost / price - 1.0).abs() < 0.01,
            "{mb} MB: ${cost} per invocation, Power Tuning ${price}"
        );
    }
    assert!(v["notes"][0].as_str().unwrap().contains("Power Tuning"));
    // Beyond the measured sizes: refused, naming the file and the sizes, unless told.
    let args = |extra: &[&str]| {
        let mut a = vec![
            "simulate",
            path.to_str().unwrap(),
            "--offering",
            "aws-lambda-x86",
            "--memory-mb",
            "10240",
            "--power-tuning",
            POWER_TUNING,
            "--init-ms",
            "0",
            "--format",
            "json",
        ];
        a.extend_from_slice(extra);
        faasplan(&a)
    };
    let out = args(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--power-tuning") && err.contains("power-tuning-example.json"),
        "{err}"
    );
    assert!(
        err.contains("128 to 3008 MB") && err.contains("10240 MB"),
        "{err}"
    );
    let v = crate::common::json_out(&args(&["--power-tuning-extrapolate"]));
    let held = v["latency_ms"]["mean"].as_f64().unwrap();
    assert!(
        (held / at(3008, "averageDuration") - 1.0).abs() < 1e-6,
        "{held}"
    );
    assert!(v["notes"][0].as_str().unwrap().contains("nearest measured"));
}

#[test]
fn a_power_tuning_file_without_stats_exits_2_naming_the_file_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let trace = spaced(&dir, 3, 100.0);
    for (body, expected) in [
        (
            r#"{"results": {"power": "512", "cost": 1e-7, "duration": 12.5}}"#,
            "includeOutputResults",
        ),
        (r#"{"results": {"stats": []}}"#, "stats = []"),
        (
            r#"{"results": {"stats": [{"value": 128}]}}"#,
            "none with averageDuration",
        ),
        ("{\"results\": ", "pt.json:1: column"),
    ] {
        let file = dir.path().join("pt.json");
        std::fs::write(&file, body).unwrap();
        let out = faasplan(&[
            "simulate",
            &trace,
            "--power-tuning",
            file.to_str().unwrap(),
            "--cpu-ref",
            "1024MB",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{body}: {err}");
        assert!(err.contains("pt.json"), "{body}: {err}");
        assert!(
            err.contains(expected),
            "{body}: expected {expected:?} in {err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn every_run_command_says_in_its_json_notes_how_durations_relate_to_cpu() {
    let trace = "tests/data/snapshot.csv";
    let base = [
        "--offering",
        "aws-lambda-x86",
        "--format",
        "json",
        "--quiet",
    ];
    for cmd in [
        vec!["simulate", trace, "--offering", "gcp-cloud-run-request"],
        vec!["compare", trace, "--fleet", "t4g.small:slots=4,count=1"],
        vec!["breakeven", trace, "--fleet", "t4g.small:slots=4,count=1"],
        vec!["sweep", trace, "--provisioned", "0,1", "--replicas", "2"],
    ] {
        let mut args = cmd.clone();
        // simulate has no --quiet.
        let n = if cmd[0] == "simulate" { 4 } else { 5 };
        args.extend_from_slice(&base[..n]);
        let v = json(&args);
        let notes = v["notes"]
            .as_array()
            .unwrap_or_else(|| panic!("{cmd:?}: {v}"));
        assert!(
            notes
                .iter()
                .filter_map(|n| n.as_str())
                .any(|n| n.contains("replayed as traced")),
            "{cmd:?}: {notes:?}"
        );
    }
    let v = json(&[
        "calibrate",
        "workloads/synthetic-lambda.log",
        "--format",
        "json",
    ]);
    assert!(v["notes"].as_array().is_some_and(|n| !n.is_empty()), "{v}");
}

#[test]
fn cpu_utilisation_of_instances_by_hand() {
    // 20 requests of 200 ms measured at 1 vCPU, half CPU-bound, one at a time, on Lambda at
    // 512 MB (c = 512/1769 vCPU): each runs d = 200 × (0.5 / c + 0.5) ms and uses 100 ms of one
    // vCPU's work, so the busy instance uses 100 / (d × c) of its CPU.
    let dir = tempfile::tempdir().unwrap();
    let trace = spaced(&dir, 20, 200.0);
    let run = |extra: &[&str]| {
        let mut args = vec![
            "simulate",
            trace.as_str(),
            "--offering",
            "aws-lambda-x86",
            "--memory-mb",
            "512",
            "--init-ms",
            "0",
            "--warmup",
            "none",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        json(&args)
    };
    let v = run(&["--cpu-bound", "0.5", "--cpu-ref", "1vcpu"]);
    let c = 512.0 / 1769.0;
    let d = 200.0 * (0.5 / c + 0.5);
    let cpu = &v["cpu"];
    let got = |k: &str| cpu[k].as_f64().unwrap_or_else(|| panic!("{k} in {cpu}"));
    assert!((got("vcpu_per_instance") - c).abs() < 1e-9, "{cpu}");
    // Microsecond durations: a relative 1e-5.
    assert!(
        (got("busy_vcpu_s") / (20.0 * 0.1) - 1.0).abs() < 1e-5,
        "{cpu}"
    );
    assert!(
        (got("loaded_instance_s") / (20.0 * d / 1e3) - 1.0).abs() < 1e-5,
        "{cpu}"
    );
    assert!(
        (got("utilisation") / (100.0 / (d * c)) - 1.0).abs() < 1e-5,
        "{cpu}"
    );
    // Without a profile there is nothing to say: no cpu object.
    assert!(run(&[]).get("cpu").is_none());
}

/// What an oracle reads from a run, bit for bit.
fn fingerprint(o: &faasplan::outcome::Outcome) -> String {
    let q = |l: &faasplan::outcome::Latency| {
        [0.5, 0.9, 0.99, 0.999, 1.0]
            .map(|p| l.quantile_us(p))
            .to_vec()
    };
    format!(
        "{:?} {} {} {} {} {} {:?} {:?} {} {:?}",
        o.totals,
        o.window_us,
        o.alive_integral_us,
        o.peak_account_usage,
        o.latency.sum_us,
        o.latency.max_us,
        q(&o.latency),
        q(&o.init),
        o.init.sum_us,
        o.minutes
    )
}

#[test]
fn with_no_cpu_profile_the_queueing_oracles_see_exactly_the_same_runs() {
    // The Erlang-B and M/G/inf set-ups of tests/it/queueing.rs (which check the numbers against
    // theory with no profile). A profile that cannot change a duration (0 % CPU-bound, or
    // measured at exactly the platform's CPU) must give the same run bit for bit: the CPU model
    // touches nothing else.
    use crate::common::{self, Service};
    use faasplan::engine::{CpuModel, CpuReference, simulate};
    let lambda = faasplan::offering::Offering::resolve("aws-lambda-x86").unwrap();
    let c = lambda.vcpu(128);
    let identities = [
        CpuModel {
            bound: 0.0,
            threads: 1.0,
            platform: lambda.vcpu_rule(),
            reference: CpuReference::Vcpu(1.0),
            measured: None,
        },
        CpuModel {
            bound: 1.0,
            threads: 1.0,
            platform: lambda.vcpu_rule(),
            reference: CpuReference::Vcpu(c),
            measured: None,
        },
    ];
    let setups: Vec<(faasplan::trace::Trace, faasplan::engine::PlatformConfig)> = vec![
        {
            let mut cfg = common::unlimited(600.0, 100.0);
            cfg.provisioned = 10;
            cfg.max_concurrency = Some(10);
            (
                common::poisson(8.0, 2_000.0, Service::Exponential(1.0), 100),
                cfg,
            )
        },
        {
            let mut cfg = common::unlimited(1e9, 250.0);
            cfg.horizon = Some(2_000 * faasplan::time::SECOND);
            (
                common::poisson(5.0, 2_000.0, Service::LogNormal(0.3, 0.8), 7),
                cfg,
            )
        },
    ];
    for (trace, cfg) in setups {
        assert!(cfg.cpu.is_none());
        let none = fingerprint(&simulate(&trace, &cfg.validate_for(&trace).unwrap()));
        for m in &identities {
            let mut with = cfg.clone();
            with.cpu = Some(m.clone());
            let got = fingerprint(&simulate(&trace, &with.validate_for(&trace).unwrap()));
            assert_eq!(got, none, "{m:?}");
        }
    }
}

#[test]
fn a_memory_sweep_report_draws_the_power_tuning_chart_and_names_its_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let trace = spaced(&dir, 10, 200.0);
    let report = dir.path().join("report");
    let out = faasplan(&[
        "sweep",
        &trace,
        "--offering",
        "aws-lambda-x86",
        "--memory-mb",
        "256,1769,3008",
        "--cpu-bound",
        "1",
        "--cpu-ref",
        "1vcpu",
        "--replicas",
        "1",
        "--quiet",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("power tuning: cheapest, fastest, balanced: memory_mb = 1769"),
        "{table}"
    );
    let png = std::fs::read(report.join("power_tuning.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(
        md.contains("power tuning:") && md.contains("100 % CPU-bound"),
        "{md}"
    );
    // Without a memory axis there is no such chart.
    let report = dir.path().join("provisioned");
    let out = faasplan(&[
        "sweep",
        &trace,
        "--offering",
        "aws-lambda-x86",
        "--provisioned",
        "0,1",
        "--replicas",
        "1",
        "--quiet",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(!report.join("power_tuning.png").exists());
}
