//! Shards and their merge (issue 16): shard i of N runs some functions; the merge of all N parts
//! is the whole run, byte for byte (the summary JSON and the per-minute series), in every setting
//! that changes what a function does over time: keep-alive, provisioned concurrency, a cyclic
//! warm-up, and a learning policy that couples an application's functions.

use faasplan::engine::{
    InitDist, KeepAliveSpec, PlatformConfig, ShardRunError, Warmup, merge_shards, simulate,
    simulate_shard,
};
use faasplan::outcome::shard::{DeltaLog, ShardOutcome};
use faasplan::shard::Shard;
use faasplan::time::SECOND;
use faasplan::trace::{Trace, TraceBuilder, Trigger};

use crate::common::{self, Service};
use crate::determinism::json;

fn trace() -> Trace {
    common::poisson_multi(
        &[
            (8.0, Service::Exponential(0.3), Trigger::Sync),
            (3.0, Service::LogNormal(0.5, 1.0), Trigger::Async),
            (1.0, Service::Constant(2.0), Trigger::Queue),
            (0.005, Service::Constant(0.1), Trigger::Sync),
            (12.0, Service::Exponential(0.05), Trigger::Sync),
            (0.5, Service::Exponential(1.0), Trigger::Sync),
            (0.02, Service::Constant(3.0), Trigger::Sync),
        ],
        1_800.0,
        42,
    )
}

fn config() -> PlatformConfig {
    let mut cfg = common::unlimited(120.0, 150.0);
    cfg.init = InitDist::lognormal(100.0, 400.0).unwrap();
    cfg.account_concurrency = Some(1000);
    cfg.horizon = Some(1_800 * SECOND);
    cfg.seed = 3;
    cfg
}

/// Runs every shard of `n` and merges them.
fn sharded(trace: &Trace, cfg: &PlatformConfig, n: u32) -> String {
    let valid = cfg.validate_for(trace).unwrap();
    let parts: Vec<ShardOutcome> = (0..n)
        .map(|i| simulate_shard(trace, &valid, Shard::new(i, n).unwrap()).unwrap())
        .collect();
    let held: usize = parts.iter().map(|p| p.functions.len()).sum();
    assert_eq!(held, trace.functions().len(), "each function in one part");
    let refs: Vec<&ShardOutcome> = parts.iter().collect();
    json(&merge_shards(trace, &valid, &refs).unwrap())
}

fn whole(trace: &Trace, cfg: &PlatformConfig) -> String {
    json(&simulate(trace, &cfg.validate_for(trace).unwrap()))
}

#[test]
fn merged_shards_equal_the_whole_run_byte_for_byte() {
    let t = trace();
    let cfg = config();
    let want = whole(&t, &cfg);
    for n in [1, 2, 3, 4, 7, 16] {
        assert_eq!(sharded(&t, &cfg, n), want, "{n} shards");
    }
}

#[test]
fn merged_shards_equal_the_whole_run_with_provisioned_concurrency_and_a_cyclic_warmup() {
    let t = trace();
    let mut cfg = config();
    cfg.provisioned = 2;
    cfg.warmup = Warmup::Cyclic;
    let want = whole(&t, &cfg);
    assert!(want.contains("provisioned"));
    for n in [2, 4] {
        assert_eq!(sharded(&t, &cfg, n), want, "{n} shards");
    }
    let mut cfg = config();
    cfg.warmup = Warmup::For(300 * SECOND);
    assert_eq!(sharded(&t, &cfg, 3), whole(&t, &cfg));
}

