//! Scenario files (`--scenario FILE`, `./faasplan.toml`): the same run as the flags they hold,
//! command-line flags winning over the file, and errors located in the file.

use std::process::Command;

use crate::common::{faasplan, stderr};

fn repo(rel: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .display()
        .to_string()
}

#[test]
fn a_scenario_and_the_equivalent_flags_give_byte_identical_json() {
    let scenario = repo("workloads/scenario-api.toml");
    let trace = repo("workloads/api-steady.csv");
    let from_file = faasplan(&["compare", "--scenario", &scenario, "--format", "json"]);
    let flags = faasplan(&[
        "compare",
        &trace,
        "--offering",
        "aws-lambda-arm64",
        "--memory-mb",
        "1024",
        "--provisioned-schedule",
        "08:00-20:00=20,else=0",
        "--cpu-bound",
        "0.6",
        "--cpu-ref",
        "512MB@aws-lambda-x86",
        "--seed",
        "1",
        "--fleet",
        "m7g.large:slots=16,count=2",
        "--slo",
        "p99<=1s",
        "--format",
        "json",
    ]);
    assert_same_stdout(&from_file, &flags);
}

/// A repeatable flag given as a TOML array of several values is the flag given once per value,
/// in order.
#[test]
fn an_array_of_several_values_is_the_flag_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let trace = repo("workloads/api-steady.csv");
    let s = write(
        &dir,
        "s.toml",
        &format!(
            "version = 1\ntrace = {trace:?}\noffering = [\"aws-lambda-arm64\", \
             \"aws-lambda-x86\"]\n[compare]\nfleet = [\"m7g.large:slots=16,count=2\", \
             \"c7g.large:slots=8,count=3\"]\n"
        ),
    );
    let from_file = faasplan(&["compare", "--scenario", &s, "--format", "json"]);
    let flags = faasplan(&[
        "compare",
        &trace,
        "--offering",
        "aws-lambda-arm64",
        "--offering",
        "aws-lambda-x86",
        "--fleet",
        "m7g.large:slots=16,count=2",
        "--fleet",
        "c7g.large:slots=8,count=3",
        "--format",
        "json",
    ]);
    assert_same_stdout(&from_file, &flags);
    // Four options: both offerings and both fleets, in the order given.
    let v: serde_json::Value = serde_json::from_slice(&from_file.stdout).unwrap();
    let names: Vec<&str> = v["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(
        names[0].contains("arm64") && names[1].contains("x86"),
        "{names:?}"
    );
}

/// Both runs succeeded and printed the same bytes.
fn assert_same_stdout(a: &std::process::Output, b: &std::process::Output) {
    assert!(a.status.success(), "{}", stderr(a));
    assert!(b.status.success(), "{}", stderr(b));
    assert_eq!(
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout)
    );
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn memory_of(args: &[&str]) -> u64 {
    let out = faasplan(args);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["run"]["memory_mb"]
        .as_u64()
        .unwrap_or_else(|| panic!("{v}"))
}

#[test]
fn flags_win_over_the_file_and_a_command_table_only_applies_to_its_command() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo("workloads/api-steady.csv"), dir.path().join("t.csv")).unwrap();
    let s = write(
        &dir,
        "s.toml",
        "version = 1\ntrace = \"t.csv\"\nmemory-mb = 1024\nformat = \"json\"\n\
         [simulate]\nmemory-mb = 2048\n[sweep]\nreplicas = 2\n",
    );
    // [simulate] replaces the shared value for simulate; the sweep table does not apply.
    assert_eq!(memory_of(&["simulate", "--scenario", &s]), 2048);
    // A flag on the command line wins.
    assert_eq!(
        memory_of(&["simulate", "--scenario", &s, "--memory-mb", "512"]),
        512
    );
    // A trace on the command line replaces the file's.
    let other = repo("workloads/multi-function.csv");
    let out = faasplan(&["simulate", &other, "--scenario", &s]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["run"]["trace"], other.as_str());
    // Without --scenario, ./faasplan.toml is read, and says so.
    std::fs::copy(&s, dir.path().join("faasplan.toml")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .arg("simulate")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("faasplan.toml"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["run"]["memory_mb"], 2048);
}

#[test]
fn scenario_errors_name_the_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let trace = repo("workloads/api-steady.csv");
    for (text, want) in [
        // An unknown key, on line 3 column 1.
        (
            format!("version = 1\ntrace = {trace:?}\nmemroy-mb = 512\n"),
            "s.toml:3:1: unknown setting `memroy-mb`",
        ),
        // A value of the wrong kind.
        (
            format!("version = 1\ntrace = {trace:?}\nmemory-mb = {{ a = 1 }}\n"),
            "s.toml:3:13: `memory-mb`: expected a string, number or boolean",
        ),
        // A value clap refuses: its flag is named, and the note points at the key.
        (
            format!("version = 1\ntrace = {trace:?}\n\nmemory-mb = \"lots\"\n"),
            "s.toml:4:1: `memory-mb` comes from this scenario",
        ),
        (format!("trace = {trace:?}\n"), "missing `version = 1`"),
        (
            format!("version = 1\ntrace = {trace:?}\n[function.api]\nprovisioned = 2\n"),
            "s.toml:3:2: [function.NAME] tables are not read",
        ),
        ("version = 1\ntrace = [\n".to_string(), "s.toml:"),
    ] {
        let s = write(&dir, "s.toml", &text);
        let out = faasplan(&["simulate", "--scenario", &s]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(want), "{text}: expected {want:?} in {err}");
        assert!(out.stdout.is_empty());
    }
    // Only the commands that run a trace take one.
    let out = faasplan(&["offerings", "--scenario", "x.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--scenario"));
}

#[test]
fn the_shipped_scenarios_run() {
    let out = faasplan(&[
        "simulate",
        "--scenario",
        &repo("workloads/scenario-memory.toml"),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}
