//! `--shard I/N --partial FILE` (one shard of a run) and `faasplan merge` (the whole run's output
//! from all its shards' partials, byte-identical to running it whole).
//!
//! A partial records the command's arguments (without the shard's own and the output options)
//! and a fingerprint of the trace it read. `merge` checks that the partials belong together,
//! reads the trace again (the outputs need it: notes, CPU use, the read report; an Azure 2019
//! trace is parsed, not expanded, and its shards stream) and checks its fingerprint, merges the shards' states into the run's outcome, and writes every output the
//! whole run writes, through the same code (`simulate::output`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, bail};
use clap::{Args, Parser};

use super::report_args::ReportArgs;
use super::simulate::{self, SimulateArgs};
use super::{Cli, Command, Format, platform_config_for, thread_pool};
use faasplan::error::ConfigError;
use faasplan::offering::Offering;
use faasplan::outcome::shard::ShardOutcome;
use faasplan::partial::{self, Header};
use faasplan::shard::Shard;
use faasplan::sweep::JobValues;
use faasplan::trace::Trace;
use faasplan::trace::azure2019;
use faasplan::trace::facts::Facts;
use faasplan::trace::format::{self, TraceFormat};
use faasplan::warnings::Warning;

/// The command line after a scenario file was expanded (set once by `cli::run`): a shard
/// records its settings from it.
pub(super) static ARGS: OnceLock<Vec<OsString>> = OnceLock::new();

/// `faasplan merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The partial results of every shard of one run (`--shard I/N --partial FILE`), in any
    /// order.
    #[arg(value_name = "PARTIAL", required = true)]
    pub partials: Vec<PathBuf>,

    /// Output format.
    #[arg(long, default_value = "table", value_parser = super::format_parser())]
    pub format: Format,

    /// Also write a per-minute CSV series to FILE (a simulate's partials).
    #[arg(long, value_name = "FILE")]
    pub per_minute: Option<PathBuf>,

    /// Write the result to FILE instead of stdout (whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Worker threads (default: all cores; at most 256). The output does not depend on it.
    #[arg(long, value_name = "N", value_parser = super::threads_parser())]
    pub threads: Option<usize>,
}

/// The options a shard's settings leave out: its own, and those that only choose outputs or
/// threads (merge takes its own).
const NOT_SETTINGS: [&str; 4] = ["--shard", "--partial", "--format", "--threads"];
/// Switches that only choose what is shown (no value).
const NOT_SETTINGS_SWITCHES: [&str; 2] = ["--quiet", "-q"];

/// The run's settings as a shard records them: the expanded command line after the command's
/// name, without [`NOT_SETTINGS`].
fn settings_args() -> anyhow::Result<Vec<String>> {
    let all = ARGS
        .get()
        .cloned()
        .unwrap_or_else(|| std::env::args_os().collect());
    let mut out = Vec::new();
    let mut it = all.into_iter().skip(1).map(|a| {
        a.into_string()
            .map_err(|a| anyhow::anyhow!("a sharded run's arguments must be UTF-8: {a:?}"))
    });
    // The command's name.
    it.next().transpose()?;
    while let Some(arg) = it.next() {
        let arg = arg?;
        if NOT_SETTINGS.contains(&arg.as_str()) {
            it.next().transpose()?;
        } else if NOT_SETTINGS_SWITCHES.contains(&arg.as_str()) {
            continue;
        } else if !NOT_SETTINGS.iter().any(|f| {
            arg.strip_prefix(f)
                .is_some_and(|rest| rest.starts_with('='))
        }) {
            out.push(arg);
        }
    }
    Ok(out)
}