#[test]
fn an_application_stays_in_one_shard_and_a_learning_policy_merges_exactly() {
    // Seven functions in three applications (and one alone), under the hybrid policy, which
    // keeps one state per application.
    let src = trace();
    let mut b = TraceBuilder::new();
    for (f, meta) in src.functions().iter().enumerate() {
        let id = b.function_id(&meta.name);
        if f < 6 {
            b.set_app(id, &format!("app{}", f % 3)).unwrap();
        }
        for r in src.function_invocations(f) {
            b.push(r.arrival as i64, id, r.duration, r.memory_mb, r.trigger);
        }
    }
    b.origin_at_most(0);
    let t = b.finish();
    let mut cfg = config();
    cfg.keep_alive = KeepAliveSpec::parse("hybrid").unwrap().policy();
    cfg.max_lifetime = cfg.keep_alive.max_lifetime();
    let valid = cfg.validate_for(&t).unwrap();
    for n in [2, 3, 4] {
        for i in 0..n {
            let part = simulate_shard(&t, &valid, Shard::new(i, n).unwrap()).unwrap();
            let apps: std::collections::BTreeSet<_> = part
                .functions
                .iter()
                .filter_map(|(f, _)| t.functions()[*f as usize].app.clone())
                .collect();
            for app in apps {
                let members = t
                    .functions()
                    .iter()
                    .filter(|m| m.app.as_ref() == Some(&app));
                let held = members
                    .filter(|m| {
                        part.functions
                            .iter()
                            .any(|(f, _)| t.functions()[*f as usize].name == m.name)
                    })
                    .count();
                assert_eq!(held, 2, "both functions of {app} in shard {i}/{n}");
            }
        }
        assert_eq!(sharded(&t, &cfg, n), whole(&t, &cfg), "{n} shards");
    }
}

#[test]
fn a_shard_needs_a_horizon_and_an_account_limit_that_does_not_bind() {
    let t = trace();
    let mut cfg = config();
    cfg.horizon = None;
    let valid = cfg.validate_for(&t).unwrap();
    assert_eq!(
        simulate_shard(&t, &valid, Shard::WHOLE).unwrap_err(),
        ShardRunError::NoHorizon
    );
    // A limit of 3 binds: the functions together need more instances. Within a shard, or only
    // once the shards are merged; either way no partial result is called exact.
    let mut cfg = config();
    cfg.account_concurrency = Some(3);
    let valid = cfg.validate_for(&t).unwrap();
    let parts: Vec<Result<ShardOutcome, ShardRunError>> = (0..7)
        .map(|i| simulate_shard(&t, &valid, Shard::new(i, 7).unwrap()))
        .collect();
    let merged = if parts.iter().all(Result::is_ok) {
        let parts: Vec<ShardOutcome> = parts.into_iter().map(Result::unwrap).collect();
        let refs: Vec<&ShardOutcome> = parts.iter().collect();
        merge_shards(&t, &valid, &refs).map(|_| ())
    } else {
        Err(parts.into_iter().find_map(Result::err).unwrap())
    };
    assert!(
        matches!(merged, Err(ShardRunError::Coupled { limit: 3, peak }) if peak > 3),
        "{merged:?}"
    );
}

