//! Streaming equals reading first (issue 16): an Azure 2019 trace replayed as it is expanded,
//! minute by minute, gives the outcome of the whole expanded trace, byte for byte, under every
//! setting that decides how the replay starts, ends and is scheduled.

use std::path::PathBuf;

use faasplan::engine::{
    InitDist, KeepAliveSpec, PlatformConfig, Warmup, simulate_mode, simulate_stream,
};
use faasplan::outcome::Mode;
use faasplan::time::{HOUR, MINUTE, SECOND};
use faasplan::trace::azure2019::{self, Options};
use faasplan::trace::format::LoadOptions;
use faasplan::trace::input::Input;

use crate::common::{faasplan, stderr};

fn sample() -> PathBuf {
    crate::common::azure_2019_sample_dir()
}

fn load_options(seed: u64) -> LoadOptions {
    crate::common::azure_2019_sample_options(seed)
}

fn parsed(opts: &LoadOptions) -> azure2019::Parsed {
    let input = Input::open(&sample().join("invocations_per_function.csv")).unwrap();
    azure2019::parse(input, &Options::of(opts)).unwrap_or_else(|e| panic!("{e}"))
}

fn base() -> PlatformConfig {
    PlatformConfig::lambda_defaults(InitDist::lognormal(200.0, 800.0).unwrap())
}

/// The settings compared: each changes how the replay starts (warm-up), ends (horizon),
/// schedules (parallel, coupled, the account limit's fallback) or keeps state across
/// functions and epochs (a learning policy's pre-warms). All but the first stop at a horizon of
/// a few hours, to keep the debug build's test short.
fn settings() -> Vec<(&'static str, PlatformConfig, Option<Mode>)> {
    let mut out = vec![("defaults (cyclic warm-up, the whole day)", base(), None)];
    let base = || {
        let mut c = base();
        c.horizon = Some(HOUR + 30 * MINUTE);
        c
    };
    let mut c = base();
    c.warmup = Warmup::None;
    out.push(("no warm-up", c, None));
    let mut c = base();
    c.warmup = Warmup::For(30 * MINUTE);
    c.horizon = Some(HOUR + 7 * MINUTE + 30 * SECOND);
    out.push(("warm-up 30m, horizon 1h07m30s (within a minute)", c, None));
    let mut c = base();
    c.keep_alive = KeepAliveSpec::parse("fixed:60s").unwrap().policy();
    out.push((
        "cyclic, keep-alive 1m (the replay reaches back further)",
        c,
        None,
    ));
    let mut c = base();
    c.account_concurrency = Some(3);
    out.push(("account limit 3 (parallel, then coupled)", c, None));
    out.push(("forced coupled", base(), Some(Mode::Coupled)));
    for policy in ["hybrid", "hybrid:2h:10:90"] {
        let mut c = base();
        c.keep_alive = KeepAliveSpec::parse(policy).unwrap().policy();
        c.max_lifetime = c.keep_alive.max_lifetime();
        out.push((policy, c, None));
    }
    let mut c = base();
    c.per_instance_concurrency = 4;
    c.provisioned = 2;
    out.push(("concurrency 4, provisioned 2", c, None));
    out
}

#[test]
fn an_azure_2019_replay_streamed_equals_the_expanded_trace() {
    for seed in [3] {
        let opts = load_options(seed);
        let parsed = parsed(&opts);
        let (trace, _) = parsed.load(seed).unwrap();
        let (facts, _) = parsed.facts();
        for (name, cfg, force) in settings() {
            let valid = cfg.validate_for(&trace).unwrap();
            let whole = simulate_mode(&trace, &valid, force);
            let streamed =
                simulate_stream(|| parsed.stream(seed, cfg.horizon), &facts, &valid, force);
            assert_eq!(
                format!("{streamed:?}"),
                format!("{whole:?}"),
                "{name}, seed {seed}"
            );
        }
    }
}

