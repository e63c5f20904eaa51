//! The Azure 2019/2021 and CloudWatch readers: against the shipped samples (counts, envelopes,
//! start = end - duration), the original layouts, bad input, and the CLI around them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use faasplan::error::TraceError;
use faasplan::time::{MINUTE, Micros};
use faasplan::trace::format::{
    Arrivals, Head, LoadOptions, LoadReport, READERS, ReadOutput, Registry, SNIFF_EXACT,
    TraceFormat, TraceReader, load, sniff_path,
};
use faasplan::trace::input::Input;
use faasplan::trace::{Trace, TraceBuilder, Trigger};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample2019(file: &str) -> PathBuf {
    root()
        .join("workloads/azure-functions-2019-sample")
        .join(file)
}

fn data(file: &str) -> PathBuf {
    root().join("tests/data").join(file)
}

fn azure2019_opts(seed: u64, arrivals: Option<Arrivals>) -> LoadOptions {
    LoadOptions {
        durations: vec![sample2019("function_durations_percentiles.csv")],
        memory: vec![sample2019("app_memory_percentiles.csv")],
        arrivals,
        seed,
        ..LoadOptions::default()
    }
}

fn ok(path: &Path, opts: &LoadOptions) -> (Trace, LoadReport) {
    match load(path, opts) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

fn err(path: &Path, opts: &LoadOptions) -> String {
    match load(path, opts) {
        Ok(_) => panic!("expected an error reading {}", path.display()),
        Err(e) => e.to_string(),
    }
}

/// A plain CSV split (the sample files have no quotes), header first.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|f| f.trim().to_string()).collect())
        .collect()
}

/// The trace function name the readers give a 64-hex hash: its first 16 characters.
fn short(hash: &str) -> String {
    hash.chars().take(16).collect()
}

fn by_name(t: &Trace) -> HashMap<String, usize> {
    t.functions()
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.clone(), i))
        .collect()
}

#[test]
fn azure2019_sample_counts_equal_the_per_minute_sums() {
    let path = sample2019("invocations_per_function.csv");
    assert_eq!(sniff_path(&path).ok(), Some(TraceFormat::AZURE2019));
    let (t, report) = ok(&path, &azure2019_opts(7, None));
    assert_eq!(report.format, Some(TraceFormat::AZURE2019));
    assert_eq!(t.len(), 5_513_999, "the sample README's total");
    assert_eq!(t.origin_us(), 0);
    assert!(!t.was_sorted());
    let rows = csv_rows(&path);
    assert_eq!(report.rows.rows_read as usize, rows.len() - 1);
    let names = by_name(&t);
    let first_minute = rows[0].iter().position(|h| h == "minute_1").unwrap_or(3);
    let mut nonzero = 0;
    for row in &rows[1..] {
        let counts: Vec<u64> = row[first_minute..]
            .iter()
            .map(|c| c.parse().unwrap_or_else(|e| panic!("{c}: {e}")))
            .collect();
        assert_eq!(counts.len(), 1440);
        if counts.iter().all(|&c| c == 0) {
            continue;
        }
        nonzero += 1;
        let f = names[&short(&row[0])];
        let inv = t.function_invocations(f);
        assert_eq!(inv.len() as u64, counts.iter().sum::<u64>(), "{}", row[0]);
        // Every minute holds exactly its count.
        let mut per_minute = vec![0u64; 1440];
        for i in inv {
            per_minute[(i.arrival / MINUTE) as usize] += 1;
        }
        assert_eq!(per_minute, counts, "{}", row[0]);
    }
    assert_eq!(t.functions().len(), nonzero);
}