/// A streamed shard of an Azure 2019 trace (only its functions expanded, minute by minute) is
/// the held shard's part, state for state; the streamed merge (no rows held, a cyclic plan made
/// a minute at a time) is the whole run's outcome.
#[test]
fn streamed_shards_of_an_azure_2019_trace_are_the_held_shards_and_merge_into_the_whole_run() {
    use faasplan::engine::{merge_shards_stream, shard_ids, simulate_shard_stream};
    use faasplan::time::MINUTE;
    use faasplan::trace::azure2019;
    use faasplan::trace::input::Input;
    let seed = 5;
    let opts = common::azure_2019_sample_options(seed);
    let input =
        Input::open(&common::azure_2019_sample_dir().join("invocations_per_function.csv")).unwrap();
    let parsed = azure2019::parse(input, &azure2019::Options::of(&opts)).unwrap();
    let (trace, _) = parsed.load(seed).unwrap();
    let (facts, _) = parsed.facts();
    let mut settings = Vec::new();
    for warmup in [Warmup::None, Warmup::Cyclic] {
        let mut cfg = PlatformConfig::lambda_defaults(InitDist::lognormal(200.0, 800.0).unwrap());
        cfg.account_concurrency = None;
        cfg.horizon = Some(30 * MINUTE);
        cfg.warmup = warmup;
        settings.push(cfg);
    }
    let mut c = settings[1].clone();
    c.keep_alive = KeepAliveSpec::parse("hybrid").unwrap().policy();
    c.max_lifetime = c.keep_alive.max_lifetime();
    c.provisioned = 1;
    settings.push(c);
    for (k, cfg) in settings.iter().enumerate() {
        let valid = cfg.validate_for(&trace).unwrap();
        let all = || parsed.stream(seed, cfg.horizon);
        let n = 3;
        let mut parts = Vec::new();
        for i in 0..n {
            let shard = Shard::new(i, n).unwrap();
            let held = simulate_shard(&trace, &valid, shard).unwrap();
            let ids = shard_ids(&facts.functions, shard);
            let mine = || parsed.stream_of(seed, cfg.horizon, Some(&ids));
            let rows = parsed.invocations_of(&ids);
            let log = DeltaLog::default();
            let streamed =
                simulate_shard_stream(all, mine, &facts, &ids, rows, &valid, log).unwrap();
            assert_eq!(
                format!("{streamed:?}"),
                format!("{held:?}"),
                "setting {k}, shard {shard}"
            );
            parts.push(streamed);
        }
        let refs: Vec<&ShardOutcome> = parts.iter().collect();
        let merged = merge_shards_stream(all, &facts, &valid, &refs).unwrap();
        assert_eq!(
            json(&merged),
            json(&simulate(&trace, &valid)),
            "setting {k}"
        );
    }
}

#[test]
fn the_merge_refuses_a_missing_or_doubled_part() {
    let t = trace();
    let cfg = config();
    let valid = cfg.validate_for(&t).unwrap();
    let parts: Vec<ShardOutcome> = (0..3)
        .map(|i| simulate_shard(&t, &valid, Shard::new(i, 3).unwrap()).unwrap())
        .collect();
    let nonempty: Vec<&ShardOutcome> = parts.iter().filter(|p| !p.functions.is_empty()).collect();
    assert!(nonempty.len() >= 2);
    let missing = merge_shards(&t, &valid, &nonempty[1..]).unwrap_err();
    assert!(matches!(missing, ShardRunError::Missing(_)), "{missing}");
    let mut doubled: Vec<&ShardOutcome> = parts.iter().collect();
    doubled.push(nonempty[0]);
    let twice = merge_shards(&t, &valid, &doubled).unwrap_err();
    assert!(matches!(twice, ShardRunError::Twice(_)), "{twice}");
    // Another window (horizon) is another run.
    let mut other = config();
    other.horizon = Some(900 * SECOND);
    let valid_other = other.validate_for(&t).unwrap();
    let refs: Vec<&ShardOutcome> = parts.iter().collect();
    let e = merge_shards(&t, &valid_other, &refs).unwrap_err();
    assert!(matches!(e, ShardRunError::OtherWindow { .. }), "{e}");
}

// --- The command line: `simulate --shard I/N --partial FILE` and `faasplan merge`. ---

mod cli {
    use std::path::{Path, PathBuf};

    use crate::common::{faasplan, stderr};

    const TRACE: &str = "workloads/multi-function.csv";

