//! `compare` and `breakeven` through the binary: the JSON shape, the SLO sizing of fixed fleets,
//! and the break-even point against the closed form.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use rand::SeedableRng;

use crate::common;

fn faasplan(args: &[&str]) -> serde_json::Value {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    serde_json::from_str(&stdout).expect("JSON on stdout")
}

/// Exit code, stdout and stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args(args)
        .output()
        .expect("run faasplan");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A canonical trace from (arrival s, duration s) rows of one function.
fn write_rows(path: &Path, rows: &[(f64, f64)]) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "timestamp_ms,function,duration_ms,memory_mb").unwrap();
    for (at, d) in rows {
        writeln!(w, "{:.3},job,{:.3},1769", at * 1e3, d * 1e3).unwrap();
    }
}

/// A steady Poisson trace at `rate` per second for `hours`, constant duration, fixed memory.
fn write_poisson(path: &Path, rate: f64, hours: f64, duration_ms: f64, memory_mb: u32) {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(17);
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "timestamp_ms,function,duration_ms,memory_mb").unwrap();
    let mut t = 0.0;
    loop {
        t += common::exp(&mut rng, rate);
        if t >= hours * 3600.0 {
            break;
        }
        writeln!(w, "{:.3},api,{duration_ms},{memory_mb}", t * 1e3).unwrap();
    }
}

#[test]
fn compare_json_has_one_entry_per_option_with_the_documented_fields() {
    let j = faasplan(&[
        "compare",
        "workloads/api-steady.csv",
        "--offering",
        "aws-lambda-x86",
        "--fleet",
        "m7g.large:slots=8,count=2",
        "--fleet",
        "t4g.small:slots=4,autoscale=1..4@0.6",
        "--fleet-lb",
        "none",
        "--format",
        "json",
    ]);
    let options = j["options"].as_array().unwrap();
    assert_eq!(options.len(), 3);
    let faas = &options[0];
    assert_eq!(faas["kind"], "faas");
    assert_eq!(faas["name"], "aws-lambda-x86");
    assert!(faas["invocations"].as_u64().unwrap() > 0);
    assert!(faas["latency_ms"]["p99"].is_number());
    assert!(faas["cost"]["monthly_usd"].is_number());
    for fleet in &options[1..] {
        assert_eq!(fleet["kind"], "fleet");
        assert_eq!(fleet["invocations"], faas["invocations"]);
        for k in ["rejected", "waited_ratio", "utilisation"] {
            assert!(fleet[k].is_number(), "{k}");
        }
        for k in ["mean", "p50", "p95", "p99"] {
            assert!(fleet["queue_wait_ms"][k].is_number(), "queue_wait_ms.{k}");
        }
        for k in ["min", "mean", "max"] {
            assert!(fleet["instances"][k].is_number(), "instances.{k}");
        }
        assert!(fleet["cost"]["monthly_usd"].as_f64().unwrap() > 0.0);
    }
    // Two m7g.large for the whole window: 2 × $0.0816 × 730 h a month.
    let m7g = options[1]["cost"]["monthly_usd"].as_f64().unwrap();
    assert!((m7g - 2.0 * 0.0816 * 730.0).abs() < 0.01, "{m7g}");
}

#[test]
fn a_fixed_fleet_without_a_count_is_the_smallest_meeting_the_slo() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("busy.csv");
    // 40/s × 0.5 s, one slot per instance, service at full speed: about 20 busy servers.
    write_poisson(&trace, 40.0, 0.5, 500.0, 1769);
    let t = trace.to_str().unwrap();
    let j = faasplan(&[
        "compare",
        t,
        "--fleet",
        "c7g.large:slots=1,speed=1",
        "--format",
        "json",
    ]);
    let sized = &j["options"][0];
    assert!(
        j["fleet_slo"]
            .as_str()
            .unwrap()
            .contains("p99 queue wait <= 1,000 ms (the default)"),
        "{}",
        j["fleet_slo"]
    );
    assert_eq!(sized["feasible"], true);
    let n = sized["instances"]["max"].as_u64().unwrap();
    assert!(
        sized["sizing"].as_str().unwrap().contains("smallest"),
        "{sized}"
    );
    assert!((20..=40).contains(&n), "n = {n}");
    assert_eq!(sized["rejected"], 0);
    assert!(sized["queue_wait_ms"]["p99"].as_f64().unwrap() <= 1000.0);
    // One fewer misses it, and is marked so.
    let fewer = format!("c7g.large:slots=1,speed=1,count={}", n - 1);
    let j = faasplan(&["compare", t, "--fleet", &fewer, "--format", "json"]);
    let wait = j["options"][0]["queue_wait_ms"]["p99"].as_f64().unwrap();
    assert!(
        wait > 1000.0,
        "with {} instances the p99 wait is {wait} ms",
        n - 1
    );
    assert_eq!(j["options"][0]["feasible"], false);
}