#[test]
fn azure2019_durations_stay_in_the_percentile_envelope_and_memory_is_the_app_p99() {
    let (t, _) = ok(
        &sample2019("invocations_per_function.csv"),
        &azure2019_opts(1, Some(Arrivals::Poisson)),
    );
    let names = by_name(&t);
    let durations = csv_rows(&sample2019("function_durations_percentiles.csv"));
    let col = |name: &str| {
        durations[0]
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let (p0, p50, p100) = (
        col("percentile_Average_0"),
        col("percentile_Average_50"),
        col("percentile_Average_100"),
    );
    let memory = csv_rows(&sample2019("app_memory_percentiles.csv"));
    let p99 = memory[0]
        .iter()
        .position(|h| h == "AverageAllocatedMb_pct99")
        .unwrap_or(10);
    let app_mb: HashMap<String, u16> = memory[1..]
        .iter()
        .map(|r| {
            let mb: f64 = r[p99].parse().unwrap_or(0.0);
            (short(&r[0]), mb.ceil() as u16)
        })
        .collect();
    let mut checked = 0;
    for row in &durations[1..] {
        let Some(&f) = names.get(&short(&row[0])) else {
            continue;
        };
        let lo: f64 = row[p0].parse().unwrap_or(f64::NAN);
        let hi: f64 = row[p100].parse().unwrap_or(f64::NAN);
        let median: f64 = row[p50].parse().unwrap_or(f64::NAN);
        let inv = t.function_invocations(f);
        let (lo_us, hi_us) = ((lo * 1e3).round() as Micros, (hi * 1e3).round() as Micros);
        assert!(
            inv.iter().all(|i| (lo_us..=hi_us).contains(&i.duration)),
            "{}: durations outside [{lo}, {hi}] ms",
            row[0]
        );
        if inv.len() >= 10_000 {
            // The sampled median matches the file's within a few percent of the spread.
            let mut d: Vec<Micros> = inv.iter().map(|i| i.duration).collect();
            d.sort_unstable();
            let m = d[d.len() / 2] as f64 / 1e3;
            assert!(
                (m - median).abs() <= 0.05 * (hi - lo) + 1e-3,
                "{}: median {m} vs {median}",
                row[0]
            );
        }
        assert!(inv.iter().all(|i| i.memory_mb == app_mb[&short(&row[1])]));
        checked += 1;
    }
    assert_eq!(checked, t.functions().len());
}

#[test]
fn azure2019_is_seeded() {
    let path = data("azure2019/day1.csv");
    let opts = |seed| LoadOptions {
        durations: vec![data("azure2019/durations.csv")],
        seed,
        ..LoadOptions::default()
    };
    let a = ok(&path, &opts(1)).0;
    let b = ok(&path, &opts(1)).0;
    let c = ok(&path, &opts(2)).0;
    assert_eq!(a.invocations(), b.invocations());
    assert_ne!(a.invocations(), c.invocations());
    assert_eq!(
        a.ranges(),
        c.ranges(),
        "the counts do not depend on the seed"
    );
}

#[test]
fn azure2019_original_layout_triggers_and_several_days() {
    let opts = LoadOptions {
        format: Some(TraceFormat::AZURE2019),
        durations: vec![data("azure2019/durations.csv")],
        memory: vec![data("azure2019/memory.csv")],
        next_days: vec![data("azure2019/day2.csv")],
        arrivals: Some(Arrivals::Equidistant),
        ..LoadOptions::default()
    };
    let (t, report) = ok(&data("azure2019/day1.csv"), &opts);
    assert_eq!(report.rows.rows_read, 7);
    let day1 = csv_rows(&data("azure2019/day1.csv"));
    let names = by_name(&t);
    use faasplan::trace::Trigger;
    let want = [
        ("http", Trigger::Sync),
        ("timer", Trigger::Sync),
        ("queue", Trigger::Queue),
        ("orchestration", Trigger::Queue),
    ];
    for row in &day1[1..] {
        let f = names[&short(&row[2])];
        let inv = t.function_invocations(f);
        let (_, trigger) = want
            .iter()
            .find(|w| w.0 == row[3])
            .copied()
            .unwrap_or(("", Trigger::Async));
        assert!(inv.iter().all(|i| i.trigger == trigger), "{}", row[3]);
        let counts: Vec<u64> = row[4..].iter().map(|c| c.parse().unwrap_or(0)).collect();
        let total: u64 = counts.iter().sum();
        // Day 2 repeats every function but the first (listed last in day 1 order, reversed).
        let day2 = if row[3] == "http" { 0 } else { total };
        assert_eq!(inv.len() as u64, total + day2, "{}", row[2]);
        let on_day2 = inv.iter().filter(|i| i.arrival >= 1440 * MINUTE).count() as u64;
        assert_eq!(on_day2, day2);
        // Equidistant: a minute with one invocation has it at second 30.
        if let Some(m) = counts.iter().position(|&c| c == 1) {
            let at = m as u64 * MINUTE + 30_000_000;
            assert!(inv.iter().any(|i| i.arrival == at), "{}", row[2]);
        }
        assert!(inv.iter().all(|i| i.memory_mb > 0));
    }
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("http 1, timer 2, queue 2, orchestration 2")),
        "{:?}",
        report.notes
    );
}

