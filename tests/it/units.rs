//! Units and shapes of real CSVs (issue 10): the same trace written in seconds, as ISO-8601
//! date-times or under unit-less names simulates exactly like the millisecond original, and a
//! trace read in the wrong unit is refused with the likely unit instead of simulated.
//!
//! Regression: a trace in seconds was read as milliseconds with no warning ("1.0 min window",
//! 806 cold starts, $398/month instead of $12).

use std::path::{Path, PathBuf};
use std::process::Output;

use faasplan::engine::{InitDist, PlatformConfig, simulate};
use faasplan::export::summary::Summary;
use faasplan::trace::format::{LoadOptions, TraceFormat, load, sniff_path};
use faasplan::trace::units::TimeUnit;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn api_steady() -> PathBuf {
    root().join("workloads/api-steady.csv")
}

/// One row of the original: timestamp and duration in whole microseconds (the file has at most
/// three decimals of ms, so this is exact), and the other fields as written.
struct Row {
    at_us: i64,
    function: String,
    duration_us: i64,
    memory: String,
    trigger: String,
}

/// An exact decimal number of milliseconds as microseconds.
fn ms_to_us(s: &str) -> i64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    assert!(frac.len() <= 3, "{s}: more than 3 decimals");
    let int: i64 = int.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
    let frac: i64 = format!("{frac:0<3}")
        .parse()
        .unwrap_or_else(|e| panic!("{s}: {e}"));
    int * 1_000 + frac
}

fn original_rows() -> Vec<Row> {
    let text = std::fs::read_to_string(api_steady()).unwrap_or_else(|e| panic!("{e}"));
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("timestamp_ms,function,duration_ms,memory_mb,trigger")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Row {
                at_us: ms_to_us(f[0]),
                function: f[1].to_string(),
                duration_us: ms_to_us(f[2]),
                memory: f[3].to_string(),
                trigger: f[4].to_string(),
            }
        })
        .collect()
}