#[test]
fn breakeven_matches_the_closed_form() {
    // Lambda x86, 128 MB, 100 ms against one always-on m7g.large ($0.0816/h):
    // cost per request c = 0.125 GB × 0.1 s × $0.0000166667 + $0.0000002;
    // break-even rate = 0.0816 / (3600 × c) ≈ 55.5 requests/s. Both costs are exactly linear
    // and flat in the request rate (up to init billing of a few cold starts), so the log-space
    // interpolation of the crossing is exact up to that.
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("steady.csv");
    write_poisson(&trace, 1.0, 2.0, 100.0, 128);
    let run = |lb: &str| {
        faasplan(&[
            "breakeven",
            trace.to_str().unwrap(),
            "--offering",
            "aws-lambda-x86",
            "--fleet",
            "m7g.large:slots=64,count=1",
            "--fleet-lb",
            lb,
            "--min-factor",
            "1",
            "--max-factor",
            "200",
            "--points",
            "5",
            "--format",
            "json",
        ])
    };
    let j = run("none");
    let c = 0.125 * 0.1 * 0.0000166667 + 0.0000002;
    let expected = 0.0816 / (3600.0 * c);
    let got = j["crossing"]["requests_per_s"].as_f64().unwrap();
    assert!(
        (got - expected).abs() / expected < 0.01,
        "break-even {got:.2} requests/s, closed form {expected:.2}"
    );
    // With the ALB in front of the fleet: $0.0225 an hour plus its LCUs, which at 1 KB a
    // request and one request per connection are new connections, r / 25 an hour at $0.008.
    // Lambda costs 3600 c r an hour, so r = (0.0816 + 0.0225) / (3600 c - 0.008 / 25).
    let with_lb = run("alb")["crossing"]["requests_per_s"].as_f64().unwrap();
    let closed = (0.0816 + 0.0225) / (3600.0 * c - 0.008 / 25.0);
    assert!(
        (with_lb - closed).abs() / closed < 0.01,
        "break-even with an ALB {with_lb:.2} requests/s, closed form {closed:.2}"
    );
    // The instance carries that rate: no rejections near the crossing.
    for p in j["points"].as_array().unwrap() {
        if p["requests_per_s"].as_f64().unwrap() < 2.0 * expected {
            assert_eq!(p["fleet_rejected"], 0);
        }
    }
}

#[test]
fn a_fleet_slo_can_be_given() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("busy.csv");
    write_poisson(&trace, 40.0, 0.5, 500.0, 1769);
    let t = trace.to_str().unwrap();
    let size = |extra: &[&str]| -> u64 {
        let mut args = vec![
            "compare",
            t,
            "--fleet",
            "c7g.large:slots=1,speed=1",
            "--format",
            "json",
        ];
        args.extend(extra);
        let j = faasplan(&args);
        j["options"][0]["instances"]["max"].as_u64().unwrap()
    };
    // A looser p99 bound needs no more servers; a tighter one needs at least as many.
    let default = size(&[]);
    let loose = size(&["--fleet-p99-ms", "5000"]);
    let tight = size(&["--fleet-p99-ms", "600"]);
    assert!(
        loose <= default && default <= tight,
        "{loose} {default} {tight}"
    );
    assert!(tight > loose, "the bound must matter: {loose} vs {tight}");
}