#[test]
fn azure2021_start_is_end_minus_duration() {
    let path = root().join("workloads/azure-functions-2021-sample/invocations.csv");
    assert_eq!(sniff_path(&path).ok(), Some(TraceFormat::AZURE2021));
    let (t, report) = ok(&path, &LoadOptions::default());
    let rows = csv_rows(&path);
    assert_eq!(report.rows.rows_accepted as usize, rows.len() - 1);
    assert_eq!(t.len(), rows.len() - 1);
    let names = by_name(&t);
    let apps: std::collections::HashSet<(String, String)> = rows[1..]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        t.functions().len(),
        apps.len(),
        "one function per (app, func)"
    );
    // Each row is an invocation of its (app, func) at end - duration, in microseconds.
    let mut want: HashMap<usize, Vec<(i64, Micros)>> = HashMap::new();
    for r in &rows[1..] {
        let end: f64 = r[2].parse().unwrap_or(f64::NAN);
        let dur: f64 = r[3].parse().unwrap_or(f64::NAN);
        let d = (dur * 1e6).round() as Micros;
        let start = (end * 1e6).round() as i64 - d as i64;
        let f = names[&format!("{}/{}", short(&r[0]), short(&r[1]))];
        want.entry(f).or_default().push((start, d));
    }
    for (f, mut w) in want {
        w.sort();
        let got: Vec<(i64, Micros)> = t
            .function_invocations(f)
            .iter()
            .map(|i| (i.arrival as i64 + t.origin_us(), i.duration))
            .collect();
        assert_eq!(got, w);
    }
}

#[test]
fn cloudwatch_synthetic_log_and_insights_csv() {
    let log = root().join("workloads/synthetic-lambda.log");
    assert_eq!(sniff_path(&log).ok(), Some(TraceFormat::CLOUDWATCH));
    let (t, report) = ok(&log, &LoadOptions::default());
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let reports = text
        .lines()
        .filter(|l| l.contains("REPORT RequestId:"))
        .count();
    let inits = text
        .lines()
        .filter(|l| l.contains("Init Duration:"))
        .count();
    assert_eq!(t.len(), reports);
    let cs = report.cold_starts.clone().unwrap_or_default();
    assert_eq!(cs.cold_starts as usize, inits);
    assert!((cs.ratio - inits as f64 / reports as f64).abs() < 1e-12);
    assert!(t.invocations().iter().all(|i| i.memory_mb == 512));

    let (t, report) = ok(&data("cloudwatch/insights.csv"), &LoadOptions::default());
    let names = by_name(&t);
    assert_eq!(t.functions().len(), 2);
    let checkout = t.function_invocations(names["checkout"]);
    // 09:00:01.250 - 200.5 ms - 310.25 ms = 09:00:00.739250, the origin is 09:00:00.
    assert_eq!(checkout[0].arrival, 739_250);
    assert_eq!(checkout[0].memory_mb, 1024);
    assert_eq!(t.function_invocations(names["thumbnail"])[0].memory_mb, 512);
    assert_eq!(report.cold_starts.map(|c| c.cold_starts), Some(2));
}

