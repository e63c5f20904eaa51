//! Every reader reads its input once: standard input (`-`), `/dev/stdin`, a FIFO and a file give
//! the same run. Before, sniffing opened the trace and the reader opened it again, so a pipe lost
//! its head (a CloudWatch log lost its first 64 KiB with exit 0) or was "empty", and a FIFO hung.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::faasplan;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Runs faasplan with `bytes` written to its standard input.
fn faasplan_stdin(args: &[&str], bytes: Vec<u8>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the faasplan binary");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        // The reader may stop early on an error; a closed pipe is then no failure of the test.
        let _ = stdin.write_all(&bytes);
    });
    let out = child.wait_with_output().expect("wait for faasplan");
    writer.join().expect("writer thread");
    out
}

/// Runs faasplan reading `trace` through a FIFO named `fifo` in its argument list.
#[cfg(unix)]
fn faasplan_fifo(args: &[&str], trace: &Path) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("trace.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let fifo_arg = fifo.to_str().unwrap().to_string();
    let args: Vec<&str> = args
        .iter()
        .map(|&a| if a == "FIFO" { fifo_arg.as_str() } else { a })
        .collect();
    let bytes = std::fs::read(trace).unwrap();
    let writer = std::thread::spawn(move || {
        let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        let _ = w.write_all(&bytes);
    });
    let out = faasplan(&args);
    writer.join().expect("writer thread");
    out
}

/// The run's results without the fields that name the input (`run.trace`, function names taken
/// from a file's stem).
fn results(out: &Output) -> serde_json::Value {
    let mut v = crate::common::json_out(out);
    let o = v.as_object_mut().unwrap();
    o.remove("run");
    if let Some(fs) = o.get_mut("functions").and_then(|f| f.as_array_mut()) {
        for f in fs {
            f.as_object_mut().unwrap().remove("name");
        }
    }
    v
}

/// `trace` read as a file, from standard input as `-` and as `/dev/stdin`, and through a FIFO,
/// with `extra` flags: the same results every time.
fn same_every_way(trace: &Path, extra: &[&str]) {
    let file = trace.to_str().unwrap();
    let args = |t: &str| -> Vec<String> {
        let mut a = vec!["simulate".to_string(), t.to_string()];
        a.extend(extra.iter().map(|s| s.to_string()));
        a.extend(["--format".into(), "json".into()]);
        a
    };
    let as_strs = |v: &[String]| v.iter().map(String::as_str).collect::<Vec<_>>().join(" ");
    let a = args(file);
    let r: Vec<&str> = a.iter().map(String::as_str).collect();
    let expected = results(&faasplan(&r));
    assert!(
        expected["invocations"].as_u64().unwrap() > 0,
        "{}",
        as_strs(&a)
    );
    let bytes = std::fs::read(trace).unwrap();
    for t in ["-", "/dev/stdin"] {
        let a = args(t);
        let r: Vec<&str> = a.iter().map(String::as_str).collect();
        let got = results(&faasplan_stdin(&r, bytes.clone()));
        assert_eq!(got, expected, "{} from a pipe", as_strs(&a));
    }
    #[cfg(unix)]
    {
        let a = args("FIFO");
        let r: Vec<&str> = a.iter().map(String::as_str).collect();
        let got = results(&faasplan_fifo(&r, trace));
        assert_eq!(got, expected, "{} through a FIFO", as_strs(&a));
    }
}

#[test]
fn a_canonical_trace_from_a_pipe_or_fifo_equals_the_file() {
    // 265 kB: longer than the 256 KiB head sniffing reads, so both the head and the rest matter.
    same_every_way(&repo("workloads/api-steady.csv"), &[]);
    // Not in arrival order and several functions: read first, then simulated.
    same_every_way(&repo("workloads/multi-function.csv"), &[]);
}

#[test]
fn a_cloudwatch_log_from_a_pipe_keeps_its_first_64_kib() {
    // 451 kB of raw REPORT lines: a pipe used to lose the 64 KiB the raw/Insights check read.
    same_every_way(&repo("workloads/synthetic-lambda.log"), &[]);
    same_every_way(&repo("tests/data/cloudwatch/insights.csv"), &[]);
}

#[test]
fn azure_traces_from_a_pipe_equal_the_file() {
    let d = repo("tests/data/azure2019");
    let durations = d.join("durations.csv");
    let memory = d.join("memory.csv");
    let day2 = d.join("day2.csv");
    same_every_way(
        &d.join("day1.csv"),
        &[
            "--durations",
            durations.to_str().unwrap(),
            "--memory",
            memory.to_str().unwrap(),
            "--next-day",
            day2.to_str().unwrap(),
        ],
    );
    same_every_way(&repo("tests/data/azure2021/invocations-head20.csv"), &[]);
}

/// A sweep parses an Azure 2019 trace once and expands it with each replica's seed, so a pipe
/// (read once) gives the same sweep as the file (issue 16: it used to re-read the file per
/// replica, and refused a pipe). A workload spec is still read per replica: from a pipe, refused.
#[test]
fn a_sweep_of_replicas_reads_a_piped_azure_2019_trace_once() {
    let d = repo("tests/data/azure2019");
    let durations = d.join("durations.csv");
    let day = d.join("day1.csv");
    let args = |trace: &str| -> Vec<String> {
        [
            "sweep",
            trace,
            "--durations",
            durations.to_str().unwrap(),
            "--provisioned",
            "0,1",
            "--replicas",
            "3",
            "--offering",
            "aws-lambda-x86",
            "--quiet",
            "--format",
            "json",
        ]
        .map(String::from)
        .to_vec()
    };
    let piped = faasplan_stdin(
        &args("-").iter().map(String::as_str).collect::<Vec<_>>(),
        std::fs::read(&day).unwrap(),
    );
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let file = crate::common::faasplan(
        &args(day.to_str().unwrap())
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(file.status.success());
    let without_name = |o: &std::process::Output| {
        let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_object_mut().unwrap().remove("trace");
        v
    };
    assert!(
        without_name(&piped) == without_name(&file),
        "the pipe's sweep differs"
    );
    // The replicas differ (each its own expansion of the counts): the window's end varies.
    let v = without_name(&file);
    let window = &v["grid"][0]["metrics"][0];
    assert_eq!(window[0], "window_s");
    assert!(window[1]["half_width"].as_f64().unwrap() > 0.0, "{window}");
    let spec = std::fs::read(repo("workloads/api-backend.toml")).unwrap();
    let out = faasplan_stdin(
        &[
            "sweep",
            "-",
            "--trace-format",
            "spec",
            "--provisioned",
            "0,1",
            "--replicas",
            "2",
            "--offering",
            "aws-lambda-x86",
            "--quiet",
        ],
        spec,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("<stdin>") && err.contains("once per replica") && err.contains("--replicas 1"),
        "{err}"
    );
}

#[test]
fn an_empty_pipe_is_an_empty_trace_not_a_panic() {
    let out = faasplan_stdin(&["simulate", "-"], Vec::new());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<stdin>") && err.contains("empty"), "{err}");
}
