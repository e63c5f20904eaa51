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