#[test]
fn options_a_format_does_not_use_are_refused() {
    let opts = LoadOptions {
        durations: vec![data("azure2019/durations.csv")],
        arrivals: Some(Arrivals::Poisson),
        ..LoadOptions::default()
    };
    let path = root().join("workloads/api-steady.csv");
    assert_eq!(
        err(&path, &opts),
        format!(
            "{}: --durations, --arrivals only apply to Azure 2019 traces, and this trace is read \
             as canonical",
            path.display()
        )
    );
    let path = data("azure2019/day1.csv");
    assert!(err(&path, &LoadOptions::default()).ends_with(
        "an Azure 2019 trace needs its durations-percentiles file: pass --durations FILE \
             (e.g. function_durations_percentiles.anon.d01.csv)"
    ));
    let durations = data("azure2019/durations.csv");
    assert!(
        err(&durations, &LoadOptions::default())
            .contains("this is an Azure 2019 durations-percentiles file: pass it with --durations")
    );
}

#[test]
fn bad_inputs_give_file_line_column_messages() {
    let bad = |f: &str| data(&format!("bad-formats/{f}"));
    let azure = LoadOptions {
        durations: vec![bad("azure2019-durations.csv")],
        ..LoadOptions::default()
    };
    let cases: [(&str, &LoadOptions, &str); 9] = [
        (
            "azure2019-no-durations-row.csv",
            &azure,
            "3:3: HashFunction \"f2\": the durations file has no row for this function; pass \
             --skip-bad-rows to leave such functions out (they are counted)",
        ),
        (
            "azure2019-bad-count.csv",
            &azure,
            "2:5: invocations per minute \"x\": not a number",
        ),
        (
            "azure2019-minute-gap.csv",
            &azure,
            "1: minute column 3 is missing but minute 4 is there: the minute columns must run from \
             1 without gaps",
        ),
        (
            "azure2019-duplicate.csv",
            &azure,
            "3: function listed twice in one day file (first on line 2)",
        ),
        (
            "azure2019-bad-trigger.csv",
            &azure,
            "2:4: Trigger \"webhook\": must be one of http, timer, event, queue, storage, \
             orchestration, others",
        ),
        (
            "azure2021-negative-duration.csv",
            &LoadOptions::default(),
            "3:4: duration \"-0.5\": must be >= 0 (seconds)",
        ),
        (
            "cloudwatch-bad-duration.log",
            &LoadOptions::default(),
            "2:56: Duration \"abc\": not a number",
        ),
        (
            "insights-bad-timestamp.csv",
            &LoadOptions::default(),
            "3:1: @timestamp \"yesterday\": not a timestamp (expected e.g. 2024-03-01 \
             09:00:12.345, RFC 3339, or epoch ms)",
        ),
        (
            "azure2019-no-durations-row.csv",
            &LoadOptions {
                durations: vec![bad("azure2019-durations-decreasing.csv")],
                ..LoadOptions::default()
            },
            "",
        ),
    ];
    for (file, opts, want) in cases {
        let path = bad(file);
        let got = err(&path, opts);
        if want.is_empty() {
            let d = bad("azure2019-durations-decreasing.csv");
            assert_eq!(
                got,
                format!(
                    "{}:2:8: percentile_Average_0 \"10\": the percentiles must not decrease from \
                     0 to 100: values must not decrease: 40 ms (at 0.75) is below 50 ms (at 0.5)",
                    d.display()
                )
            );
        } else {
            assert_eq!(got, format!("{}:{want}", path.display()), "{file}");
        }
    }
}