/// The facts of the parsed trace are the expanded trace's (the last arrival as its minute's
/// end).
#[test]
fn the_facts_of_a_parsed_azure_2019_trace_are_the_expanded_traces() {
    use faasplan::trace::facts::TraceFacts;
    let opts = load_options(3);
    let parsed = parsed(&opts);
    let (trace, _) = parsed.load(3).unwrap();
    let (facts, _) = parsed.facts();
    assert_eq!(facts.functions(), trace.functions());
    assert_eq!(facts.invocation_count(), trace.invocation_count());
    assert_eq!(facts.was_sorted(), TraceFacts::was_sorted(&trace));
    assert_eq!(facts.row_memory_sizes(), trace.row_memory_sizes());
    assert_eq!(
        facts.first_without_row_memory(),
        trace.first_without_row_memory()
    );
    assert_eq!(facts.largest_row_memory(), trace.largest_row_memory());
    let (last, f) = facts.last().unwrap();
    let (true_last, _) = TraceFacts::last(&trace).unwrap();
    assert!(last >= true_last && last / MINUTE == true_last / MINUTE);
    assert_eq!(
        trace
            .function_invocations(f as usize)
            .last()
            .unwrap()
            .arrival
            / MINUTE,
        last / MINUTE
    );
}

/// The command: `simulate` streams an Azure 2019 trace by default; `--read-first` expands it
/// whole first. Every output is the same: stdout (JSON), the per-minute CSV and stderr's notes
/// and warnings.
#[test]
fn simulate_streams_an_azure_2019_trace_with_the_same_outputs_as_reading_first() {
    let dir = sample();
    let out = tempfile::tempdir().unwrap();
    let inv = dir.join("invocations_per_function.csv");
    let dur = dir.join("function_durations_percentiles.csv");
    let mem = dir.join("app_memory_percentiles.csv");
    for extra in [
        &["--horizon", "2h"][..],
        &[
            "--horizon",
            "90m",
            "--trigger-for",
            "*=queue",
            "--account-concurrency",
            "20",
        ][..],
    ] {
        let run = |read_first: bool| {
            let pm = out.path().join(format!("pm-{read_first}.csv"));
            let mut args = vec![
                "simulate",
                inv.to_str().unwrap(),
                "--durations",
                dur.to_str().unwrap(),
                "--memory",
                mem.to_str().unwrap(),
                "--format",
                "json",
                "--per-minute",
                pm.to_str().unwrap(),
                "--offering",
                "aws-lambda-x86",
            ];
            args.extend_from_slice(extra);
            if read_first {
                args.push("--read-first");
            }
            let o = faasplan(&args);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            let err = stderr(&o);
            (o.stdout, err, std::fs::read(&pm).unwrap())
        };
        let (streamed, first) = (run(false), run(true));
        assert!(!streamed.0.is_empty() && streamed.2.len() > 100);
        assert_eq!(streamed.1, first.1, "{extra:?}: stderr");
        assert!(streamed.0 == first.0, "{extra:?}: stdout differs");
        assert!(streamed.2 == first.2, "{extra:?}: per-minute differs");
    }
}