    fn run(args: &[&str]) -> std::process::Output {
        let out = faasplan(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    }

    fn refused(args: &[&str], says: &[&str]) -> String {
        let out = faasplan(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        for s in says {
            assert!(err.contains(s), "{args:?}: expected {s:?} in: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
        err
    }

    /// Writes the `n` partials of `settings` into `dir`.
    fn shards(dir: &Path, settings: &[&str], n: u32) -> Vec<PathBuf> {
        (0..n)
            .map(|i| {
                let p = dir.join(format!("part-{i}-of-{n}.fpp"));
                let shard = format!("{i}/{n}");
                let mut args = vec!["simulate"];
                args.extend_from_slice(settings);
                args.extend(["--shard", &shard, "--partial", p.to_str().unwrap()]);
                let out = run(&args);
                assert!(out.stdout.is_empty(), "a shard writes only its partial");
                p
            })
            .collect()
    }

    fn merge(parts: &[PathBuf], extra: &[&str]) -> std::process::Output {
        let mut args = vec!["merge"];
        args.extend(parts.iter().map(|p| p.to_str().unwrap()));
        args.extend_from_slice(extra);
        faasplan(&args)
    }

    fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn four_shards_merged_give_the_whole_runs_json_table_per_minute_and_report() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let settings = [
            TRACE,
            "--horizon",
            "1d",
            "--offering",
            "aws-lambda-arm64",
            "--provisioned",
            "checkout=2",
            "--warmup",
            "cyclic",
        ];
        let parts = shards(d, &settings, 4);
        for format in ["json", "table", "csv", "markdown"] {
            let mut whole = vec!["simulate"];
            whole.extend_from_slice(&settings);
            whole.extend(["--format", format]);
            let want = run(&whole);
            let got = merge(&parts, &["--format", format]);
            assert!(got.status.success(), "{}", stderr(&got));
            assert_eq!(
                String::from_utf8_lossy(&got.stdout),
                String::from_utf8_lossy(&want.stdout),
                "{format}"
            );
        }
        // The per-minute series and the report (summary.md, charts, page), byte for byte.
        let (pm_whole, pm_merged) = (d.join("whole.csv"), d.join("merged.csv"));
        let (rep_whole, rep_merged) = (d.join("rep-whole"), d.join("rep-merged"));
        let mut whole = vec!["simulate"];
        whole.extend_from_slice(&settings);
        whole.extend([
            "--per-minute",
            pm_whole.to_str().unwrap(),
            "--report",
            rep_whole.to_str().unwrap(),
        ]);
        run(&whole);
        let got = merge(
            &parts,
            &[
                "--per-minute",
                pm_merged.to_str().unwrap(),
                "--report",
                rep_merged.to_str().unwrap(),
            ],
        );
        assert!(got.status.success(), "{}", stderr(&got));
        assert_eq!(
            std::fs::read(&pm_whole).unwrap(),
            std::fs::read(&pm_merged).unwrap()
        );
        // --out: the result in a file instead of stdout.
        let out_file = d.join("result.json");
        let got = merge(
            &parts,
            &["--format", "json", "--out", out_file.to_str().unwrap()],
        );
        assert!(
            got.status.success() && got.stdout.is_empty(),
            "{}",
            stderr(&got)
        );
        let mut whole = vec!["simulate"];
        whole.extend_from_slice(&settings);
        whole.extend(["--format", "json"]);
        assert_eq!(std::fs::read(&out_file).unwrap(), run(&whole).stdout);
        let (w, m) = (files(&rep_whole), files(&rep_merged));
        assert!(w.iter().any(|(n, _)| n.ends_with(".png")));
        assert_eq!(
            w.iter().map(|f| &f.0).collect::<Vec<_>>(),
            m.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        for ((name, a), (_, b)) in w.iter().zip(&m) {
            assert!(a == b, "report file {name} differs");
        }
    }

    #[test]
    fn applications_of_the_azure_2021_sample_merge_exactly_under_a_learning_policy() {
        let tmp = tempfile::tempdir().unwrap();
        let settings = [
            "workloads/azure-functions-2021-sample/invocations.csv",
            "--horizon",
            "1d",
            "--keep-alive-policy",
            "hybrid",
            "--account-concurrency",
            "none",
        ];
        let parts = shards(tmp.path(), &settings, 3);
        let mut whole = vec!["simulate"];
        whole.extend_from_slice(&settings);
        whole.extend(["--format", "json"]);
        let want = run(&whole);
        let got = merge(&parts, &["--format", "json"]);
        assert!(got.status.success(), "{}", stderr(&got));
        assert_eq!(got.stdout, want.stdout);
    }

    #[test]
    fn merge_refuses_a_missing_doubled_foreign_corrupt_or_other_version_partial() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let settings = [TRACE, "--horizon", "1d"];
        let parts = shards(d, &settings, 3);
        let name = |p: &PathBuf| p.to_str().unwrap().to_string();
        // Missing.
        let out = merge(&parts[..2], &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("shard 2/3") && stderr(&out).contains("missing"));
        // Doubled.
        let copy = d.join("copy.fpp");
        std::fs::copy(&parts[1], &copy).unwrap();
        let out = merge(&[parts[0].clone(), parts[1].clone(), copy.clone()], &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("both shard 1/3"), "{}", stderr(&out));
        assert!(stderr(&out).contains(&name(&copy)));
        // Another run's settings, or another trace.
        let other = d.join("other");
        std::fs::create_dir(&other).unwrap();
        let foreign = shards(&other, &[TRACE, "--horizon", "12h"], 3);
        let out = merge(
            &[parts[0].clone(), parts[1].clone(), foreign[2].clone()],
            &[],
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("settings"), "{}", stderr(&out));
        let changed = d.join("changed.csv");
        let mut text = std::fs::read_to_string(TRACE).unwrap();
        text.push_str("1709370000000,checkout,100.0,1024,sync\n");
        std::fs::write(&changed, text).unwrap();
        let moved = d.join("moved");
        std::fs::create_dir(&moved).unwrap();
        let theirs = shards(&moved, &[changed.to_str().unwrap(), "--horizon", "1d"], 1);
        std::fs::write(&changed, std::fs::read(TRACE).unwrap()).unwrap();
        let out = merge(&theirs, &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("is not the trace")
                && stderr(&out).contains("fingerprints differ"),
            "{}",
            stderr(&out)
        );
        // Truncated, and one byte changed: the checksum names the file.
        let good = std::fs::read(&parts[2]).unwrap();
        let cut = d.join("cut.fpp");
        std::fs::write(&cut, &good[..good.len() / 2]).unwrap();
        let out = merge(&[parts[0].clone(), parts[1].clone(), cut.clone()], &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(&name(&cut)) && stderr(&out).contains("corrupt"));
        let mut flipped = good.clone();
        let i = flipped.len() - 40;
        flipped[i] ^= 1;
        std::fs::write(&cut, &flipped).unwrap();
        let out = merge(&[parts[0].clone(), parts[1].clone(), cut.clone()], &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("checksum"), "{}", stderr(&out));
        // Another version of faasplan: a well-formed partial that says so.
        let faasplan::partial::Read {
            mut header,
            payload,
            sections,
        } = faasplan::partial::read(&parts[2]).unwrap();
        header.faasplan = "0.0.1".into();
        let state: faasplan::outcome::shard::ShardOutcome =
            faasplan::partial::decode(&parts[2], &payload).unwrap();
        let old = d.join("old.fpp");
        let sections: Vec<&dyn faasplan::partial::Section> =
            sections.iter().map(|s| s as _).collect();
        let bytes = faasplan::partial::encode(header, &state, &sections).unwrap();
        std::fs::write(&old, bytes).unwrap();
        let out = merge(&[parts[0].clone(), parts[1].clone(), old.clone()], &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains(&name(&old)) && stderr(&out).contains("faasplan 0.0.1"),
            "{}",
            stderr(&out)
        );
        // Not a partial at all.
        let out = merge(&[PathBuf::from(TRACE)], &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("not a faasplan partial"));
    }

    #[test]
    fn bad_shard_specs_and_unshardable_runs_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("p.fpp");
        let p = p.to_str().unwrap();
        for (spec, says) in [
            ("5/4", "out of range"),
            ("0/0", "at least 1"),
            ("a/b", "I/N"),
            ("1", "I/N"),
        ] {
            refused(
                &[
                    "simulate",
                    TRACE,
                    "--horizon",
                    "1d",
                    "--shard",
                    spec,
                    "--partial",
                    p,
                ],
                &["--shard", says],
            );
        }
        refused(
            &["simulate", TRACE, "--shard", "0/2", "--partial", p],
            &["--shard", "--horizon"],
        );
        refused(
            &["simulate", TRACE, "--horizon", "1d", "--shard", "0/2"],
            &["--partial"],
        );
        refused(
            &["simulate", TRACE, "--horizon", "1d", "--partial", p],
            &["--shard"],
        );
        // An account limit that binds couples the functions: no exact merge.
        refused(
            &[
                "simulate",
                TRACE,
                "--horizon",
                "1d",
                "--account-concurrency",
                "2",
                "--shard",
                "0/1",
                "--partial",
                p,
            ],
            &["account limit", "coupled"],
        );
        assert!(!Path::new(p).exists(), "no partial left behind");
    }

    #[test]
    fn a_sharded_sweep_merges_into_the_whole_sweeps_output_and_report() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let settings = [
            TRACE,
            "--offering",
            "aws-lambda-arm64",
            "--provisioned",
            "0,1,3",
            "--memory-mb",
            "512,1024",
            "--replicas",
            "3",
            "--resample",
            "block:10m",
            "--slo",
            "p99<3s",
            "-q",
        ];
        let parts: Vec<PathBuf> = (0..4)
            .map(|i| {
                let p = d.join(format!("sweep-{i}.fpp"));
                let shard = format!("{i}/4");
                let mut args = vec!["sweep"];
                args.extend_from_slice(&settings);
                args.extend(["--shard", &shard, "--partial", p.to_str().unwrap()]);
                run(&args);
                p
            })
            .collect();
        let (rep_whole, rep_merged) = (d.join("rep-whole"), d.join("rep-merged"));
        for format in ["json", "table"] {
            let mut whole = vec!["sweep"];
            whole.extend_from_slice(&settings);
            whole.extend(["--format", format]);
            if format == "json" {
                whole.extend(["--report", rep_whole.to_str().unwrap()]);
            }
            let want = run(&whole);
            let mut extra = vec!["--format", format];
            if format == "json" {
                extra.extend(["--report", rep_merged.to_str().unwrap()]);
            }
            let got = merge(&parts, &extra);
            assert!(got.status.success(), "{}", stderr(&got));
            assert_eq!(
                String::from_utf8_lossy(&got.stdout),
                String::from_utf8_lossy(&want.stdout),
                "{format}"
            );
        }
        let (w, m) = (files(&rep_whole), files(&rep_merged));
        assert!(w.iter().any(|(n, _)| n.ends_with(".png")));
        assert_eq!(w, m, "the sweep's report, byte for byte");
        // A simulate's partial and a sweep's are not one run.
        let sim = shards(d, &[TRACE, "--horizon", "1d"], 1);
        let out = merge(&[parts[0].clone(), sim[0].clone()], &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("commands differ"), "{}", stderr(&out));
    }

    /// A sweep over an Azure 2019 trace streams each job's replica (issue 16): the same
    /// output and notes as holding each replica's expanded trace (`--read-first`), with no
    /// invocation held (a bound of one does not stop it); its shards merge into it too.
    #[test]
    fn a_sweep_over_an_azure_2019_trace_streams_each_replica_and_equals_holding_them() {
        let tmp = tempfile::tempdir().unwrap();
        let sample = crate::common::azure_2019_sample_args();
        let mut settings = vec!["sweep"];
        settings.extend(sample.iter().map(String::as_str));
        settings.extend([
            "--horizon",
            "15m",
            "--offering",
            "aws-lambda-arm64",
            "--provisioned",
            "0,2",
            "--replicas",
            "2",
            "--format",
            "json",
            "-q",
        ]);
        let held = run(&[&settings[..], &["--read-first"]].concat());
        let streamed = run(&[&settings[..], &["--max-invocations", "1"]].concat());
        assert_eq!(streamed.stdout, held.stdout);
        assert_eq!(stderr(&streamed), stderr(&held));
        let parts: Vec<PathBuf> = (0..3)
            .map(|i| {
                let p = tmp.path().join(format!("sweep-{i}.fpp"));
                let shard = format!("{i}/3");
                run(&[
                    &settings[..],
                    &["--shard", &shard, "--partial", p.to_str().unwrap()],
                ]
                .concat());
                p
            })
            .collect();
        let got = merge(&parts, &["--format", "json"]);
        assert!(got.status.success(), "{}", stderr(&got));
        assert_eq!(got.stdout, held.stdout, "the streamed shards, merged");
    }

    #[test]
    fn a_shard_of_an_azure_2019_trace_expands_only_its_functions_and_merges_exactly() {
        let tmp = tempfile::tempdir().unwrap();
        let sample = crate::common::azure_2019_sample_args();
        let mut base: Vec<&str> = sample.iter().map(String::as_str).collect();
        base.extend(["--horizon", "20m", "--account-concurrency", "none"]);
        for warmup in ["none", "cyclic"] {
            let mut whole = vec!["simulate"];
            whole.extend_from_slice(&base);
            whole.extend(["--warmup", warmup, "--format", "json"]);
            let want = run(&whole);
            assert!(want.status.success(), "{}", stderr(&want));
            // Streamed, the shards and the merge hold no expanded trace: a bound of one held
            // invocation does not stop them (the merge reads the parsed counts only).
            let mut streamed = base.to_vec();
            streamed.extend(["--warmup", warmup, "--max-invocations", "1"]);
            let d = tmp.path().join(format!("streamed-{warmup}"));
            std::fs::create_dir_all(&d).unwrap();
            let parts = shards(&d, &streamed, 2);
            let got = merge(&parts, &["--format", "json"]);
            assert!(got.status.success(), "{}", stderr(&got));
            assert_eq!(got.stdout, want.stdout, "streamed shards, warm-up {warmup}");
            // Read first, each shard expands only its own functions (without a cyclic warm-up,
            // which needs every function's end): the whole trace is 5,513,999 invocations,
            // over a bound of 5,000,000 that each shard's functions stay under.
            if warmup == "none" {
                let mut held = base.to_vec();
                held.extend([
                    "--warmup",
                    warmup,
                    "--read-first",
                    "--max-invocations",
                    "5000000",
                ]);
                let d = tmp.path().join("held");
                std::fs::create_dir_all(&d).unwrap();
                let parts = shards(&d, &held, 2);
                let got = merge(&parts, &["--format", "json"]);
                assert!(got.status.success(), "{}", stderr(&got));
                assert_eq!(got.stdout, want.stdout, "shards read first");
                let mut too_many = vec!["simulate"];
                too_many.extend_from_slice(&base);
                too_many.extend([
                    "--warmup",
                    warmup,
                    "--read-first",
                    "--max-invocations",
                    "5000000",
                ]);
                assert_eq!(
                    faasplan(&too_many).status.code(),
                    Some(2),
                    "the whole trace, held"
                );
            }
        }
    }

    #[test]
    fn a_provisioned_plan_is_refused_and_a_changed_settings_file_is_caught_at_the_merge() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let p = d.join("p.fpp");
        // A schedule changes levels on its own clock, also while only other shards' functions
        // keep the whole run going: refused (found by review: the merge was silently wrong).
        for plan in [
            ["--provisioned-schedule", "08:00-20:00=2"],
            ["--provisioned-target", "0.7@1..5"],
        ] {
            refused(
                &[
                    "simulate",
                    TRACE,
                    "--horizon",
                    "1d",
                    plan[0],
                    plan[1],
                    "--shard",
                    "0/2",
                    "--partial",
                    p.to_str().unwrap(),
                ],
                &["--shard", "provisioned schedule or target"],
            );
        }
        // The same arguments over another init-time file are other settings.
        let init = d.join("init.txt");
        std::fs::write(&init, "120\n180\n250\n").unwrap();
        let spec = format!("empirical:{}", init.to_str().unwrap());
        let settings = [TRACE, "--horizon", "1d", "--init-ms", spec.as_str()];
        let parts = shards(d, &settings, 2);
        assert!(merge(&parts, &[]).status.success());
        std::fs::write(&init, "120\n180\n900\n").unwrap();
        let out = merge(&parts, &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("other settings"), "{}", stderr(&out));
    }
}