#[test]
fn breakeven_never_calls_a_fleet_cheaper_where_its_p99_misses_the_slo() {
    // 2 requests/s of 0.5 s on one single-slot t4g.small at full speed: load 0.1 at k = 0.1,
    // 10 at k = 10 (the queue grows without bound). The fleet's price is flat ($12/month) while
    // Lambda at 1,769 MB costs about 2 × 0.5 × 1.728 GB-s × $0.0000166667 × 2.63M s a month ≈
    // $76 at k = 1: at high k the fleet is far cheaper on price, and far too slow.
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("steady.csv");
    write_poisson(&trace, 2.0, 1.0, 500.0, 1769);
    let j = faasplan(&[
        "breakeven",
        trace.to_str().unwrap(),
        "--offering",
        "aws-lambda-x86",
        "--fleet",
        "t4g.small:slots=1,count=1,speed=1",
        "--fleet-p99-ms",
        "2000",
        "--min-factor",
        "0.1",
        "--max-factor",
        "10",
        "--points",
        "5",
        "--format",
        "json",
    ]);
    let points = j["points"].as_array().unwrap();
    let f = |p: &serde_json::Value, k: &str| p[k].as_f64().unwrap();
    let mut cheaper_but_infeasible = 0;
    for p in points {
        let over = f(p, "fleet_p99_ms") > 2000.0;
        assert_eq!(p["fleet_feasible"], !over, "{p}");
        if over {
            assert_ne!(p["cheaper"], "fleet", "{p}");
            if f(p, "fleet_monthly_usd") < f(p, "faas_monthly_usd") {
                cheaper_but_infeasible += 1;
            }
        }
    }
    // The case is what it claims: at k = 10 the fleet is cheaper on price and over its SLO.
    let last = points.last().unwrap();
    assert!(f(last, "fleet_p99_ms") > 2000.0, "{last}");
    assert!(cheaper_but_infeasible >= 1, "{points:?}");
    // Any break-even lies below the first factor where the fleet is infeasible.
    let first_bad = points
        .iter()
        .find(|p| p["fleet_feasible"] == false)
        .map(|p| f(p, "k"))
        .unwrap();
    if let Some(c) = j["crossing"]["k"].as_f64() {
        assert!(c < first_bad, "crossing {c} at or beyond {first_bad}");
    }
    assert!(
        j["verdict"]
            .as_str()
            .unwrap()
            .contains("the fleet misses its SLO"),
        "{}",
        j["verdict"]
    );
    assert!(
        j["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("misses the SLO")),
        "{}",
        j["warnings"]
    );
}

#[test]
fn compare_marks_an_overloaded_fleet_infeasible_and_recommends_the_feasible_one() {
    // 4 requests/s of 0.5 s: 2 busy slots on average. One t4g.small slot is overloaded (load 2);
    // an m7g.large with 8 slots carries it. The t4g.small is cheaper and must not be chosen.
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("busy.csv");
    write_poisson(&trace, 4.0, 0.5, 500.0, 1769);
    let t = trace.to_str().unwrap();
    let args = [
        "compare",
        t,
        "--fleet",
        "t4g.small:slots=1,count=1,speed=1",
        "--fleet",
        "m7g.large:slots=8,count=1,speed=1",
        "--format",
        "json",
    ];
    let j = faasplan(&args);
    let (small, large) = (&j["options"][0], &j["options"][1]);
    assert!(small["cost"]["monthly_usd"].as_f64() < large["cost"]["monthly_usd"].as_f64());
    assert_eq!(small["feasible"], false, "{small}");
    assert!(
        small["failed"][0].as_str().unwrap().contains("queue wait"),
        "{}",
        small["failed"]
    );
    assert_eq!(large["feasible"], true, "{large}");
    assert_eq!(j["recommended"], "m7g.large:slots=8,count=1,speed=1");

    // The table says so too.
    let (code, out, _) = run(&args[..args.len() - 2]);
    assert_eq!(code, 0);
    assert!(
        out.contains(
            "recommended: m7g.large:slots=8,count=1,speed=1, the cheapest option that meets the SLO"
        ),
        "{out}"
    );
    assert!(out.contains("MISS"), "{out}");

    // An --slo nothing meets: "none meets the SLO" and exit 1, as sweep does.
    let mut strict = args.to_vec();
    strict.extend(["--slo", "p99<=1ms"]);
    let (code, out, _) = run(&strict);
    assert_eq!(code, 1, "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(j["recommended"].is_null());
    assert!(
        j["recommendation"]
            .as_str()
            .unwrap()
            .contains("none meets the SLO")
    );
}

#[test]
fn the_default_fleet_slo_rejects_minutes_of_queue_wait_on_long_functions() {
    // Every 15 minutes three 5-minute jobs arrive at once. Two single-slot servers serve two at
    // once; the third waits 5 minutes, so its latency is 10 minutes: exactly the old default
    // bound (2x the p99 duration), which accepted it. A third of the requests wait 5 minutes:
    // the p99 wait is 300 s, far over the 1 s default.
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("long.csv");
    let rows: Vec<(f64, f64)> = (0..8)
        .flat_map(|i| std::iter::repeat_n((i as f64 * 900.0, 300.0), 3))
        .collect();
    write_rows(&trace, &rows);
    let t = trace.to_str().unwrap();
    let j = faasplan(&[
        "compare",
        t,
        "--fleet",
        "c7g.large:slots=1,count=2,speed=1",
        "--fleet",
        "c7g.large:slots=1,speed=1",
        "--format",
        "json",
    ]);
    let two = &j["options"][0];
    let wait = two["queue_wait_ms"]["p99"].as_f64().unwrap();
    assert!((wait - 300_000.0).abs() < 3_000.0, "p99 wait {wait} ms");
    assert_eq!(two["feasible"], false, "{two}");
    // Sized for the default SLO: three servers, so nobody waits.
    let sized = &j["options"][1];
    assert_eq!(sized["feasible"], true, "{sized}");
    assert_eq!(sized["instances"]["max"], 3, "{sized}");
    assert_eq!(sized["queue_wait_ms"]["p99"], 0.0, "{sized}");
}

#[test]
fn a_fixed_fleet_reports_its_count_as_instances_min() {
    // Regression: the initial launches passed through 1..N, so a fixed fleet of 3 said "min 1".
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("steady.csv");
    write_poisson(&trace, 1.0, 0.2, 100.0, 128);
    let j = faasplan(&[
        "compare",
        trace.to_str().unwrap(),
        "--fleet",
        "m7g.large:slots=8,count=3",
        "--format",
        "json",
    ]);
    let i = &j["options"][0]["instances"];
    assert_eq!(
        (i["min"].as_u64(), i["max"].as_u64()),
        (Some(3), Some(3)),
        "{i}"
    );
}

#[test]
fn compare_and_breakeven_progress_stays_off_stdout() {
    // The bar (shared with sweep) is hidden off-terminal and with --quiet: stdout stays JSON.
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("steady.csv");
    write_poisson(&trace, 1.0, 0.2, 100.0, 128);
    let t = trace.to_str().unwrap();
    for quiet in [false, true] {
        let mut args = vec![
            "breakeven",
            t,
            "--offering",
            "aws-lambda-x86",
            "--fleet",
            "m7g.large:slots=8,count=1",
            "--points",
            "2",
            "--format",
            "json",
        ];
        if quiet {
            args.push("--quiet");
        }
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        assert!(
            serde_json::from_str::<serde_json::Value>(&out).is_ok(),
            "{out}"
        );
        assert!(!err.contains("ETA"), "{err}");
        args[0] = "compare";
        args.retain(|a| *a != "--points" && *a != "2");
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        assert!(
            serde_json::from_str::<serde_json::Value>(&out).is_ok(),
            "{out}"
        );
        assert!(!err.contains("ETA"), "{err}");
    }
}

#[test]
fn the_compare_report_shows_cpu_utilisation_of_instances_and_servers_with_a_cpu_profile() {
    let args = |format: &'static str| {
        vec![
            "compare",
            "workloads/api-steady.csv",
            "--offering",
            "aws-lambda-x86",
            "--fleet",
            "m7g.large:slots=8,count=2",
            "--cpu-bound",
            "0.5",
            "--cpu-ref",
            "1vcpu",
            "--format",
            format,
        ]
    };
    let j = faasplan(&args("json"));
    let (code, md, err) = run(&args("markdown"));
    assert_eq!(code, 0, "{err}");
    let header = md.lines().find(|l| l.starts_with("| option")).unwrap();
    assert!(header.contains("| CPU |"), "{header}");
    let options = j["options"].as_array().unwrap();
    for (name, cpu, vcpus) in [
        ("aws-lambda-x86", &options[0]["cpu"], "vcpu_per_instance"),
        (
            "m7g.large:slots=8,count=2",
            &options[1]["cpu"],
            "vcpus_per_instance",
        ),
    ] {
        let u = cpu["utilisation"].as_f64().unwrap_or_else(|| panic!("{j}"));
        assert!(u > 0.0 && u <= 1.0 + 1e-9, "{name}: {u}");
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap();
        // The column names the share of the vCPUs of one instance or server.
        let v = cpu[vcpus].as_f64().unwrap();
        assert!(
            row.contains(&format!("of {} vCPU", faasplan_sig(v))),
            "{row}"
        );
    }
    // Without a profile nothing says which part of a duration used the CPU: no column.
    let (_, md, _) = run(&[
        "compare",
        "workloads/api-steady.csv",
        "--offering",
        "aws-lambda-x86",
        "--format",
        "markdown",
    ]);
    assert!(!md.contains("| CPU |"));
}

/// Three significant figures, as the report writes them.
fn faasplan_sig(v: f64) -> String {
    faasplan::report::fmt::sig(v)
}

#[test]
fn fleets_get_two_instances_for_redundancy_and_a_load_balancer_on_their_bill() {
    let fleet = |extra: &[&str]| {
        let mut args = vec![
            "compare",
            "workloads/api-steady.csv",
            "--fleet",
            "m7g.large:slots=8",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let j = faasplan(&args);
        j["options"][0].clone()
    };
    // Sized for the SLO, which one instance meets: the redundancy minimum of 2 is what it gets,
    // and the sizing says why.
    let f = fleet(&[]);
    assert_eq!(f["instances"]["max"], 2, "{f}");
    assert!(f["sizing"].as_str().unwrap().contains("redundancy"), "{f}");
    let lines = f["cost"]["lines"].as_array().unwrap();
    let line = |item: &str| {
        lines
            .iter()
            .find(|l| l["item"] == item)
            .unwrap_or_else(|| panic!("{item} in {f}"))
            .clone()
    };
    // The ALB runs the whole window: its hours are the window's, at $0.0225 an hour.
    let window_h = f["window_s"].as_f64().unwrap() / 3600.0;
    let hours = line("load balancer hours (ALB)");
    assert!((hours["quantity"].as_f64().unwrap() - window_h).abs() < 1e-9);
    assert!((hours["amount_usd"].as_f64().unwrap() - window_h * 0.0225).abs() < 1e-12);
    let lcu = line("load balancer LCU-hours (ALB)");
    assert!(lcu["quantity"].as_f64().unwrap() > 0.0);
    let window_usd: f64 = lines
        .iter()
        .map(|l| l["amount_usd"].as_f64().unwrap())
        .sum();
    assert!((window_usd - f["cost"]["window_usd"].as_f64().unwrap()).abs() < 1e-9);
    // A month of the ALB alone: 730 hours x $0.0225 = $16.425.
    let instances = line("m7g.large instance-hours")["amount_usd"]
        .as_f64()
        .unwrap();
    let monthly = f["cost"]["monthly_usd"].as_f64().unwrap();
    let lcu_month = lcu["amount_usd"].as_f64().unwrap() * 730.0 / window_h;
    let instances_month = instances * 730.0 / window_h;
    assert!(
        (monthly - instances_month - lcu_month - 16.425).abs() < 1e-6,
        "{monthly}"
    );

    // --fleet-lb none and --min-instances 1: one instance, no load balancer, and a warning.
    let j = faasplan(&[
        "compare",
        "workloads/api-steady.csv",
        "--fleet",
        "m7g.large:slots=8",
        "--fleet-lb",
        "none",
        "--min-instances",
        "1",
        "--format",
        "json",
    ]);
    let f = &j["options"][0];
    assert_eq!(f["instances"]["max"], 1, "{f}");
    assert_eq!(f["cost"]["lines"].as_array().unwrap().len(), 1, "{f}");
    assert!(
        j["warnings"].to_string().contains("availability zones"),
        "{j}"
    );
}

/// The default speed rule (a server vCPU runs a request in its traced duration × its Lambda
/// vCPU share) decides a fleet's answer: it is a warning, which `speed=` takes away.
#[test]
fn a_fleets_default_speed_rule_is_a_warning_and_speed_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("steady.csv");
    write_poisson(&trace, 1.0, 2.0, 100.0, 512);
    let warnings = |fleet: &str| {
        let j = faasplan(&[
            "compare",
            trace.to_str().unwrap(),
            "--fleet",
            fleet,
            "--format",
            "json",
        ]);
        j["warnings"].to_string()
    };
    let default = warnings("m7g.large:slots=8,count=2");
    assert!(
        default.contains("vCPU share its function had on Lambda")
            && default.contains("set speed=F"),
        "{default}"
    );
    let given = warnings("m7g.large:slots=8,count=2,speed=1");
    assert!(!given.contains("vCPU share"), "{given}");
}
