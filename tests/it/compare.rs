//! `compare` and `breakeven` through the binary: the JSON shape, the SLO sizing of fixed fleets,
//! and the break-even point against the closed form.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use rand::SeedableRng;

use crate::common;

fn faasplan(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args(args)
        .output()
        .expect("run faasplan");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
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
            .contains("2x the trace's p99 duration")
    );
    let n = sized["instances"]["max"].as_u64().unwrap();
    assert!(
        sized["sizing"].as_str().unwrap().contains("smallest"),
        "{sized}"
    );
    assert!((20..=40).contains(&n), "n = {n}");
    assert_eq!(sized["rejected"], 0);
    assert!(sized["latency_ms"]["p99"].as_f64().unwrap() <= 1000.0);
    // One fewer misses it.
    let fewer = format!("c7g.large:slots=1,speed=1,count={}", n - 1);
    let j = faasplan(&["compare", t, "--fleet", &fewer, "--format", "json"]);
    let p99 = j["options"][0]["latency_ms"]["p99"].as_f64().unwrap();
    assert!(p99 > 1000.0, "with {} instances p99 is {p99} ms", n - 1);
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
    let j = faasplan(&[
        "breakeven",
        trace.to_str().unwrap(),
        "--offering",
        "aws-lambda-x86",
        "--fleet",
        "m7g.large:slots=64,count=1",
        "--min-factor",
        "1",
        "--max-factor",
        "100",
        "--points",
        "5",
        "--format",
        "json",
    ]);
    let c = 0.125 * 0.1 * 0.0000166667 + 0.0000002;
    let expected = 0.0816 / (3600.0 * c);
    let got = j["crossing"]["requests_per_s"].as_f64().unwrap();
    assert!(
        (got - expected).abs() / expected < 0.01,
        "break-even {got:.2} requests/s, closed form {expected:.2}"
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
