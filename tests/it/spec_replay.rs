//! A workload spec as the trace (`simulate SPEC.toml`) and the quick form (`--rate`,
//! `--duration-ms`, `--daily-peak`): the same rows as `generate` then `simulate`, counts within
//! Poisson error of the rate, and spec errors located in the file.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::{faasplan, json_out, stderr};

const SPEC: &str = r#"version = 1
duration = "2h"
seed = 3

[[function]]
name = "api"
memory_mb = 512
trigger = "sync"
duration_ms = { dist = "lognormal", p50_ms = 80, p99_ms = 450 }

[[function.arrivals]]
process = "diurnal"
peak_per_s = 6
trough_per_s = 0.6
period = "1h"

[[function]]
name = "jobs"
trigger = "async"
duration_ms = { dist = "exponential", mean_ms = 900 }

[[function.arrivals]]
process = "poisson"
rate_per_s = 0.5
"#;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn simulating_a_spec_equals_generate_then_simulate_on_the_same_seed_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(&dir, "s.toml", SPEC);
    let csv = dir.path().join("s.csv");
    let csv = csv.to_str().unwrap();
    let made = faasplan(&["generate", &spec, "--seed", "7", "--out", csv]);
    assert!(made.status.success(), "{}", stderr(&made));
    for format in ["json", "table", "csv"] {
        let run = |trace: &str| {
            let o = faasplan(&[
                "simulate",
                trace,
                "--seed",
                "7",
                "--format",
                format,
                "--threads",
                "2",
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
            String::from_utf8(o.stdout).unwrap()
        };
        let from_spec = run(&spec);
        // The outputs name their trace; everything else is the same bytes.
        let from_csv = run(csv).replace(csv, &spec);
        assert_eq!(from_spec, from_csv, "{format}");
    }
    // The run says what it generated, and that the spec's own seed was not the one used.
    let o = faasplan(&["simulate", &spec, "--seed", "7", "--format", "json"]);
    let err = stderr(&o);
    assert!(err.contains("generated") && err.contains("seed 7"), "{err}");
    assert!(err.contains("--seed 3"), "{err}");
}

#[test]
fn a_spec_on_standard_input_reads_as_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(&dir, "s.toml", SPEC);
    let file = json_out(&faasplan(&["simulate", &spec, "--format", "json"]));
    let mut child = Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args(["simulate", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(SPEC.as_bytes())
        .unwrap();
    let piped = json_out(&child.wait_with_output().unwrap());
    assert_eq!(file["invocations"], piped["invocations"]);
    assert_eq!(file["latency_ms"], piped["latency_ms"]);
}

#[test]
fn a_bad_spec_given_as_the_trace_exits_2_naming_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bad = SPEC.replace("rate_per_s = 0.5", "rate_per_s = -0.5");
    let spec = write(&dir, "bad.toml", &bad);
    let o = faasplan(&["simulate", &spec]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // The spec reader points at the arrivals table that holds the bad rate.
    let line = bad
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "[[function.arrivals]]")
        .map(|(i, _)| i + 1)
        .last()
        .unwrap();
    let err = stderr(&o);
    assert!(err.contains(&format!("bad.toml:{line}:")), "{err}");
    assert!(err.contains("rate_per_s = -0.5"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn a_sweep_over_a_spec_draws_each_replicas_own_arrivals() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(&dir, "s.toml", SPEC);
    let v = json_out(&faasplan(&[
        "sweep",
        &spec,
        "--offering",
        "aws-lambda-x86",
        "--replicas",
        "3",
        "--format",
        "json",
    ]));
    let metrics = v["grid"][0]["metrics"].as_array().unwrap();
    let invocations = metrics
        .iter()
        .find(|m| m[0] == "invocations")
        .unwrap_or_else(|| panic!("{v}"));
    // Replicas of one spec see different arrivals, so their invocation counts spread.
    assert!(invocations[1]["half_width"].as_f64().unwrap() > 0.0, "{v}");
}

/// Invocations the quick form generated.
fn quick(args: &[&str]) -> f64 {
    let mut all = vec!["simulate", "--format", "json", "--warmup", "none"];
    all.extend_from_slice(args);
    json_out(&faasplan(&all))["invocations"].as_f64().unwrap()
}

#[test]
fn the_quick_form_generates_its_rate_within_poisson_error() {
    // 50/s for an hour: 180,000 expected, standard deviation sqrt(180,000) = 424.
    let n = quick(&[
        "--rate",
        "3000/min",
        "--duration-ms",
        "lognormal:80,400",
        "--rate-span",
        "1h",
    ]);
    assert!((n - 180_000.0).abs() < 4.0 * 180_000f64.sqrt(), "{n}");
    // A daily cycle from 1/s (02:00) to 9/s (14:00), a cosine: the day's mean is (1 + 9) / 2.
    let n = quick(&[
        "--rate",
        "1/s",
        "--daily-peak",
        "9/s",
        "--duration-ms",
        "exp:50",
    ]);
    let want = 5.0 * 86_400.0;
    assert!((n - want).abs() < 4.0 * want.sqrt(), "{n} against {want}");
}

#[test]
fn the_quick_form_refuses_what_it_cannot_mean() {
    for (args, flag) in [
        (vec!["--rate", "50/s"], "--duration-ms"),
        (vec!["--rate", "0/s", "--duration-ms", "5"], "--rate"),
        (
            vec!["--rate", "5/s", "--duration-ms", "lognormal:400,80"],
            "--duration-ms",
        ),
        (
            vec!["--rate", "5/s", "--duration-ms", "5", "--daily-peak", "1/s"],
            "--daily-peak",
        ),
        (
            vec![
                "workloads/api-steady.csv",
                "--rate",
                "5/s",
                "--duration-ms",
                "5",
            ],
            "--rate",
        ),
    ] {
        let mut all = vec!["simulate"];
        all.extend(args.iter().copied());
        let o = faasplan(&all);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?}: {err}");
    }
}