/// Microseconds as a decimal number of seconds, exactly.
fn secs(us: i64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

/// 2024-05-01T00:00:00Z plus `us` (less than a day), ISO-8601 with microseconds; `style` picks
/// one of the accepted forms so that every form is exercised.
fn iso(us: i64, style: usize) -> String {
    let (s, frac) = (us / 1_000_000, us % 1_000_000);
    assert!(s < 86_400);
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    match style % 3 {
        0 => format!("2024-05-01T{h:02}:{m:02}:{sec:02}.{frac:06}Z"),
        // The same instant two hours east of UTC.
        1 => format!("2024-05-01T{:02}:{m:02}:{sec:02}.{frac:06}+02:00", h + 2),
        _ => format!("2024-05-01 {h:02}:{m:02}:{sec:02}.{frac:06}"),
    }
}

/// Writes the rows under `header`, with the timestamp and duration formatted by `ts` and `dur`.
fn write(
    dir: &Path,
    name: &str,
    header: &str,
    rows: &[Row],
    ts: impl Fn(usize, i64) -> String,
    dur: impl Fn(i64) -> String,
) -> PathBuf {
    let mut text = format!("{header}\n");
    for (i, r) in rows.iter().enumerate() {
        text.push_str(&format!(
            "{},{},{},{},{}\n",
            ts(i, r.at_us),
            r.function,
            dur(r.duration_us),
            r.memory,
            r.trigger
        ));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

fn opts(time_unit: Option<TimeUnit>) -> LoadOptions {
    LoadOptions {
        time_unit,
        ..LoadOptions::default()
    }
}

/// The JSON summary of simulating `path`, with everything about the file itself left out.
fn summary(path: &Path, time_unit: Option<TimeUnit>) -> String {
    let (trace, load) = load(path, &opts(time_unit)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(load.format, Some(TraceFormat::CANONICAL));
    let cfg =
        PlatformConfig::lambda_defaults(InitDist::parse("100").unwrap_or_else(|e| panic!("{e}")));
    let outcome = simulate(&trace, &cfg.validate_for(&trace).unwrap());
    let info = crate::common::neutral_run_info(
        load.rows.rows_accepted,
        load.rows.rows_skipped,
        trace.was_sorted(),
        outcome.excluded_after_horizon,
    );
    let mut buf = Vec::new();
    faasplan::export::json::write(&mut buf, &Summary::new(&outcome, info))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut per_minute = Vec::new();
    faasplan::export::per_minute::write(&mut per_minute, &outcome)
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(&buf).into_owned() + &String::from_utf8_lossy(&per_minute)
}

fn load_err(path: &Path, time_unit: Option<TimeUnit>) -> String {
    match load(path, &opts(time_unit)) {
        Ok((t, _)) => panic!(
            "{}: expected an error, got {} rows",
            path.display(),
            t.len()
        ),
        Err(e) => e.to_string(),
    }
}

#[test]
fn seconds_and_iso_traces_simulate_like_the_millisecond_original() {
    let dir = tempdir();
    let rows = original_rows();
    let header = |ts: &str, dur: &str| format!("{ts},function,{dur},memory_mb,trigger");
    let want = summary(&api_steady(), None);
    // The comparison can fail: a trace that is off by one unit step is not the same run.
    assert!(want.contains("\"invocations\": 8903"), "{want}");

    let seconds = write(
        dir.path(),
        "seconds.csv",
        &header("timestamp_s", "duration_s"),
        &rows,
        |_, us| secs(us),
        secs,
    );
    assert_eq!(summary(&seconds, None), want, "timestamp_s,duration_s");

    let micros = write(
        dir.path(),
        "micros.csv",
        &header("timestamp_us", "duration_us"),
        &rows,
        |_, us| us.to_string(),
        |us| us.to_string(),
    );
    assert_eq!(summary(&micros, None), want, "timestamp_us,duration_us");

    // ISO-8601 date-times keep their absolute time (2024-05-01): only the origin moves, to a
    // midnight as in the original, so times of day are the same.
    let dates = write(
        dir.path(),
        "iso.csv",
        &header("timestamp", "duration_ms"),
        &rows,
        |i, us| iso(us, i),
        |us| format!("{}.{:03}", us / 1_000, us % 1_000),
    );
    assert_eq!(summary(&dates, None), want, "ISO-8601 timestamps");
    let (trace, _) = load(&dates, &opts(None)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        trace.origin_us(),
        1_714_521_600_000_000,
        "2024-05-01T00:00:00Z"
    );

    // A sanity check of the check: the seconds file, read as if its values were ms (forced),
    // is a different run.
    let forced = write(
        dir.path(),
        "forced.csv",
        &header("timestamp", "duration"),
        &rows,
        |_, us| secs(us),
        secs,
    );
    assert_ne!(summary(&forced, Some(TimeUnit::Ms)), want);
}

#[test]
fn unitless_seconds_are_refused_naming_seconds_and_read_with_time_unit_s() {
    let dir = tempdir();
    let rows = original_rows();
    let bare = write(
        dir.path(),
        "bare.csv",
        "timestamp,function,duration,memory_mb,trigger",
        &rows,
        |_, us| secs(us),
        secs,
    );
    let msg = load_err(&bare, None);
    assert!(
        msg.contains(
            "column 1 `timestamp` names no unit, and its values are not Unix epoch times \
             (line 2 has 0.093761;"
        ) && msg.contains(
            "They look like seconds: read as milliseconds, all 8903 rows would arrive within \
             1.800 s and every duration would be under 1 ms: pass --time-unit s, or name the \
             column timestamp_s"
        ),
        "{msg}"
    );
    assert_eq!(
        summary(&bare, Some(TimeUnit::S)),
        summary(&api_steady(), None)
    );

    // The user's file: seconds under the millisecond names. Both shapes give it away.
    let misnamed = write(
        dir.path(),
        "misnamed.csv",
        "timestamp_ms,function,duration_ms,memory_mb,trigger",
        &rows,
        |_, us| secs(us),
        secs,
    );
    let msg = load_err(&misnamed, None);
    assert!(
        msg.starts_with(&format!(
            "{}: this looks like a unit mistake: read as milliseconds, all 8903 rows arrive \
             within 1.800 s (column 1 `timestamp_ms`): the timestamps are likely seconds, so \
             name the column timestamp_s; read as milliseconds, every duration is under 1 ms \
             (the longest is 865 us; column 3 `duration_ms`): the durations are likely \
             seconds, so name the column duration_s.",
            misnamed.display()
        )),
        "{msg}"
    );
    // Forcing the names' own unit turns the checks off.
    assert!(load(&misnamed, &opts(Some(TimeUnit::Ms))).is_ok());
    let msg = load_err(&misnamed, Some(TimeUnit::S));
    assert!(
        msg.contains("column 1 `timestamp_ms` is in milliseconds by its name, but --time-unit s"),
        "{msg}"
    );
}

#[test]
fn epoch_seconds_and_milliseconds_by_magnitude() {
    let dir = tempdir();
    let rows = original_rows();
    let base_us: i64 = 1_714_521_600_000_000; // 2024-05-01T00:00:00Z
    let header = "Time,Name,Duration,memory_mb,trigger";
    let epoch_s = write(
        dir.path(),
        "epoch-s.csv",
        header,
        &rows,
        |_, us| secs(base_us + us),
        |us| format!("{}.{:03}", us / 1_000, us % 1_000),
    );
    let epoch_ms = write(
        dir.path(),
        "epoch-ms.csv",
        header,
        &rows,
        |_, us| format!("{}.{:03}", (base_us + us) / 1_000, (base_us + us) % 1_000),
        |us| format!("{}.{:03}", us / 1_000, us % 1_000),
    );
    let want = summary(&api_steady(), None);
    for path in [&epoch_s, &epoch_ms] {
        assert_eq!(sniff_path(path).ok(), Some(TraceFormat::CANONICAL));
        let (trace, _) = load(path, &opts(None)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(trace.origin_us(), base_us, "{}", path.display());
        assert_eq!(summary(path, None), want, "{}", path.display());
    }
    // A value of the other magnitude further down is refused where it is.
    let mut text = std::fs::read_to_string(&epoch_s).unwrap_or_else(|e| panic!("{e}"));
    text.push_str("1714521700000,api,5,512,sync\n");
    let mixed = dir.path().join("mixed.csv");
    std::fs::write(&mixed, text).unwrap_or_else(|e| panic!("{e}"));
    let msg = load_err(&mixed, None);
    assert!(
        msg.starts_with(&format!(
            "{}:8905:1: Time \"1714521700000\": not a Unix time in seconds (1e9..1e10) like the \
             first row's",
            mixed.display()
        )),
        "{msg}"
    );
}

#[test]
fn aliases_and_trigger_synonyms() {
    let dir = tempdir();
    let path = dir.path().join("aliases.csv");
    std::fs::write(
        &path,
        "FUNCTION_NAME,Timestamp_S,Duration_MS,Trigger\n\
         a,1714521600,10,http\n\
         a,1714521601,10,timer\n\
         b,1714521602,10,event\n\
         b,1714521603,10,storage\n\
         c,1714521604,10,orchestration\n\
         c,1714521605,10,others\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (trace, _) = load(&path, &opts(None)).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = trace.functions().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let triggers: Vec<&str> = trace
        .invocations()
        .iter()
        .map(|i| i.trigger.as_str())
        .collect();
    assert_eq!(
        triggers,
        ["sync", "sync", "async", "async", "queue", "sync"]
    );
    assert_eq!(trace.origin_us(), 1_714_521_600_000_000);
}

use crate::common::faasplan;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The CLI's JSON without the trace's name.
fn cli_json(path: &Path, extra: &[&str]) -> String {
    let p = path.to_string_lossy();
    let mut args = vec!["simulate", &p, "--format", "json"];
    args.extend_from_slice(extra);
    let out = faasplan(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"trace\":"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn cli_reads_seconds_refuses_unit_mistakes_and_explains_separators() {
    let dir = tempdir();
    let rows = original_rows();
    let want = cli_json(&api_steady(), &[]);
    let seconds = write(
        dir.path(),
        "seconds.csv",
        "timestamp_s,function,duration_s,memory_mb,trigger",
        &rows,
        |_, us| secs(us),
        secs,
    );
    assert_eq!(cli_json(&seconds, &[]), want);
    let bare = write(
        dir.path(),
        "bare.csv",
        "timestamp,function,duration,memory_mb,trigger",
        &rows,
        |_, us| secs(us),
        secs,
    );
    assert_eq!(cli_json(&bare, &["--time-unit", "s"]), want);
    let out = faasplan(&["simulate", &bare.to_string_lossy(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("They look like seconds") && stderr(&out).contains("--time-unit s"),
        "{}",
        stderr(&out)
    );

    // A bad value of the flag names the flag.
    let out = faasplan(&["simulate", &seconds.to_string_lossy(), "--time-unit", "min"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--time-unit"), "{}", stderr(&out));
    // The flag is for canonical traces only.
    let out = faasplan(&[
        "simulate",
        &root()
            .join("tests/data/azure2021/invocations-head20.csv")
            .to_string_lossy(),
        "--time-unit",
        "s",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--time-unit s only applies to canonical traces"),
        "{}",
        stderr(&out)
    );

    // `;`-separated (with decimal commas, as such files often have): a clear hint.
    let semi = dir.path().join("semi.csv");
    std::fs::write(&semi, "timestamp_ms;function;duration_ms\n0;api;80,5\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let out = faasplan(&["simulate", &semi.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}:1: the header `timestamp_ms;function;duration_ms` looks like a `;`-separated \
             file: faasplan reads comma-separated CSV",
            semi.display()
        )) && !err.contains("missing required"),
        "{err}"
    );

    // A bad ISO-8601 timestamp: file, line and column.
    let bad = dir.path().join("bad-iso.csv");
    std::fs::write(
        &bad,
        "function,time,duration_ms\napi,2024-05-01T12:00:00Z,5\n\napi,2024-05-01T12:61:00Z,5\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = faasplan(&["simulate", &bad.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "{}:4:2: time \"2024-05-01T12:61:00Z\": not a time of day",
            bad.display()
        )),
        "{}",
        stderr(&out)
    );
}

/// Every shipped trace still reads as it did (no unit check fires on them).
#[test]
fn shipped_traces_still_read() {
    for file in [
        "workloads/api-steady.csv",
        "workloads/bursty-unsorted.csv",
        "workloads/multi-function.csv",
    ] {
        let path = root().join(file);
        let (trace, load) = load(&path, &opts(None)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(load.rows.rows_skipped, 0, "{file}");
        assert_eq!(trace.len() as u64, load.rows.rows_accepted, "{file}");
    }
}
