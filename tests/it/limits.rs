//! Spans, waits and counts are bounded where they are read, so that a typo cannot ask for
//! gigabytes or run without end. Before, two rows 285 years apart aborted allocating 14 GB,
//! `--horizon 3650d` took 0.5 GB, a streamed trace with one far row simulated empty minutes towards
//! it until memory ran out, `count=1000000000` and `interval=1us` fleets ran without end, and a
//! million provisioned instances took quadratic time to set up.

use std::io::Write;

use crate::common::{faasplan, stderr};

#[test]
fn a_trace_spanning_centuries_exits_2_naming_the_span_and_the_function() {
    let dir = tempfile::tempdir().unwrap();
    // Two rows 285 years apart, read as milliseconds on purpose (the unit checks are off).
    let two = dir.path().join("two.csv");
    std::fs::write(
        &two,
        "timestamp_ms,function,duration_ms\n0,f,10\n9007199254740,late,10\n",
    )
    .unwrap();
    let out = faasplan(&["simulate", two.to_str().unwrap(), "--time-unit", "ms"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("spans 104250 days") && err.contains("\"late\"") && err.contains("366 days"),
        "{err}"
    );
    // --horizon keeps only the start, which is a window faasplan can simulate.
    let out = faasplan(&[
        "simulate",
        two.to_str().unwrap(),
        "--time-unit",
        "ms",
        "--horizon",
        "1h",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_streamed_trace_stops_at_a_far_row_instead_of_simulating_towards_it() {
    // Enough rows in order for the overlapped read-and-simulate path, then one row 285 years on.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("far.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "timestamp_ms,function,duration_ms").unwrap();
    for i in 0..200_000u64 {
        writeln!(f, "{},f,5", i * 10).unwrap();
    }
    writeln!(f, "9007199254740,f,10").unwrap();
    drop(f);
    let p = path.to_str().unwrap();
    let out = faasplan(&["simulate", p, "--time-unit", "ms", "--warmup", "none"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("366 days"), "{}", stderr(&out));
}

#[test]
fn durations_given_as_flags_are_bounded_and_the_flag_is_named() {
    let t = "workloads/api-steady.csv";
    for (flag, value, says) in [
        ("--horizon", "3650d", "366 d"),
        ("--warmup", "400d", "366d"),
        ("--max-event-age", "31709d", "14 d"),
        ("--queue-max-wait", "100d", "14 d"),
        ("--init-ms", "1e13", "1 h"),
        ("--init-ms", "lognormal:100,1e9", "1 h"),
    ] {
        let out = faasplan(&["simulate", t, flag, value]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = stderr(&out);
        assert!(
            err.contains(flag) && err.contains(says),
            "{flag} {value}: {err}"
        );
    }
    // The bounds themselves are accepted.
    for (flag, value) in [("--max-event-age", "14d"), ("--init-ms", "3600000")] {
        let out = faasplan(&["simulate", t, flag, value, "--horizon", "1h"]);
        assert!(out.status.success(), "{flag} {value}: {}", stderr(&out));
    }
}

#[test]
fn an_init_sample_beyond_an_hour_is_refused_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let inits = dir.path().join("inits.txt");
    std::fs::write(&inits, "100\n5e9\n").unwrap();
    let spec = format!("empirical:{}", inits.display());
    let out = faasplan(&["simulate", "workloads/api-steady.csv", "--init-ms", &spec]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("inits.txt:2") && err.contains("5e9"), "{err}");
}

#[test]
fn fleet_sizes_and_evaluation_intervals_are_bounded_naming_the_fleet() {
    for (spec, says) in [
        ("c7g.large:slots=8,count=1000000000", "at most 10000"),
        (
            "c7g.large:slots=8,autoscale=1000000000..1000000000@0.7",
            "at most 10000",
        ),
        (
            "c7g.large:slots=8,autoscale=1..4@0.7,interval=1us",
            "at least 1 s",
        ),
    ] {
        let out = faasplan(&[
            "compare",
            "workloads/api-steady.csv",
            "--offering",
            "aws-lambda-x86",
            "--fleet",
            spec,
        ]);
        assert_eq!(out.status.code(), Some(2), "{spec}");
        let err = stderr(&out);
        assert!(
            err.contains("--fleet") && err.contains(says),
            "{spec}: {err}"
        );
    }
}

#[test]
fn a_million_provisioned_instances_set_up_in_linear_time_and_more_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.csv");
    std::fs::write(&one, "timestamp_ms,function,duration_ms\n0,f,10\n").unwrap();
    let one = one.to_str().unwrap();
    // Quadratic before (each instance inserted at the front of a vector): minutes in a debug build.
    let started = std::time::Instant::now();
    let out = faasplan(&[
        "simulate",
        one,
        "--provisioned",
        "1000000",
        "--account-concurrency",
        "none",
        "--format",
        "json",
    ]);
    let v = crate::common::json_out(&out);
    assert_eq!(v["warm_starts"], 1);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    let out = faasplan(&[
        "simulate",
        one,
        "--provisioned",
        "20000000",
        "--account-concurrency",
        "none",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--provisioned") && err.contains("10000000"),
        "{err}"
    );
}

#[test]
fn many_ranges_in_one_list_are_counted_before_any_value_is_made() {
    // Before, 1,000 ranges of 100,000 values each built 10^8 values (3.1 GB) before refusing.
    let list: Vec<String> = (0..1000u64)
        .map(|i| format!("{}..={}", i * 100_000, i * 100_000 + 99_999))
        .collect();
    let out = faasplan(&[
        "sweep",
        "workloads/api-steady.csv",
        "--offering",
        "aws-lambda-x86",
        "--provisioned",
        &list.join(","),
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--provisioned") && err.contains("more than 100000 values"),
        "{err}"
    );
}
