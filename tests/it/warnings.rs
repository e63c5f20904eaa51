//! Warnings that travel with the answer: the limit warnings against counts computed by hand, the
//! 0.1 % threshold, the flags they name, and the CLI outputs that carry them.

use std::io::Write;
use std::process::Command;

use faasplan::engine::{ScalingRate, simulate};
use faasplan::time::SECOND;
use faasplan::trace::{Trace, TraceBuilder, Trigger};
use faasplan::warnings::{Origin, Origins, RunFacts, Warning, for_run};

use crate::common;

/// `concurrent` sync requests of 10 minutes at t = 0, then `later` short ones one minute apart
/// after they finish (one function, so one instance serves all of those).
fn burst_then_trickle(concurrent: usize, later: usize) -> Trace {
    let mut b = TraceBuilder::new();
    let f = b.function_id("f");
    for _ in 0..concurrent {
        b.push(0, f, 600 * SECOND, 128, Trigger::Sync);
    }
    for i in 0..later {
        let at = (700 + 60 * i as u64) * SECOND;
        b.push(at as i64, f, 100_000, 128, Trigger::Sync);
    }
    b.finish()
}

/// The warnings of a run with an account limit of `limit`, given as a flag.
fn warnings(trace: &Trace, limit: u32) -> (Vec<Warning>, faasplan::outcome::Outcome) {
    let mut cfg = common::unlimited(600.0, 100.0);
    cfg.account_concurrency = Some(limit);
    cfg.scaling = Some(ScalingRate::LAMBDA);
    let o = simulate(trace, &cfg.validate_for(trace).unwrap());
    let origins = Origins {
        account_concurrency: Origin::Flag,
        ..Origins::default()
    };
    let w = for_run(&RunFacts {
        outcome: &o,
        cfg: &cfg,
        origins: &origins,
    });
    (w, o)
}

#[test]
fn twenty_concurrent_requests_on_an_account_limit_of_ten_throttle_half_and_say_so() {
    // Sync requests are refused at once when the limit is reached: 10 of the 20 run, 10 are
    // throttled by the account limit, 50 %.
    let (w, o) = warnings(&burst_then_trickle(20, 0), 10);
    assert_eq!(o.totals.throttled, 10);
    assert_eq!(o.totals.throttled_account, 10);
    let limit: Vec<&Warning> = w
        .iter()
        .filter(|w| w.flag == "--account-concurrency")
        .collect();
    assert_eq!(limit.len(), 1, "{w:?}");
    let text = limit[0].to_string();
    assert!(text.contains("account concurrency limit of 10"), "{text}");
    assert!(text.contains("50 % of requests (10 of 20)"), "{text}");
    assert!(text.ends_with("(set --account-concurrency)"), "{text}");
    // Given as a flag: no "default" note.
    assert!(!text.contains("default"), "{text}");
    // The init is a constant given by the test, not the Lambda table: no init warning.
    assert!(w.iter().all(|w| w.flag != "--init-ms"), "{w:?}");
}

#[test]
fn a_limit_refusing_less_than_a_thousandth_raises_no_warning() {
    // 11 at once on a limit of 10: 1 refused. With 1,989 more requests that is 1 of 2,000
    // (0.05 %): below the threshold. With 3 refused of 2,000 (0.15 %) it warns.
    let (w, o) = warnings(&burst_then_trickle(11, 1_989), 10);
    assert_eq!(
        (o.totals.throttled_account, o.totals.invocations),
        (1, 2_000)
    );
    assert!(w.iter().all(|w| w.flag != "--account-concurrency"), "{w:?}");
    let (w, o) = warnings(&burst_then_trickle(13, 1_987), 10);
    assert_eq!(
        (o.totals.throttled_account, o.totals.invocations),
        (3, 2_000)
    );
    assert!(w.iter().any(|w| w.flag == "--account-concurrency"), "{w:?}");
}

