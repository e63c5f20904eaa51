//! The binary itself: flags, exit codes, bad input, and what it writes.

use std::path::Path;
use std::process::{Command, Output};

fn faasplan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args(args)
        .output()
        .expect("run the faasplan binary")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Each bad-input case: exit code 2, the file, line and column in the message, no panic.
#[test]
fn bad_input_names_file_line_and_column_and_exits_2() {
    let cases = [
        (
            "missing_column.csv",
            ":1: missing required column `duration_ms`",
        ),
        ("bad_number.csv", ":3:3: duration_ms \"80ms\": not a number"),
        (
            "negative_duration.csv",
            ":3:3: duration_ms \"-5\": must be >= 0",
        ),
        (
            "nan_duration.csv",
            ":2:3: duration_ms \"NaN\": must be a finite number",
        ),
        ("empty.csv", ": the file is empty"),
        ("duplicate_header.csv", ":1:4: duplicate column `function`"),
        ("non_utf8.csv", ":3:2: function: invalid UTF-8"),
        ("short_row.csv", ":3: expected 3 fields"),
        (
            "no_rows.csv",
            ": the header is there but no data rows follow",
        ),
    ];
    for (file, expected) in cases {
        let path = format!("tests/data/bad/{file}");
        let out = faasplan(&["simulate", &path, "--format", "json"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert!(
            err.contains(&format!("{path}{expected}")),
            "{file}: expected {path}{expected}\ngot: {err}"
        );
        assert!(!err.contains("panicked"), "{file}: {err}");
        assert!(out.stdout.is_empty(), "{file}: no partial output on stdout");
    }
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let out = faasplan(&["simulate", "tests/data/bad/does-not-exist.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does-not-exist.csv"));
}

#[test]
fn skip_bad_rows_reports_counts_and_reasons() {
    let path = "tests/data/bad/mixed_bad_rows.csv";
    let out = faasplan(&["simulate", path, "--skip-bad-rows", "--format", "json"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("skipped 5 of 8 rows"), "{err}");
    assert!(err.contains("2 x duration_ms: must be >= 0"), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["invocations"], 3);
    assert_eq!(json["run"]["rows_skipped"], 5);
}

#[test]
fn bad_flags_exit_2_with_the_flag_named() {
    for (args, needle) in [
        (vec!["--init-ms", "lognormal:50,10"], "--init-ms"),
        (vec!["--scaling-rate", "fast"], "--scaling-rate"),
        (vec!["--horizon", "soon"], "--horizon"),
        (
            vec!["--max-concurrency", "2", "--provisioned", "5"],
            "--max-concurrency",
        ),
        (vec!["--keep-alive=-1"], "--keep-alive"),
    ] {
        let mut all = vec!["simulate", "workloads/api-steady.csv"];
        all.extend(args.iter());
        let out = faasplan(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn json_has_the_documented_fields() {
    let out = faasplan(&[
        "simulate",
        "workloads/multi-function.csv",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "invocations",
        "warm_starts",
        "cold_starts",
        "throttled",
        "cold_start_ratio",
        "throttle_ratio",
        "window_s",
    ] {
        assert!(j[key].is_number(), "{key}");
    }
    for key in ["mean", "p50", "p90", "p95", "p99", "p999", "max"] {
        assert!(j["latency_ms"][key].is_number(), "latency_ms.{key}");
        assert!(j["init_ms"][key].is_number(), "init_ms.{key}");
    }
    for key in ["peak_busy", "mean_busy", "mean_alive"] {
        assert!(j["concurrency"][key].is_number(), "concurrency.{key}");
    }
    for key in [
        "on_demand_busy",
        "on_demand_idle",
        "provisioned_busy",
        "provisioned_idle",
    ] {
        assert!(
            j["instance_seconds"][key].is_number(),
            "instance_seconds.{key}"
        );
    }
    let functions = j["functions"].as_array().unwrap();
    assert!(functions.len() > 1);
    let sum: u64 = functions
        .iter()
        .map(|f| f["invocations"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, j["invocations"].as_u64().unwrap());
    // alive = busy + idle + initialising, so the mean alive is at least the mean busy.
    assert!(j["concurrency"]["mean_alive"].as_f64() >= j["concurrency"]["mean_busy"].as_f64());
}

#[test]
fn per_minute_series_is_written_and_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let pm = dir.path().join("pm.csv");
    let out = faasplan(&[
        "simulate",
        "workloads/api-steady.csv",
        "--format",
        "json",
        "--per-minute",
        pm.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(&pm).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(faasplan::export::per_minute::HEADER));
    assert!(faasplan::export::per_minute::HEADER.starts_with(
        "minute,invocations,cold_starts,throttles,dead_lettered,peak_busy,mean_busy,mean_alive"
    ));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len() as f64, j["window_s"].as_f64().unwrap() / 60.0);
    let total: f64 = rows.iter().map(|r| r[1]).sum();
    assert_eq!(total as u64, j["invocations"].as_u64().unwrap());
    let cold: f64 = rows.iter().map(|r| r[2]).sum();
    assert_eq!(cold as u64, j["cold_starts"].as_u64().unwrap());
    // The window mean is the mean of the per-minute means (all minutes are whole).
    let mean_busy = rows.iter().map(|r| r[6]).sum::<f64>() / rows.len() as f64;
    assert!((mean_busy - j["concurrency"]["mean_busy"].as_f64().unwrap()).abs() < 1e-3);
    let peak = rows.iter().map(|r| r[5]).fold(0.0, f64::max);
    assert_eq!(peak as u64, j["concurrency"]["peak_busy"].as_u64().unwrap());
}

#[test]
fn a_failed_run_leaves_no_per_minute_file() {
    let dir = tempfile::tempdir().unwrap();
    let pm = dir.path().join("pm.csv");
    let out = faasplan(&[
        "simulate",
        "tests/data/bad/negative_duration.csv",
        "--per-minute",
        pm.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!pm.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary left behind"
    );
}

#[test]
fn unsorted_input_is_sorted_and_said_so() {
    let out = faasplan(&["simulate", "workloads/bursty-unsorted.csv"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("not in arrival order; sorted them"));
}

#[test]
fn same_seed_same_bytes_across_thread_counts() {
    let run = |threads: &str| {
        let out = faasplan(&[
            "simulate",
            "workloads/multi-function.csv",
            "--format",
            "json",
            "--seed",
            "7",
            "--threads",
            threads,
        ]);
        assert_eq!(out.status.code(), Some(0));
        out.stdout
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn broken_pipe_exits_quietly() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args([
            "simulate",
            "workloads/multi-function.csv",
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn the_readme_quick_start_trace_exists() {
    assert!(Path::new("workloads/api-steady.csv").exists());
}

/// Regression: `--per-minute /dev/null` once renamed a regular file over the device (as root).
#[test]
fn writing_to_a_device_keeps_the_device() {
    use std::os::unix::fs::FileTypeExt;
    let out = faasplan(&[
        "simulate",
        "workloads/api-steady.csv",
        "--per-minute",
        "/dev/null",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let meta = std::fs::metadata("/dev/null").unwrap();
    assert!(
        meta.file_type().is_char_device(),
        "/dev/null is still a device"
    );
}

#[test]
fn threads_beyond_the_documented_maximum_exit_2_naming_the_flag_before_starting_any() {
    // Before, --threads 100000 hung and --threads 10000 ran 14 s, then failed without the flag.
    for n in ["0", "257", "100000"] {
        let out = faasplan(&["simulate", "workloads/api-steady.csv", "--threads", n]);
        assert_eq!(out.status.code(), Some(2), "--threads {n}");
        let err = stderr(&out);
        assert!(
            err.contains("--threads") && err.contains("1..=256"),
            "{err}"
        );
    }
}

#[test]
fn a_breakeven_factor_too_large_for_memory_is_refused_before_scaling() {
    // Before, --max-factor 1e9 aborted allocating 1.3 TB (exit 134).
    let out = faasplan(&[
        "breakeven",
        "workloads/api-steady.csv",
        "--offering",
        "aws-lambda-x86",
        "--fleet",
        "c7g.large:slots=8,count=2",
        "--max-factor",
        "1000000000",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--max-factor") && err.contains("8903 invocations") && err.contains("11232"),
        "{err}"
    );
}