/// `compare` streams an Azure 2019 trace too: each offering's run and each fleet's (a fixed
/// fleet, an autoscaled one, and one sized for the SLO by repeated replays) expands the
/// arrivals as it replays them. The output equals `--read-first`'s, with no invocation held (a
/// bound of one does not stop it), and the report's summary too.
#[test]
fn compare_streams_an_azure_2019_trace_with_the_same_outputs_as_reading_first() {
    let out = tempfile::tempdir().unwrap();
    let sample = crate::common::azure_2019_sample_args();
    let sample: Vec<&str> = sample.iter().map(String::as_str).collect();
    let run = |extra: &[&str], report: &str| {
        let rep = out.path().join(report);
        let mut args = vec!["compare"];
        args.extend_from_slice(&sample);
        args.extend([
            "--horizon",
            "10m",
            "--offering",
            "aws-lambda-arm64",
            "--offering",
            "gcp-cloud-run-request",
            "--fleet",
            "m7g.large:slots=8,count=2",
            "--fleet",
            "t4g.small:slots=4,autoscale=2..5@0.6",
            "--fleet",
            "c7g.large:slots=8",
            "--format",
            "json",
            "--report",
            rep.to_str().unwrap(),
            "-q",
        ]);
        args.extend_from_slice(extra);
        let o = faasplan(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let summary = std::fs::read(rep.join("summary.md")).unwrap();
        // The one line that differs: where the report went.
        let err = stderr(&o).replace(rep.to_str().unwrap(), "REPORT");
        (o.stdout, err, summary)
    };
    let first = run(&["--read-first"], "held");
    let streamed = run(&["--max-invocations", "1"], "streamed");
    assert!(String::from_utf8_lossy(&first.0).contains("(smallest meeting the SLO)"));
    assert_eq!(streamed.1, first.1, "stderr");
    assert!(streamed.0 == first.0, "stdout differs");
    assert!(streamed.2 == first.2, "the report's summary differs");
    // Without --max-invocations, --read-first holds the whole day: a bound refuses it.
    let mut args = vec!["compare"];
    args.extend_from_slice(&sample);
    args.extend([
        "--offering",
        "aws-lambda-arm64",
        "--read-first",
        "--max-invocations",
        "1",
    ]);
    let o = faasplan(&args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

// ---- Row files: canonical traces of many functions, and Azure 2021 (a reorder window) ----

mod rows {
    use std::path::{Path, PathBuf};

    use faasplan::engine::{
        InitDist, KeepAliveSpec, PlatformConfig, ProvisionedPlan, Schedule, Warmup, simulate_mode,
        simulate_stream_from,
    };
    use faasplan::outcome::Mode;
    use faasplan::time::{MINUTE, SECOND};
    use faasplan::trace::Trace;
    use faasplan::trace::canonical::{self, ReadOptions};
    use faasplan::trace::facts::TraceFacts;
    use faasplan::trace::format::{self, LoadOptions, TraceFormat};
    use faasplan::trace::sorted::{RowFormat, SortedFile, SurveyError, survey};

    use crate::common::{faasplan, stderr};

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn azure_2021() -> PathBuf {
        root().join("workloads/azure-functions-2021-sample/invocations.csv")
    }

    /// The Azure 2021 sample's rows ordered by end time, as the dataset orders them (the sample
    /// comes in start order): arrivals then lag by up to a duration.
    fn azure_2021_by_end(dir: &Path) -> PathBuf {
        let text = std::fs::read_to_string(azure_2021()).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let end = |l: &str| l.split(',').nth(2).unwrap().parse::<f64>().unwrap();
        lines[1..].sort_by(|a, b| end(a).total_cmp(&end(b)));
        let p = dir.join("by-end.csv");
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        p
    }

    /// The multi-function sample with an `app` column (two functions share one), a blank
    /// memory size and one bad row, for `--skip-bad-rows`.
    fn with_apps(dir: &Path) -> PathBuf {
        let text = std::fs::read_to_string(root().join("workloads/multi-function.csv")).unwrap();
        let mut out = String::new();
        for (i, line) in text.lines().enumerate() {
            let app = match line.split(',').nth(1) {
                _ if i == 0 => "app",
                Some("checkout" | "orders-worker") => "shop",
                Some("thumbnail") => "media",
                _ => "",
            };
            let line = if i == 7 {
                line.replacen(",512,", ",,", 1)
            } else {
                line.to_string()
            };
            out.push_str(&format!("{line},{app}\n"));
            if i == 500 {
                out.push_str("1709283700000,checkout,-3,512,sync,shop\n");
            }
        }
        let p = dir.join("apps.csv");
        std::fs::write(&p, out).unwrap();
        p
    }

    /// The canonical samples of several functions (and one of one), time-sorted.
    fn canonical_samples(dir: &Path) -> Vec<PathBuf> {
        vec![
            root().join("workloads/multi-function.csv"),
            root().join("tests/data/snapshot.csv"),
            root().join("workloads/api-steady.csv"),
            with_apps(dir),
        ]
    }

    fn base() -> PlatformConfig {
        PlatformConfig::lambda_defaults(InitDist::lognormal(200.0, 800.0).unwrap())
    }

    /// As the Azure 2019 settings: each changes how the replay starts, ends, is scheduled or
    /// keeps state across functions and epochs.
    fn settings() -> Vec<(&'static str, PlatformConfig, Option<Mode>)> {
        let mut out = vec![("defaults (cyclic warm-up)", base(), None)];
        let mut c = base();
        c.warmup = Warmup::None;
        out.push(("no warm-up", c, None));
        let mut c = base();
        c.warmup = Warmup::For(2 * MINUTE);
        c.horizon = Some(7 * MINUTE + 30 * SECOND);
        out.push(("warm-up 2m, horizon 7m30s (within a minute)", c, None));
        let mut c = base();
        c.horizon = Some(10 * MINUTE);
        out.push(("cyclic, horizon 10m", c, None));
        // Regression: with a horizon past the trace's end the cyclic replayed end is empty, and
        // `simulate_stream` stopped before giving any row of the trace (every row "after the
        // horizon"), for Azure 2019 sources too.
        let mut c = base();
        c.horizon = Some(2 * faasplan::engine::DAY);
        out.push(("cyclic, horizon 2 days (an empty replayed end)", c, None));
        let mut c = base();
        c.keep_alive = KeepAliveSpec::parse("fixed:60s").unwrap().policy();
        out.push(("cyclic, keep-alive 1m", c, None));
        let mut c = base();
        c.account_concurrency = Some(1);
        out.push(("account limit 1 (parallel, then coupled)", c, None));
        out.push(("forced coupled", base(), Some(Mode::Coupled)));
        for policy in ["hybrid", "hybrid:2h:10:90"] {
            let mut c = base();
            c.keep_alive = KeepAliveSpec::parse(policy).unwrap().policy();
            c.max_lifetime = c.keep_alive.max_lifetime();
            out.push((policy, c, None));
        }
        let mut c = base();
        c.per_instance_concurrency = 4;
        c.provisioned = 2;
        out.push(("concurrency 4, provisioned 2", c, None));
        let mut c = base();
        c.provisioned_plan = Some(ProvisionedPlan::Schedule(
            Schedule::parse("00:00-00:20=3,else=1").unwrap(),
        ));
        out.push(("a provisioned schedule", c, None));
        out
    }

    fn held(path: &Path, format: TraceFormat, skip: bool) -> Trace {
        let opts = LoadOptions {
            format: Some(format),
            skip_bad_rows: skip,
            ..LoadOptions::default()
        };
        format::load(path, &opts)
            .unwrap_or_else(|e| panic!("{e}"))
            .0
    }

    fn sorted(
        path: &Path,
        format: RowFormat,
        max_lag: Option<u64>,
        cfg: &PlatformConfig,
    ) -> SortedFile {
        survey(path, format, max_lag, cfg.horizon)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("{}: expected to stream", path.display()))
    }

    /// Every setting: the streamed replay's whole `Outcome` is the held trace's.
    fn check_all(path: &Path, format: TraceFormat, row_format: &RowFormat, max_lag: Option<u64>) {
        let skip = match row_format {
            RowFormat::Canonical(o) => o.skip_bad_rows,
            RowFormat::Azure2021 { skip_bad_rows } => *skip_bad_rows,
        };
        let trace = held(path, format, skip);
        for (name, cfg, force) in settings() {
            let file = sorted(path, row_format.clone(), max_lag, &cfg);
            let valid = cfg.validate_for(&trace).unwrap();
            let whole = simulate_mode(&trace, &valid, force);
            let streamed = simulate_stream_from(
                || file.stream(&[]),
                file.facts(),
                file.origin_us(),
                &valid,
                force,
            );
            file.check().unwrap();
            assert_eq!(
                format!("{streamed:?}"),
                format!("{whole:?}"),
                "{}: {name}",
                path.display()
            );
        }
    }

    #[test]
    fn a_time_sorted_canonical_trace_streamed_equals_the_held_trace() {
        let dir = tempfile::tempdir().unwrap();
        for path in canonical_samples(dir.path()) {
            let opts = ReadOptions {
                skip_bad_rows: true,
                ..ReadOptions::default()
            };
            check_all(
                &path,
                TraceFormat::CANONICAL,
                &RowFormat::Canonical(opts),
                None,
            );
        }
    }

    #[test]
    fn an_azure_2021_trace_streamed_through_its_reorder_window_equals_the_held_trace() {
        let dir = tempfile::tempdir().unwrap();
        let format = RowFormat::Azure2021 {
            skip_bad_rows: false,
        };
        let hour = Some(faasplan::time::HOUR);
        for path in [azure_2021(), azure_2021_by_end(dir.path())] {
            check_all(&path, TraceFormat::AZURE2021, &format, hour);
        }
        // By end time, the window the replays hold is the file's largest lag, which its longest
        // duration bounds; in start order there is none.
        let window = |p: &Path| sorted(p, format.clone(), hour, &base()).window();
        let longest = held(&azure_2021(), TraceFormat::AZURE2021, false)
            .invocations()
            .iter()
            .map(|i| i.duration)
            .max()
            .unwrap();
        let by_end = window(&azure_2021_by_end(dir.path()));
        assert!(by_end > 0 && by_end <= longest, "{by_end} {longest}");
        assert_eq!(window(&azure_2021()), 0);
    }

    /// The facts a first pass gathers are the held trace's, the last arrival exactly.
    #[test]
    fn the_facts_of_a_first_pass_are_the_held_traces() {
        let dir = tempfile::tempdir().unwrap();
        let mut cases: Vec<(PathBuf, TraceFormat, RowFormat, Option<u64>)> =
            canonical_samples(dir.path())
                .into_iter()
                .map(|p| {
                    let o = ReadOptions {
                        skip_bad_rows: true,
                        ..ReadOptions::default()
                    };
                    (p, TraceFormat::CANONICAL, RowFormat::Canonical(o), None)
                })
                .collect();
        for p in [azure_2021(), azure_2021_by_end(dir.path())] {
            cases.push((
                p,
                TraceFormat::AZURE2021,
                RowFormat::Azure2021 {
                    skip_bad_rows: false,
                },
                Some(faasplan::time::HOUR),
            ));
        }
        for (path, format, row_format, lag) in cases {
            let trace = held(&path, format, true);
            let file = sorted(&path, row_format, lag, &base());
            let facts = file.facts();
            let name = path.display();
            assert_eq!(facts.functions(), trace.functions(), "{name}");
            assert_eq!(facts.invocation_count(), trace.invocation_count(), "{name}");
            assert_eq!(facts.was_sorted(), TraceFacts::was_sorted(&trace), "{name}");
            assert_eq!(facts.last(), TraceFacts::last(&trace), "{name}");
            assert_eq!(facts.row_memory_sizes(), trace.row_memory_sizes(), "{name}");
            assert_eq!(
                facts.first_without_row_memory(),
                trace.first_without_row_memory(),
                "{name}"
            );
            assert_eq!(
                facts.largest_row_memory(),
                trace.largest_row_memory(),
                "{name}"
            );
        }
    }

    /// Rows out of arrival order across functions cannot stream: the first pass says so and
    /// the trace is read whole.
    #[test]
    fn an_unsorted_canonical_trace_is_not_streamed() {
        let path = root().join("workloads/bursty-unsorted.csv");
        let got = survey(
            &path,
            RowFormat::Canonical(ReadOptions::default()),
            None,
            None,
        )
        .unwrap();
        assert!(got.is_none());
    }

    /// The first line whose start (end - duration) is more than `allowed` before a start read
    /// above it, and that lag in microseconds: an oracle written apart from the reader.
    fn first_over(path: &Path, allowed: u64) -> (u64, u64) {
        let text = std::fs::read_to_string(path).unwrap();
        let mut latest: Option<i64> = None;
        for (i, line) in text.lines().enumerate().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let end = (f[2].parse::<f64>().unwrap() * 1e6).round() as i64;
            let d = (f[3].parse::<f64>().unwrap() * 1e6).round() as i64;
            let start = end - d;
            if let Some(l) = latest
                && l - start > allowed as i64
            {
                return ((i + 1) as u64, (l - start) as u64);
            }
            latest = Some(latest.map_or(start, |l| l.max(start)));
        }
        panic!("no row lags by more than {allowed} us");
    }

    #[test]
    fn a_row_that_needs_a_larger_reorder_window_is_an_error_naming_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = azure_2021_by_end(dir.path());
        let format = RowFormat::Azure2021 {
            skip_bad_rows: false,
        };
        let (line, lag) = first_over(&path, SECOND);
        match survey(&path, format, Some(SECOND), None) {
            Err(SurveyError::Window(w)) => {
                assert_eq!((w.line, w.lag, w.allowed), (line, lag, SECOND));
                assert!(
                    w.to_string()
                        .starts_with(&format!("{}:{line}: ", path.display()))
                );
            }
            other => panic!("expected a window error, got {other:?}"),
        }
        // The command: exit 2, the file and line, the flag to raise; --read-first runs it.
        let p = path.to_str().unwrap();
        let o = faasplan(&["simulate", p, "--reorder-window", "1s"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("{p}:{line}: ")), "{err}");
        assert!(
            err.contains("--reorder-window") && err.contains("--read-first"),
            "{err}"
        );
        let o = faasplan(&["simulate", p, "--reorder-window", "1s", "--read-first"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }

    /// A replay reads the file again: a file changed after the first pass is an error, not an
    /// outcome of a trace that is neither.
    #[test]
    fn a_file_changed_between_passes_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let src = root().join("tests/data/snapshot.csv");
        std::fs::copy(&src, &path).unwrap();
        let cfg = base();
        let file = sorted(
            &path,
            RowFormat::Canonical(ReadOptions::default()),
            None,
            &cfg,
        );
        let text = std::fs::read_to_string(&src).unwrap();
        let fewer: String = text.lines().take(30).map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, fewer).unwrap();
        let trace = canonical::read_path(&src, &ReadOptions::default())
            .unwrap()
            .0;
        let valid = cfg.validate_for(&trace).unwrap();
        let _ = simulate_stream_from(
            || file.stream(&[]),
            file.facts(),
            file.origin_us(),
            &valid,
            None,
        );
        let e = file.check().unwrap_err().to_string();
        assert!(e.contains("t.csv") && e.contains("changed"), "{e}");
    }

    /// The command streams these files by default; `--read-first` reads them whole. Every output
    /// is the same: stdout, the per-minute CSV and stderr's notes and warnings, under settings
    /// that start, end, schedule and configure the replay differently.
    #[test]
    fn simulate_streams_row_files_with_the_same_outputs_as_reading_first() {
        let dir = tempfile::tempdir().unwrap();
        let apps = with_apps(dir.path());
        let by_end = azure_2021_by_end(dir.path());
        let multi = root().join("workloads/multi-function.csv");
        let runs: Vec<(PathBuf, Vec<&str>)> = vec![
            (multi.clone(), vec![]),
            (
                multi.clone(),
                vec!["--horizon", "20m", "--warmup", "none", "--format", "csv"],
            ),
            (
                multi.clone(),
                vec!["--warmup", "5m", "--account-concurrency", "2"],
            ),
            (
                multi.clone(),
                vec![
                    "--trigger-for",
                    "checkout=async",
                    "--memory-mb",
                    "thumbnail=2048",
                    "--provisioned",
                    "orders-worker=2",
                ],
            ),
            (
                multi.clone(),
                vec!["--provisioned-schedule", "00:00-00:30=2,else=1"],
            ),
            (
                multi.clone(),
                vec!["--coupled", "--keep-alive-policy", "hybrid"],
            ),
            (
                apps.clone(),
                vec!["--skip-bad-rows", "--keep-alive-policy", "hybrid"],
            ),
            (
                root().join("tests/data/snapshot.csv"),
                vec!["--offering", "gcp-cloud-run-request"],
            ),
            (azure_2021(), vec![]),
            (by_end.clone(), vec![]),
            (
                by_end.clone(),
                vec!["--horizon", "10m", "--account-concurrency", "3"],
            ),
            (
                by_end.clone(),
                vec!["--trigger-for", "*=queue", "--warmup", "none"],
            ),
            (
                by_end.clone(),
                vec!["--provisioned-schedule", "00:05-00:10=2"],
            ),
        ];
        for (path, extra) in runs {
            let run = |read_first: bool| {
                let pm = dir.path().join(format!("pm-{read_first}.csv"));
                let mut args = vec![
                    "simulate",
                    path.to_str().unwrap(),
                    "--per-minute",
                    pm.to_str().unwrap(),
                ];
                if !extra.contains(&"--format") {
                    args.extend(["--format", "json"]);
                }
                if !extra.contains(&"--offering") {
                    args.extend(["--offering", "aws-lambda-x86"]);
                }
                args.extend_from_slice(&extra);
                if read_first {
                    args.push("--read-first");
                }
                let o = faasplan(&args);
                assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", stderr(&o));
                let err = stderr(&o);
                (o.stdout, err, std::fs::read(&pm).unwrap())
            };
            let (streamed, first) = (run(false), run(true));
            let name = format!("{} {extra:?}", path.display());
            assert!(!streamed.0.is_empty() && streamed.2.len() > 100, "{name}");
            assert_eq!(streamed.1, first.1, "{name}: stderr");
            assert!(streamed.0 == first.0, "{name}: stdout differs");
            assert!(streamed.2 == first.2, "{name}: per-minute differs");
        }
    }

    /// What cannot stream is read whole with the same output: rows out of order (the note says
    /// they were sorted), and a pipe, which cannot be read twice.
    #[test]
    fn unsorted_rows_and_pipes_are_read_whole_with_the_same_output() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let unsorted = root().join("workloads/bursty-unsorted.csv");
        let p = unsorted.to_str().unwrap();
        let a = faasplan(&["simulate", p, "--format", "json"]);
        let b = faasplan(&["simulate", p, "--format", "json", "--read-first"]);
        assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
        assert!(
            stderr(&a).contains("not in arrival order"),
            "{}",
            stderr(&a)
        );
        assert_eq!((stderr(&a), &a.stdout), (stderr(&b), &b.stdout));
        let dir = tempfile::tempdir().unwrap();
        for path in [
            root().join("workloads/multi-function.csv"),
            azure_2021_by_end(dir.path()),
        ] {
            let bytes = std::fs::read(&path).unwrap();
            let mut child = Command::new(env!("CARGO_BIN_EXE_faasplan"))
                .args(["simulate", "-", "--format", "json"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(&bytes).unwrap();
            let piped = child.wait_with_output().unwrap();
            assert_eq!(piped.status.code(), Some(0), "{}", stderr(&piped));
            let file = faasplan(&["simulate", path.to_str().unwrap(), "--format", "json"]);
            // The same run but for the trace's name.
            let text = |o: &std::process::Output, name: &str| {
                String::from_utf8_lossy(&o.stdout).replace(name, "TRACE")
            };
            assert_eq!(
                text(&piped, "\"-\""),
                text(&file, &format!("{:?}", path.display().to_string())),
                "{}",
                path.display()
            );
        }
    }
}

/// Regression: `simulate`'s held fast path for canonical traces (`pipeline`) dropped the `app`
/// column (its sink kept no applications), so a learning keep-alive policy ran each function as
/// its own application there, unlike every other path.
#[test]
fn the_canonical_fast_path_keeps_the_app_column() {
    use faasplan::engine::{InitDist, KeepAliveSpec, PlatformConfig};
    use faasplan::trace::canonical::ReadOptions;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("apps.csv");
    std::fs::write(
        &path,
        "timestamp_ms,function,duration_ms,app\n0,a,10,shop\n5,b,10,shop\n9,c,10,\n70000,a,10,shop\n",
    )
    .unwrap();
    let mut cfg = PlatformConfig::lambda_defaults(InitDist::Constant(100_000));
    cfg.keep_alive = KeepAliveSpec::parse("hybrid").unwrap().policy();
    let (trace, _, outcome) =
        faasplan::pipeline::read_and_simulate(&path, &ReadOptions::default(), &cfg, None).unwrap();
    assert_eq!(trace.apps().1, ["shop", "c"]);
    assert_eq!(outcome.app_names, ["shop", "c"]);
}