/// `simulate --shard I/N --partial FILE`: runs the shard's functions and writes their partial.
pub(super) fn run_shard(
    a: &SimulateArgs,
    pool: &rayon::ThreadPool,
    offerings: &[Offering],
    shard: Shard,
    partial: &Path,
) -> anyhow::Result<ExitCode> {
    if offerings.len() > 1 {
        return Err(ConfigError::invalid(
            "--shard",
            "runs one offering: shard each --offering's run on its own",
        )
        .into());
    }
    super::refuse_output_over_input("--partial", partial, &a.run.input_paths())?;
    let offering = offerings.first();
    let cfg = platform_config_for(&a.run.platform, offering)?;
    if cfg.horizon.is_none() {
        return Err(ConfigError::invalid(
            "--shard",
            "needs --horizon: the whole run's window ends with its last event, which no shard \
             knows (give the trace's span, e.g. --horizon 1d)",
        )
        .into());
    }
    let settings = settings_args()?;
    let mut input = a.run.open()?;
    let log = spilling_log(partial)?;
    let (part, fingerprint) =
        if format::resolve(&mut input, a.run.trace_args.format())? == TraceFormat::AZURE2019 {
            azure2019_shard(a, pool, &cfg, input, shard, log)?
        } else {
            let (trace, _) = a.run.load_shard(input, a.run.platform.seed, true, None)?;
            let valid = super::validate_for(&cfg, &trace)?;
            let part = pool
                .install(|| faasplan::engine::simulate_shard_with(&trace, &valid, shard, log))
                .map_err(|e| ConfigError::invalid("--shard", e.to_string()))?;
            (part, shard_fingerprint(&trace, shard))
        };
    let header = Header::new(
        "simulate",
        shard,
        fingerprint,
        settings,
        partial::settings_fingerprint(&(&cfg, offering)),
    );
    let spill_error = |e| faasplan::error::WriteError::io(format!("{}", partial.display()), e);
    let (log, finish_log) = (
        part.log.section().map_err(spill_error)?,
        part.finish_log.section().map_err(spill_error)?,
    );
    let sections: [&dyn partial::Section; 2] = [&log, &finish_log];
    let bytes = partial::Encoded::new(header, &part, &sections)?;
    faasplan::export::write_atomic(partial, |w| bytes.write_to(w))?;
    let rows: u64 = part.functions.iter().map(|(_, s)| s.invocations).sum();
    eprintln!(
        "note: shard {shard}: {} of {} functions ({} invocations counted); partial written to {} \
         ({} bytes)",
        part.functions.len(),
        part.functions_in_trace,
        rows,
        partial.display(),
        bytes.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// The log of a shard's level changes, spilled as it grows to an unnamed temporary file beside
/// the partial (the system's temporary folder for standard output), so that the shard holds
/// one chunk of it, not hundreds of megabytes; the file goes when the log does.
fn spilling_log(partial: &Path) -> anyhow::Result<faasplan::outcome::shard::DeltaLog> {
    let dir = match partial.parent() {
        _ if partial.as_os_str() == "-" => std::env::temp_dir(),
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file = tempfile::tempfile_in(&dir).map_err(|e| {
        faasplan::error::WriteError::io(
            format!(
                "{}: cannot make a temporary file for the level-change log",
                dir.display()
            ),
            e,
        )
    })?;
    Ok(faasplan::outcome::shard::DeltaLog::spill_to(file))
}

/// An Azure 2019 trace's shard: the counts are parsed and checked, and only the shard's
/// functions are expanded, as they are replayed (`engine::simulate_shard_stream`; with
/// `--read-first`, expanded whole first). A cyclic warm-up plans its replayed end from every
/// function's rows, made and dropped a minute at a time. The fingerprint is the parsed
/// counts' (`Parsed::fingerprint_of`), so the merge checks it without expanding the trace.
fn azure2019_shard(
    a: &SimulateArgs,
    pool: &rayon::ThreadPool,
    cfg: &faasplan::engine::PlatformConfig,
    input: faasplan::trace::input::Input,
    shard: Shard,
    log: faasplan::outcome::shard::DeltaLog,
) -> anyhow::Result<(ShardOutcome, u64)> {
    let seed = a.run.platform.seed;
    let (parsed, facts, _) = parse_azure2019(&a.run, input)?;
    let triggers = a.run.triggers_of(&facts)?;
    let valid = super::validate_for(cfg, &facts)?;
    let ids = faasplan::engine::shard_ids(&facts.functions, shard);
    let fingerprint = parsed.fingerprint_of(seed, |f| ids.binary_search(&(f as u32)).is_ok());
    let part = if a.read_first {
        // A cyclic warm-up needs every function's last rows (how much of the end it replays
        // depends on all of them); otherwise only the shard's functions are expanded.
        let only = (cfg.warmup != faasplan::engine::Warmup::Cyclic).then_some(shard);
        let (mut trace, _) = parsed.load_shard(seed, only)?;
        a.run.set_triggers(&mut trace)?;
        pool.install(|| faasplan::engine::simulate_shard_with(&trace, &valid, shard, log))
    } else {
        let rows_of_mine = parsed.invocations_of(&ids);
        pool.install(|| {
            faasplan::engine::simulate_shard_stream(
                || {
                    parsed
                        .stream(seed, cfg.horizon)
                        .with_triggers(triggers.clone())
                },
                || {
                    parsed
                        .stream_of(seed, cfg.horizon, Some(&ids))
                        .with_triggers(triggers.clone())
                },
                &facts,
                &ids,
                rows_of_mine,
                &valid,
                log,
            )
        })
    }
    .map_err(|e| ConfigError::invalid("--shard", e.to_string()))?;
    Ok((part, fingerprint))
}

/// Parses an Azure 2019 trace (its counts, not expanded) and prints its read report; gives the
/// trace's facts and the report's rows too.
pub(super) fn parse_azure2019(
    run: &super::RunArgs,
    input: faasplan::trace::input::Input,
) -> anyhow::Result<(
    azure2019::Parsed,
    Facts,
    faasplan::trace::canonical::ReadReport,
)> {
    let seed = run.platform.seed;
    let opts = run.trace_args.load_options(seed);
    let parsed = azure2019::parse(input, &azure2019::Options::of(&opts))?;
    let (rows, notes) = parsed.report(seed)?;
    let load = format::LoadReport {
        format: Some(TraceFormat::AZURE2019),
        rows,
        notes,
        cold_starts: None,
    };
    super::trace_args::print_report(&run.name(), &load.rows, Some(&load));
    let (facts, _) = parsed.facts();
    Ok((parsed, facts, load.rows))
}

/// One partial read from disk.
struct Part {
    path: PathBuf,
    header: Header,
    shard: Shard,
    payload: Vec<u8>,
    /// Where the raw sections are in the file (offset, length).
    sections: Vec<(u64, u64)>,
    /// The file, as opened to check its checksum: the logs are read through it.
    file: faasplan::outcome::shard::SectionFile,
}

/// Reads the partials and checks that they are the shards of one run, each once.
fn read_set(paths: &[PathBuf]) -> anyhow::Result<Vec<Part>> {
    let mut parts: Vec<Part> = Vec::with_capacity(paths.len());
    for path in paths {
        // Only the header and payload are held; the logs are read from the file by the merge.
        let partial::Indexed {
            header,
            payload,
            sections,
            file,
        } = partial::index(path)?;
        let shard = header
            .shard()
            .map_err(|e| anyhow::anyhow!("{}: shard {:?}: {e}", path.display(), header.shard))?;
        parts.push(Part {
            path: path.clone(),
            header,
            shard,
            payload,
            sections,
            file: faasplan::outcome::shard::SectionFile {
                file: std::sync::Arc::new(file),
                path: path.clone(),
            },
        });
    }
    let first = &parts[0];
    for p in &parts[1..] {
        let differs = |what: &str| {
            anyhow::anyhow!(
                "{} and {} are not shards of one run: their {what} differ",
                first.path.display(),
                p.path.display()
            )
        };
        if p.header.command != first.header.command {
            return Err(differs("commands"));
        }
        if p.header.args != first.header.args {
            return Err(differs("settings (command-line arguments)"));
        }
        if p.shard.count() != first.shard.count() {
            return Err(differs("shard counts"));
        }
    }
    let count = first.shard.count() as usize;
    let mut seen: Vec<Option<&Path>> = vec![None; count];
    for p in &parts {
        if let Some(other) = seen[p.shard.index() as usize] {
            bail!(
                "{} and {} are both shard {}: give each shard once",
                other.display(),
                p.path.display(),
                p.shard
            );
        }
        seen[p.shard.index() as usize] = Some(&p.path);
    }
    let missing: Vec<String> = (0..count)
        .filter(|&i| seen[i].is_none())
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        bail!(
            "shard{} {} of {count} missing: give every shard's partial (these have {})",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    parts.sort_by_key(|p| p.shard.index());
    Ok(parts)
}

/// `faasplan merge`.
pub fn run(m: &MergeArgs) -> anyhow::Result<ExitCode> {
    let parts = read_set(&m.partials)?;
    if let Some(out) = &m.out {
        if m.partials.contains(out) {
            bail!("--out {}: that is one of the partials", out.display());
        }
        let _ = super::RESULT_TO.set(out.clone());
    }
    let header = &parts[0].header;
    match header.command.as_str() {
        "simulate" => merge_simulate(m, &parts),
        "sweep" => merge_sweep(m, &parts),
        other => bail!(
            "{}: partials of `{other}` cannot be merged by this version",
            parts[0].path.display()
        ),
    }
}

/// The command a partial's header records, parsed as the shard parsed it.
fn stored_command(part: &Part) -> anyhow::Result<Command> {
    let argv = ["faasplan", part.header.command.as_str()]
        .into_iter()
        .map(String::from)
        .chain(part.header.args.iter().cloned());
    match Cli::try_parse_from(argv) {
        Ok(cli) => Ok(cli.command),
        Err(e) => bail!(
            "{}: its settings no longer parse: {}",
            part.path.display(),
            e.to_string().lines().next().unwrap_or_default()
        ),
    }
}

fn merge_simulate(m: &MergeArgs, parts: &[Part]) -> anyhow::Result<ExitCode> {
    let Command::Simulate(mut a) = stored_command(&parts[0])? else {
        unreachable!("the command was named simulate")
    };
    a.format = m.format;
    a.per_minute = m.per_minute.clone();
    a.report = m.report.clone();
    a.threads = m.threads;
    if let Some(out) = &a.per_minute {
        super::refuse_output_over_input("--per-minute", out, &a.run.input_paths())?;
    }
    if let Some(out) = &m.out {
        super::refuse_output_over_input("--out", out, &a.run.input_paths())?;
    }
    let pool = thread_pool(a.threads)?;
    let offerings = a.run.offering.load()?;
    let offering = offerings.first();
    let cfg = platform_config_for(&a.run.platform, offering)?;
    let report_to = a.report.target("simulate", &a.run.trace_path())?;
    let name = a.run.name();
    let seed = a.run.platform.seed;
    let other_trace = |p: &Part| {
        anyhow::anyhow!(
            "{name} is not the trace {} was made from (their fingerprints differ): merge where \
             the shards ran, with the same files",
            p.path.display()
        )
    };
    let states =
        || -> anyhow::Result<Vec<ShardOutcome>> { parts.iter().map(shard_state).collect() };
    let merging = || format!("merging {} partials", parts.len());
    let settings = partial::settings_fingerprint(&(&cfg, offering));
    let mut input = a.run.open()?;
    if format::resolve(&mut input, a.run.trace_args.format())? == TraceFormat::AZURE2019 {
        // The counts are parsed, not expanded: the fingerprints are the parsed counts', and
        // only a cyclic warm-up's plan makes the rows (a minute at a time).
        let (parsed, facts, rows) = parse_azure2019(&a.run, input)?;
        for p in parts {
            let ids = faasplan::engine::shard_ids(&facts.functions, p.shard);
            let mine = |f: usize| ids.binary_search(&(f as u32)).is_ok();
            if format!("{:016x}", parsed.fingerprint_of(seed, mine)) != p.header.input {
                return Err(other_trace(p));
            }
        }
        check_settings(parts, settings)?;
        let triggers = a.run.triggers_of(&facts)?;
        let valid = super::validate_for(&cfg, &facts)?;
        let states = states()?;
        let refs: Vec<&ShardOutcome> = states.iter().collect();
        let all = || {
            parsed
                .stream(seed, cfg.horizon)
                .with_triggers(triggers.clone())
        };
        let outcome = pool
            .install(|| faasplan::engine::merge_shards_stream(all, &facts, &valid, &refs))
            .with_context(merging)?;
        return simulate::output(
            &a,
            offering,
            &cfg,
            simulate::Run {
                name: &name,
                trace: &facts,
                report: &rows,
                outcome: &outcome,
                report_to: report_to.as_ref(),
            },
        );
    }
    let (trace, load) = a.run.load_shard(input, seed, true, None)?;
    for p in parts {
        if format!("{:016x}", shard_fingerprint(&trace, p.shard)) != p.header.input {
            return Err(other_trace(p));
        }
    }
    check_settings(parts, settings)?;
    let valid = super::validate_for(&cfg, &trace)?;
    let states = states()?;
    let refs: Vec<&ShardOutcome> = states.iter().collect();
    let outcome = pool
        .install(|| faasplan::engine::merge_shards(&trace, &valid, &refs))
        .with_context(merging)?;
    simulate::output(
        &a,
        offering,
        &cfg,
        simulate::Run {
            name: &name,
            trace: &trace,
            report: &load.rows,
            outcome: &outcome,
            report_to: report_to.as_ref(),
        },
    )
}

/// What a `simulate` shard read of `trace`: every function's name and application, and the
/// rows of its own functions.
fn shard_fingerprint(trace: &Trace, shard: Shard) -> u64 {
    trace.fingerprint_of(|f| shard.holds(&faasplan::engine::shard_key(&trace.functions()[f])))
}

/// A simulate partial's state, its level-change logs read from its two sections as the merge
/// needs them.
fn shard_state(p: &Part) -> anyhow::Result<ShardOutcome> {
    Ok(ShardOutcome::from_partial_file(
        &p.file,
        &p.payload,
        &p.sections,
    )?)
}

/// Refuses partials whose arguments resolved to other settings here (a file they name changed).
fn check_settings(parts: &[Part], here: u64) -> anyhow::Result<()> {
    let here = format!("{here:016x}");
    if let Some(p) = parts.iter().find(|p| p.header.settings != here) {
        bail!(
            "{} was made with other settings than its arguments give here: a file they name (an \
             offering, an init-time or Power Tuning file) differs; merge where the shards ran, \
             with the same files",
            p.path.display()
        );
    }
    Ok(())
}

/// Refuses a trace other than the one the shards read.
pub(super) fn check_fingerprint(name: &str, ours: u64, theirs: &str) -> anyhow::Result<()> {
    let fingerprint = format!("{ours:016x}");
    if fingerprint != theirs {
        bail!(
            "{name} is not the trace the shards read (its fingerprint is {fingerprint}, theirs \
             {theirs}): merge where the shards ran, with the same files"
        );
    }
    Ok(())
}

/// What a sweep's job gives besides its metrics: its run's warnings and memory sizes.
pub(super) type JobExtra = (Vec<Warning>, Vec<u16>);

/// One sweep job's results as a partial keeps them: its metrics, and its run's warnings and
/// memory sizes (which the sweep's warnings fold in job order).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct SweepJob {
    values: JobValues,
    /// (message, flag).
    warnings: Vec<(String, String)>,
    sizes: Vec<u16>,
}

/// A sweep shard's partial: its jobs, in job order.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct SweepPartial {
    jobs: Vec<SweepJob>,
}

/// `sweep --shard I/N --partial FILE`: writes the shard's jobs.
pub(super) fn write_sweep_partial(
    shard: Shard,
    partial: &Path,
    fingerprint: u64,
    settings: u64,
    done: Vec<(JobValues, JobExtra)>,
) -> anyhow::Result<ExitCode> {
    let jobs: Vec<SweepJob> = done
        .into_iter()
        .map(|(values, (ws, sizes))| SweepJob {
            values,
            warnings: ws
                .into_iter()
                .map(|w| (w.message, w.flag.to_string()))
                .collect(),
            sizes,
        })
        .collect();
    let n = jobs.len();
    let header = Header::new("sweep", shard, fingerprint, settings_args()?, settings);
    let bytes = partial::Encoded::new(header, &SweepPartial { jobs }, &[])?;
    faasplan::export::write_atomic(partial, |w| bytes.write_to(w))?;
    eprintln!(
        "note: shard {shard}: {n} (point, replica) jobs; partial written to {} ({} bytes)",
        partial.display(),
        bytes.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// A flag named in a partial, as the `&'static str` a `Warning` holds: each distinct name is
/// kept once for the process (a handful of flags).
fn intern(flag: String) -> &'static str {
    static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&n) = names.iter().find(|&&n| n == flag) {
        return n;
    }
    let n: &'static str = Box::leak(flag.into_boxed_str());
    names.push(n);
    n
}

/// Every job of a `points × replicas` grid, in job order, with its warnings and sizes; an
/// error unless each job is there exactly once.
pub(super) fn sweep_jobs_in_order(
    mut jobs: Vec<SweepJob>,
    points: usize,
    replicas: usize,
) -> anyhow::Result<Vec<(JobValues, JobExtra)>> {
    jobs.sort_by_key(|j| (j.values.point, j.values.replica));
    let total = points * replicas;
    if jobs.len() != total
        || jobs.iter().enumerate().any(|(i, j)| {
            j.values.point as usize != i / replicas || j.values.replica as usize != i % replicas
        })
    {
        bail!(
            "the partials hold {} jobs, not each of the grid's {points} points × {replicas} \
             replicas once",
            jobs.len()
        );
    }
    Ok(jobs
        .into_iter()
        .map(|j| {
            let ws = j
                .warnings
                .into_iter()
                .map(|(m, f)| Warning::new(m, intern(f)))
                .collect();
            (j.values, (ws, j.sizes))
        })
        .collect())
}

fn merge_sweep(m: &MergeArgs, parts: &[Part]) -> anyhow::Result<ExitCode> {
    let header = &parts[0].header;
    if m.per_minute.is_some() {
        bail!("--per-minute: a sweep has no per-minute series (merge a simulate's partials)");
    }
    let Command::Sweep(mut a) = stored_command(&parts[0])? else {
        unreachable!("the command was named sweep")
    };
    a.format = m.format;
    a.report = m.report.clone();
    a.threads = m.threads;
    if let Some(out) = &m.out {
        super::refuse_output_over_input("--out", out, &a.run.input_paths())?;
    }
    let mut jobs = Vec::new();
    for p in parts {
        let part: SweepPartial = partial::decode(&p.path, &p.payload)?;
        jobs.extend(part.jobs);
    }
    if let Some(p) = parts.iter().find(|p| p.header.input != header.input) {
        bail!(
            "{} and {} are not shards of one run: their traces differ",
            parts[0].path.display(),
            p.path.display()
        );
    }
    let settings = parts.iter().map(|p| p.header.settings.clone()).collect();
    super::sweep::run_jobs(
        &a,
        super::sweep::Jobs::Merged(jobs, header.input.clone(), settings),
    )
}