#[test]
fn a_default_account_limit_is_named_as_the_offerings_default_everywhere() {
    // 1,100 concurrent requests on Lambda's default 1,000: 100 throttled, 9.1 % (from an empty
    // platform: a cyclic warm-up would replay the burst before it).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("burst.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(w, "timestamp_ms,function,duration_ms").unwrap();
    for _ in 0..1_100 {
        writeln!(w, "0,f,60000").unwrap();
    }
    drop(w);
    let p = path.to_str().unwrap();
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_faasplan"))
            .args([
                "simulate",
                p,
                "--offering",
                "aws-lambda-x86",
                "--warmup",
                "none",
                // 1,100 rows at one instant look like seconds read as ms: say they are ms.
                "--time-unit",
                "ms",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (json, err) = run("json");
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ws: Vec<&str> = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    let limit = ws
        .iter()
        .find(|w| w.contains("--account-concurrency"))
        .unwrap_or_else(|| panic!("{ws:?}"));
    assert!(
        limit.contains("1,000 (the default of offering aws-lambda-x86)")
            && limit.contains("9.1 % of requests (100 of 1,100)"),
        "{limit}"
    );
    assert_eq!(j["refused_by"]["account_limit"], 100);
    // The built-in init table decided the cold starts too.
    assert!(ws.iter().any(|w| w.contains("--init-ms")), "{ws:?}");
    // Each once on stderr.
    assert_eq!(
        err.matches("warning: the account concurrency").count(),
        1,
        "{err}"
    );
    // The table ends with the block.
    let (table, _) = run("table");
    let block = table
        .split("warnings:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{table}"));
    assert!(block.contains("--account-concurrency"), "{table}");
    // The report: a box at the top of index.html, lines in summary.md.
    let report = dir.path().join("report");
    let out = Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args([
            "simulate",
            p,
            "--offering",
            "aws-lambda-x86",
            "--warmup",
            "none",
            "--time-unit",
            "ms",
            "--report",
        ])
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success());
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    let top = html
        .find("class=\"warnings\"")
        .unwrap_or_else(|| panic!("{html}"));
    assert!(
        top < html.find("<h2>Charts</h2>").unwrap(),
        "the box comes first"
    );
    assert!(html.contains("set --account-concurrency"));
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(
        md.contains("**Warnings**") && md.contains("--account-concurrency"),
        "{md}"
    );
}

#[test]
fn provisioned_schedule_runs_show_the_plan_not_provisioned_0() {
    // Regression: a schedule or target run printed "provisioned 0".
    let run = |flag: &str, value: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_faasplan"))
            .args(["simulate", "workloads/api-steady.csv", flag, value])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let table = run("--provisioned-schedule", "08:00-20:00=5,else=1");
    assert!(
        table.contains("provisioned schedule 08:00-20:00=5,else=1"),
        "{table}"
    );
    assert!(!table.contains("provisioned 0"), "{table}");
    let table = run("--provisioned-target", "0.7@2..50");
    assert!(
        table.contains("provisioned target tracking 0.7@2..50"),
        "{table}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args([
            "simulate",
            "workloads/api-steady.csv",
            "--provisioned-schedule",
            "08:00-20:00=5,else=1",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["run"]["provisioned"], 5);
    assert_eq!(
        j["run"]["provisioned_plan"],
        "schedule 08:00-20:00=5,else=1"
    );
}

#[test]
fn compare_says_durations_were_held_constant_across_cpu() {
    // Lambda gives the 512 MB function 1 vCPU in its price sheet, Cloud Functions 1st gen a
    // third of one; both ran the same durations.
    let out = Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args([
            "compare",
            "workloads/api-steady.csv",
            "--offering",
            "aws-lambda-x86",
            "--offering",
            "gcp-cloud-functions-gen1",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ws = j["warnings"].as_array().unwrap();
    assert!(
        ws.iter().any(|w| {
            let w = w.as_str().unwrap();
            w.contains("does not scale durations with CPU") && w.ends_with("(set --cpu-bound)")
        }),
        "{ws:?}"
    );
    // The same offering twice does not differ.
    let out = Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args([
            "compare",
            "workloads/api-steady.csv",
            "--offering",
            "aws-lambda-x86",
            "--offering",
            "aws-lambda-arm64",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        j["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| !w.as_str().unwrap().contains("scale durations")),
        "{}",
        j["warnings"]
    );
}