#[test]
fn skip_bad_rows_counts_what_it_leaves_out() {
    let bad = |f: &str| data(&format!("bad-formats/{f}"));
    let opts = LoadOptions {
        durations: vec![bad("azure2019-durations.csv")],
        skip_bad_rows: true,
        ..LoadOptions::default()
    };
    let (t, report) = ok(&bad("azure2019-no-durations-row.csv"), &opts);
    assert_eq!(t.len(), 4, "f1's 3 and f3's 1 invocations");
    assert_eq!(
        (
            report.rows.rows_read,
            report.rows.rows_accepted,
            report.rows.rows_skipped
        ),
        (3, 2, 1)
    );
    assert_eq!(
        report.rows.skipped_by_reason,
        vec![(
            "HashFunction: the durations file has no row for this function".to_string(),
            1
        )]
    );
    let (t, report) = ok(
        &bad("azure2021-negative-duration.csv"),
        &LoadOptions {
            skip_bad_rows: true,
            ..LoadOptions::default()
        },
    );
    assert_eq!((t.len(), report.rows.rows_skipped), (2, 1));
}

fn faasplan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faasplan"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run faasplan: {e}"))
}

#[test]
fn cli_simulates_each_format_and_calibrates() {
    let s = |p: PathBuf| p.display().to_string();
    let day1 = s(data("azure2019/day1.csv"));
    let durations = s(data("azure2019/durations.csv"));
    let out = faasplan(&[
        "simulate",
        &day1,
        "--durations",
        &durations,
        "--arrivals",
        "poisson",
        "--seed",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("arrivals within each minute: poisson (seed 3)"),
        "{stderr}"
    );

    for trace in [
        s(data("azure2021/invocations-head20.csv")),
        s(data("cloudwatch/insights.csv")),
        s(root().join("workloads/synthetic-lambda.log")),
    ] {
        let out = faasplan(&["simulate", &trace]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{trace}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let bad = s(data("bad-formats/azure2019-bad-count.csv"));
    let bad_durations = s(data("bad-formats/azure2019-durations.csv"));
    let out = faasplan(&["simulate", &bad, "--durations", &bad_durations]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!("error: {bad}:2:5: invocations per minute \"x\": not a number")
    );

    let out = faasplan(&[
        "calibrate",
        &s(root().join("workloads/synthetic-lambda.log")),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let flag = stdout.lines().last().unwrap_or("");
    assert!(flag.starts_with("--init-ms lognormal:"), "{stdout}");
    // The printed value is a valid --init-ms.
    let spec = flag.trim_start_matches("--init-ms ");
    assert!(faasplan::engine::InitDist::parse(spec).is_ok(), "{spec}");

    let out = faasplan(&["calibrate", &s(data("azure2021/invocations-head20.csv"))]);
    assert_eq!(out.status.code(), Some(2));
}

/// Regression: a TOML syntax error in a server catalog was reported one line too early (line 0
/// for the first line), because that loader counted lines with its own helper.
#[test]
fn toml_errors_name_the_right_line_in_every_loader() {
    // The error is at the first byte of line 2, where counting `text[..offset].lines()` says 1.
    let text = "version = 1\nversion = 2\n";
    let servers = match faasplan::servers::parse_catalog(Path::new("s.toml"), text) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    };
    assert!(servers.starts_with("s.toml:2: "), "{servers}");
    let offering = match faasplan::offering::parse(text, "o.toml") {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    };
    assert!(offering.contains("o.toml:2:1"), "{offering}");
}

/// A value that parses but is invalid in a server catalog names its own line: the instance's
/// field, its burst table's field, or a name listed twice.
#[test]
fn invalid_server_catalog_values_name_their_line() {
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pricing/servers/aws-ec2-us-east-1.toml"),
    )
    .unwrap();
    // In the second instance (t3.small): each edit starts a line.
    let second = shipped.find("name = \"t3.small\"").unwrap();
    for (from, to) in [
        ("memory_gib = 2\n", "memory_gib = -2\n"),
        ("credits_per_hour = 24", "credits_per_hour = 0"),
        ("name = \"t3.small\"", "name = \"t3.micro\""),
    ] {
        let at = second + shipped[second..].find(from).unwrap();
        let text = format!("{}{}{}", &shipped[..at], to, &shipped[at + from.len()..]);
        let line = text[..at].matches('\n').count() + 1;
        let err = match faasplan::servers::parse_catalog(Path::new("c.toml"), &text) {
            Ok(_) => panic!("{to}: expected an error"),
            Err(e) => e.to_string(),
        };
        assert!(err.starts_with(&format!("c.toml:{line}: ")), "{to}: {err}");
    }
}

/// A format that exists only in this test: `at_ms|fn|dur_ms`, pipe-separated. It is a file's
/// worth of code plus one line in a registry, which is what a new format should cost.
struct PipeReader;

static PIPE: PipeReader = PipeReader;

impl TraceReader for PipeReader {
    fn name(&self) -> &'static str {
        "pipe"
    }

    fn help(&self) -> &'static str {
        "at_ms|fn|dur_ms, one invocation per line"
    }

    fn sniff(&self, head: &Head) -> u8 {
        if head.first_line == "at_ms|fn|dur_ms" {
            SNIFF_EXACT
        } else {
            0
        }
    }

    fn read(
        &self,
        input: Input,
        opts: &LoadOptions,
        sink: &mut TraceBuilder,
    ) -> Result<ReadOutput, TraceError> {
        use std::io::Read;
        let (path, mut reader) = input.into_parts();
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(|error| TraceError::Io {
                path: path.clone(),
                error,
            })?;
        let mut rows = faasplan::trace::canonical::ReadReport::default();
        for (i, line) in text.lines().enumerate().skip(1) {
            let f: Vec<&str> = line.split('|').collect();
            let parsed = match f[..] {
                [at, name, dur] => at
                    .parse::<i64>()
                    .ok()
                    .zip(dur.parse::<u64>().ok())
                    .map(|(at, dur)| (at * 1000, name, dur * 1000)),
                _ => None,
            };
            rows.rows_read += 1;
            let Some((at_us, name, dur_us)) = parsed else {
                if opts.skip_bad_rows {
                    rows.rows_skipped += 1;
                    continue;
                }
                return Err(TraceError::BadRow {
                    path: path.clone(),
                    line: i as u64 + 1,
                    reason: "expected at_ms|fn|dur_ms".into(),
                });
            };
            let id = sink.function_id(name);
            sink.push(at_us, id, dur_us, 0, Trigger::Sync);
            rows.rows_accepted += 1;
        }
        Ok(ReadOutput {
            rows,
            ..ReadOutput::default()
        })
    }
}

#[test]
fn a_format_registered_in_a_list_is_named_sniffed_and_read() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pipe_file = dir.path().join("calls.txt");
    std::fs::write(
        &pipe_file,
        "at_ms|fn|dur_ms\n1000|a|20\n61000|b|5\n500|a|7\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let canonical_file = dir.path().join("calls.csv");
    std::fs::write(
        &canonical_file,
        "timestamp_ms,function,duration_ms\n0,f,1\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));

    // The built-in list does not know the format: the file falls back to canonical.
    assert_eq!(sniff_path(&pipe_file).ok(), Some(TraceFormat::CANONICAL));

    let list: Vec<&'static dyn TraceReader> = READERS.iter().copied().chain([&PIPE as _]).collect();
    let registry = Registry(&list);
    let pipe = TraceFormat::new(&PIPE);
    assert_eq!(registry.by_name("pipe"), Some(pipe));
    assert_eq!(registry.sniff_path(&pipe_file).ok(), Some(pipe));
    // Adding a format changes nothing for the others.
    assert_eq!(
        registry.sniff_path(&canonical_file).ok(),
        Some(TraceFormat::CANONICAL)
    );

    let (trace, report) = match registry.load(&pipe_file, &LoadOptions::default()) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(report.format, Some(pipe));
    assert_eq!(report.rows.rows_accepted, 3);
    assert_eq!(trace.len(), 3);
    assert_eq!(trace.functions().len(), 2);
    // Validated and grouped like any trace: function a's rows sorted by arrival.
    let a: Vec<(Micros, Micros)> = trace
        .function_invocations(0)
        .iter()
        .map(|i| (i.arrival, i.duration))
        .collect();
    assert_eq!(a, vec![(500_000, 7_000), (1_000_000, 20_000)]);
    assert!(trace.was_sorted());

    // Options a format does not take are refused, naming the format that does.
    let opts = LoadOptions {
        time_unit: Some(faasplan::trace::units::TimeUnit::S),
        ..LoadOptions::default()
    };
    match registry.load(&pipe_file, &opts) {
        Ok(_) => panic!("expected an error"),
        Err(e) => assert_eq!(
            e.to_string(),
            format!(
                "{}: --time-unit s only applies to canonical traces, and this trace is read as pipe",
                pipe_file.display()
            )
        ),
    }
}

/// `--trace-format` and its help come from the registry: every reader's name and help line.
#[test]
fn trace_format_help_lists_every_registered_reader() {
    let out = crate::common::faasplan(&["simulate", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for r in READERS {
        assert!(
            help.contains(&format!("{}:", r.name())) && help.contains(r.help()),
            "{} missing from:\n{help}",
            r.name()
        );
    }
    let out = crate::common::faasplan(&["simulate", "x.csv", "--trace-format", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `--init-ms empirical:FILE`: the caller reads the samples (the engine does no I/O) and every
/// cold start draws from their piecewise-linear inverse CDF. Samples 100 and 300 ms make the
/// init time uniform on [100, 300] ms: mean 200 ms, standard deviation 100/sqrt(3) ms.
#[test]
fn empirical_init_samples_are_read_by_the_caller_and_drawn_by_the_engine() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let trace = dir.path().join("t.csv");
    let n = 400;
    let mut text = String::from("timestamp_ms,function,duration_ms\n");
    for i in 0..n {
        text.push_str(&format!("{},f,10\n", i * 2000));
    }
    std::fs::write(&trace, text).unwrap_or_else(|e| panic!("{e}"));
    let samples = dir.path().join("inits.csv");
    std::fs::write(&samples, "init_ms\n100\n# measured\n300\n").unwrap_or_else(|e| panic!("{e}"));
    let spec = format!("empirical:{}", samples.display());
    let t = trace.display().to_string();
    let out = crate::common::faasplan(&[
        "simulate",
        &t,
        "--init-ms",
        &spec,
        "--warmup",
        "none",
        "--keep-alive",
        "0s",
        "--format",
        "json",
    ]);
    let json = crate::common::json_out(&out);
    assert_eq!(
        json["run"]["init"].as_str(),
        Some(format!("empirical({}, 2 samples)", samples.display()).as_str())
    );
    assert_eq!(json["cold_starts"].as_u64(), Some(n));
    let init = &json["init_ms"];
    let (mean, max) = (
        init["mean"].as_f64().unwrap_or(f64::NAN),
        init["max"].as_f64().unwrap_or(f64::NAN),
    );
    let se = 100.0 / 3f64.sqrt() / (n as f64).sqrt();
    assert!((mean - 200.0).abs() < 5.0 * se, "mean {mean} (se {se})");
    assert!(max <= 300.0, "max {max}");

    // A bad sample names the file and line; exit 2, nothing on stdout.
    std::fs::write(&samples, "init_ms\n100\nabc\n").unwrap_or_else(|e| panic!("{e}"));
    let out = crate::common::faasplan(&["simulate", &t, "--init-ms", &spec]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!(
            "error: {}:3: init sample \"abc\": not a number (ms)",
            samples.display()
        )
    );
}
