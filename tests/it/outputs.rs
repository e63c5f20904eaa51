//! Snapshot tests (insta) of what every command prints, in every `--format`, on one small fixed
//! trace (`tests/data/snapshot.csv`: 60 requests, two functions, five minutes) with a fixed seed.
//! A change to any output shows up here as a diff to review (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test outputs` after a deliberate change).

use super::common::faasplan;

const TRACE: &str = "tests/data/snapshot.csv";
const FORMATS: [&str; 4] = ["table", "json", "csv", "markdown"];

/// Runs `args` with `--format F` for every format and snapshots stdout as `{name}-{F}`.
fn snapshot_every_format(name: &str, args: &[&str]) {
    for format in FORMATS {
        let mut all = args.to_vec();
        all.extend(["--format", format]);
        let out = faasplan(&all);
        assert!(
            out.status.success(),
            "{name} --format {format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
        if format == "json" {
            serde_json::from_str::<serde_json::Value>(&stdout)
                .unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
        }
        insta::assert_snapshot!(format!("{name}-{format}"), stdout);
    }
}

#[test]
fn simulate() {
    snapshot_every_format(
        "simulate",
        &[
            "simulate",
            TRACE,
            "--offering",
            "aws-lambda-x86",
            "--keep-alive",
            "1m",
            "--warmup",
            "none",
            "--seed",
            "1",
        ],
    );
}

#[test]
fn simulate_on_two_offerings() {
    snapshot_every_format(
        "simulate-offerings",
        &[
            "simulate",
            TRACE,
            "--offering",
            "aws-lambda-x86",
            "--offering",
            "gcp-cloud-run-request",
            "--seed",
            "1",
        ],
    );
}

#[test]
fn compare() {
    snapshot_every_format(
        "compare",
        &[
            "compare",
            TRACE,
            "--offering",
            "aws-lambda-x86",
            "--fleet",
            "t4g.small:slots=4,count=1",
            "--seed",
            "1",
        ],
    );
}

#[test]
fn sweep() {
    snapshot_every_format(
        "sweep",
        &[
            "sweep",
            TRACE,
            "--offering",
            "aws-lambda-x86",
            "--provisioned",
            "0..=2",
            "--replicas",
            "2",
            "--keep-alive",
            "1m",
            "--seed",
            "1",
        ],
    );
}

#[test]
fn breakeven() {
    snapshot_every_format(
        "breakeven",
        &[
            "breakeven",
            TRACE,
            "--offering",
            "aws-lambda-x86",
            "--fleet",
            "t4g.small:slots=4,count=1",
            "--seed",
            "1",
        ],
    );
}

#[test]
fn offerings() {
    snapshot_every_format("offerings", &["offerings"]);
}

#[test]
fn calibrate() {
    snapshot_every_format(
        "calibrate",
        &["calibrate", "workloads/synthetic-lambda.log"],
    );
}
