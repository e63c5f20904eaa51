//! `faasplan simulate`: replay one trace on one platform and print the summary.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::report_args::{self, ReportArgs};
use super::trace_args::print_report;
use super::{Format, RunArgs, platform_config_for, thread_pool};
use faasplan::cost;
use faasplan::engine::{PlatformConfig, ProvisionedPlan};
use faasplan::export;
use faasplan::export::summary::{RunInfo, Summary};
use faasplan::offering::Offering;
use faasplan::outcome::{Mode, Outcome};
use faasplan::pipeline;
use faasplan::trace::canonical::ReadReport;
use faasplan::trace::facts::TraceFacts;
use faasplan::trace::format::{self, TraceFormat};

/// `faasplan simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub run: RunArgs,

    /// Output format.
    #[arg(long, default_value = "table", value_parser = super::format_parser())]
    pub format: Format,

    /// Also write a per-minute CSV series to FILE.
    #[arg(long, value_name = "FILE")]
    pub per_minute: Option<PathBuf>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Worker threads (default: all cores; at most 256). The output does not depend on it.
    #[arg(long, value_name = "N", value_parser = super::threads_parser())]
    pub threads: Option<usize>,

    /// Interleave all functions in one event loop even when they are independent (for checking).
    #[arg(long, hide = true)]
    pub coupled: bool,

    /// Run only shard I of N (0-based: 0/4 .. 3/4): the applications (or functions) whose stable
    /// name hash falls in it, and write their partial result to --partial. `faasplan merge` puts
    /// the N partials back together, byte-identical to the whole run. Needs --horizon (the
    /// window must be known in advance) and an account limit that does not bind.
    #[arg(long, value_name = "I/N", value_parser = shard_parser, requires = "partial",
          conflicts_with_all = ["per_minute", "report", "coupled"])]
    pub shard: Option<faasplan::shard::Shard>,

    /// Where a shard writes its partial result (with --shard).
    #[arg(long, value_name = "FILE", requires = "shard")]
    pub partial: Option<PathBuf>,

    /// Read the whole trace before simulating. By default a trace is replayed as it is read,
    /// holding about a minute of arrivals rather than every invocation: an Azure 2019 trace
    /// expanded minute by minute, and a canonical or Azure 2021 file whose rows come in arrival
    /// order (Azure 2021: within --reorder-window) read twice, a first pass for its facts and a
    /// replay (more passes for a cyclic warm-up, or when the account limit binds). Pipes,
    /// standard input and canonical rows out of order are read first anyway. The output is the
    /// same either way; only memory and time differ.
    #[arg(long)]
    pub read_first: bool,

    /// Longest an Azure 2021 row (ordered by end time; arrival = end - duration) may arrive
    /// before a row above it in the file when the trace streams, e.g. 30m, 2h (default: 1h).
    /// The replay holds the rows of the lag the file needs, at most this; a row that needs more
    /// is an error naming its line: raise this, or pass --read-first.
    #[arg(long, default_value = "1h", value_name = "DURATION",
          value_parser = super::platform::parse_duration_arg)]
    pub reorder_window: faasplan::time::Micros,
}

/// `--shard I/N`.
pub(crate) fn shard_parser(s: &str) -> Result<faasplan::shard::Shard, String> {
    s.parse()
        .map_err(|e: faasplan::shard::ShardError| format!("{e}"))
}

pub fn run(a: &SimulateArgs) -> anyhow::Result<ExitCode> {
    if let Some(out) = &a.per_minute {
        super::refuse_output_over_input("--per-minute", out, &a.run.input_paths())?;
    }
    let pool = thread_pool(a.threads)?;
    let offerings = a.run.offering.load()?;
    let force = a.coupled.then_some(Mode::Coupled);
    if let (Some(shard), Some(partial)) = (a.shard, &a.partial) {
        return super::merge::run_shard(a, &pool, &offerings, shard, partial);
    }
    if offerings.len() > 1 {
        return compare(a, &pool, &offerings, force);
    }
    let report_to = a.report.target("simulate", &a.run.trace_path())?;
    let offering = offerings.first();
    let cfg = platform_config_for(&a.run.platform, offering)?;
    let name = a.run.name();
    let mut input = a.run.open()?;
    let trace_format = format::resolve(&mut input, a.run.trace_args.format())?;
    if let Some(row_format) = streams_rows(a, &input, trace_format) {
        use faasplan::trace::sorted::{self, SurveyError};
        // Canonical rows must come in arrival order; Azure 2021's within the reorder window.
        let max_lag = (trace_format == TraceFormat::AZURE2021).then_some(a.reorder_window);
        match sorted::survey(input.path(), row_format, max_lag, cfg.horizon) {
            Ok(Some(file)) => {
                return sorted_streamed(
                    a,
                    &pool,
                    offering,
                    &cfg,
                    &file,
                    trace_format,
                    force,
                    &name,
                    report_to,
                );
            }
            // Out of order, or no rows: the trace is read whole below, which says the same.
            Ok(None) => {}
            Err(SurveyError::Window(w)) => {
                return Err(faasplan::error::TraceError::BadRow {
                    path: w.path.clone(),
                    line: w.line,
                    reason: format!(
                        "this row arrives {} s before a row above it (end_timestamp - duration), \
                         more than --reorder-window ({} s) allows when the trace streams: raise \
                         --reorder-window to at least that, or pass --read-first",
                        faasplan::time::us_to_s(w.lag),
                        faasplan::time::us_to_s(w.allowed)
                    ),
                }
                .into());
            }
            Err(SurveyError::Trace(e)) => return Err(e.into()),
        }
    }
    let (trace, report, outcome) =
        // Per-function settings are resolved against the whole trace's names first.
        if trace_format == TraceFormat::CANONICAL
            && a.run.trace_args.plain_canonical()
            && cfg.per_function.is_empty()
            && a.run.platform.trigger_for.is_empty()
        {
            // The fast path: reading and simulating overlap; the pipeline checks the config
            // against the whole trace.
            let opts = a.run.trace_args.read_options();
            let (trace, report, outcome) = pool
                .install(|| pipeline::read_and_simulate_input(input, &opts, &cfg, force))
                .map_err(|e| match e {
                    pipeline::PipelineError::Config(c) => {
                        pipeline::PipelineError::Config(super::platform::flag_error(c))
                    }
                    e => e,
                })?;
            print_report(&name, &report, None);
            (trace, report, outcome)
        } else if trace_format == TraceFormat::AZURE2019 && !a.read_first {
            return streamed(a, &pool, offering, &cfg, input, force, &name, report_to);
        } else {
            let (trace, load) = a.run.load_input(input, a.run.platform.seed, true)?;
            let valid = super::validate_for(&cfg, &trace)?;
            let outcome = pool.install(|| faasplan::engine::simulate_mode(&trace, &valid, force));
            (trace, load.rows, outcome)
        };
    output(
        a,
        offering,
        &cfg,
        Run {
            name: &name,
            trace: &trace,
            report: &report,
            outcome: &outcome,
            report_to: report_to.as_ref(),
        },
    )
}

/// The row format `simulate` replays as it reads `input` (see `trace::sorted`), or `None` when
/// the trace is read whole first: `--read-first`, an input that cannot be read twice (a pipe,
/// standard input), another format, or options the format's reader refuses (the whole read
/// reports them).
fn streams_rows(
    a: &SimulateArgs,
    input: &faasplan::trace::input::Input,
    trace_format: TraceFormat,
) -> Option<faasplan::trace::sorted::RowFormat> {
    use faasplan::trace::sorted::RowFormat;
    let t = &a.run.trace_args;
    if a.read_first || input.regular_len().is_none() || !t.plain_canonical() {
        return None;
    }
    let opts = t.read_options();
    if trace_format == TraceFormat::CANONICAL {
        Some(RowFormat::Canonical(opts))
    } else if trace_format == TraceFormat::AZURE2021 && opts.time_unit.is_none() {
        Some(RowFormat::Azure2021 {
            skip_bad_rows: opts.skip_bad_rows,
        })
    } else {
        None
    }
}

/// A canonical or Azure 2021 file replayed as it is read (see `engine::simulate_stream`): a
/// first pass found its facts; each replay reads it again. The output is that of the trace read
/// whole, notes and errors in the same order.
#[allow(clippy::too_many_arguments)]
fn sorted_streamed(
    a: &SimulateArgs,
    pool: &rayon::ThreadPool,
    offering: Option<&Offering>,
    cfg: &PlatformConfig,
    file: &faasplan::trace::sorted::SortedFile,
    trace_format: TraceFormat,
    force: Option<Mode>,
    name: &str,
    report_to: Option<faasplan::report::ReportTarget>,
) -> anyhow::Result<ExitCode> {
    let facts = file.facts();
    let load = format::LoadReport {
        format: Some(trace_format),
        rows: file.report().clone(),
        notes: file.notes().to_vec(),
        cold_starts: None,
    };
    // The held canonical fast path (`pipeline`) checks the config before it reports the read;
    // the other held paths report, apply --trigger-for, then check.
    let pipeline_order = trace_format == TraceFormat::CANONICAL
        && cfg.per_function.is_empty()
        && a.run.platform.trigger_for.is_empty();
    let (valid, triggers) = if pipeline_order {
        let valid = super::validate_for(cfg, facts)?;
        print_report(name, &load.rows, Some(&load));
        (valid, Vec::new())
    } else {
        print_report(name, &load.rows, Some(&load));
        let triggers = a.run.triggers_of(facts)?;
        (super::validate_for(cfg, facts)?, triggers)
    };
    let outcome = pool.install(|| {
        faasplan::engine::simulate_stream_from(
            || file.stream(&triggers),
            facts,
            file.origin_us(),
            &valid,
            force,
        )
    });
    file.check()?;
    output(
        a,
        offering,
        cfg,
        Run {
            name,
            trace: facts,
            report: &load.rows,
            outcome: &outcome,
            report_to: report_to.as_ref(),
        },
    )
}

/// An Azure 2019 trace replayed as it is expanded (see `engine::simulate_stream`): the counts
/// are parsed and checked first, then each minute's arrivals are made when the engine reaches
/// it and dropped once replayed. The output is that of the whole expanded trace.
#[allow(clippy::too_many_arguments)]
fn streamed(
    a: &SimulateArgs,
    pool: &rayon::ThreadPool,
    offering: Option<&Offering>,
    cfg: &PlatformConfig,
    input: faasplan::trace::input::Input,
    force: Option<Mode>,
    name: &str,
    report_to: Option<faasplan::report::ReportTarget>,
) -> anyhow::Result<ExitCode> {
    let seed = a.run.platform.seed;
    let (parsed, facts, rows) = super::merge::parse_azure2019(&a.run, input)?;
    let triggers = a.run.triggers_of(&facts)?;
    let valid = super::validate_for(cfg, &facts)?;
    let outcome = pool.install(|| {
        faasplan::engine::simulate_stream(
            || {
                parsed
                    .stream(seed, cfg.horizon)
                    .with_triggers(triggers.clone())
            },
            &facts,
            &valid,
            force,
        )
    });
    output(
        a,
        offering,
        cfg,
        Run {
            name,
            trace: &facts,
            report: &rows,
            outcome: &outcome,
            report_to: report_to.as_ref(),
        },
    )
}

/// A finished run, for [`output`].
pub(super) struct Run<'a> {
    pub name: &'a str,
    pub trace: &'a dyn TraceFacts,
    pub report: &'a ReadReport,
    pub outcome: &'a Outcome,
    pub report_to: Option<&'a faasplan::report::ReportTarget>,
}

/// Writes everything a run outputs: notes and warnings, the bill, `--per-minute`, `--report` and
/// the result on stdout. The whole run and `merge` share it, so their outputs are the same.
pub(super) fn output(
    a: &SimulateArgs,
    offering: Option<&Offering>,
    cfg: &PlatformConfig,
    run: Run<'_>,
) -> anyhow::Result<ExitCode> {
    let Run {
        name,
        trace,
        report,
        outcome,
        report_to,
    } = run;
    if trace.was_sorted() {
        eprintln!("note: {name}: rows were not in arrival order; sorted them (stably)");
    }
    if outcome.excluded_after_horizon > 0 {
        eprintln!(
            "note: {} rows arrive at or after the horizon and were not simulated",
            outcome.excluded_after_horizon
        );
    }
    let mut summary = Summary::new(outcome, run_info(name, trace, report, cfg, outcome))
        .with_warnings(&run_warnings(&a.run.platform, offering, cfg, outcome));
    faasplan::warnings::to_stderr(&summary.warnings);
    summary.cpu = cfg.cpu_use(outcome, trace);
    summary.notes.push(cfg.cpu_note(trace));
    eprintln!("note: {}", cfg.cpu_note(trace));
    if let Some(n) = cfg.per_function_note(trace) {
        eprintln!("note: {n}");
        summary.notes.push(n);
    }
    if let Some(o) = offering {
        summary.cost = Some(cost::bill(outcome, o, &a.run.offering.bill_options(cfg))?);
    }
    if let Some(path) = &a.per_minute {
        export::write_atomic(path, |w| export::per_minute::write(w, outcome))?;
    }
    if let Some(t) = report_to {
        report_args::write_simulate(t, outcome, &summary, cfg)?;
    }
    let result = export::results::simulate::SimulateExport {
        summary: &summary,
        outcome,
        cfg,
    };
    super::to_stdout(|w| a.format.write(&result, w))?;
    Ok(ExitCode::SUCCESS)
}

/// The options a run used, echoed in its summary.
pub(super) fn run_info(
    trace_name: &str,
    trace: &(impl TraceFacts + ?Sized),
    report: &ReadReport,
    cfg: &PlatformConfig,
    outcome: &Outcome,
) -> RunInfo {
    RunInfo {
        trace: trace_name.to_string(),
        // Invocations, also for formats whose rows are per-minute counts (Azure 2019).
        trace_rows: trace.invocation_count(),
        rows_skipped: report.rows_skipped,
        sorted_on_read: trace.was_sorted(),
        memory_mb: cfg.memory_mb,
        memory_sizes_mb: outcome.totals.usage.iter().map(|u| u.memory_mb).collect(),
        per_instance_concurrency: cfg.per_instance_concurrency,
        provisioned: cfg.max_provisioned(),
        provisioned_plan: cfg.provisioned_plan.as_ref().map(describe_plan),
        keep_alive: cfg.keep_alive.describe(),
        max_lifetime_s: cfg.max_lifetime.map(faasplan::time::us_to_s),
        max_concurrency: cfg.max_concurrency,
        account_concurrency: cfg.account_concurrency,
        scaling_rate: cfg.scaling.map(|s| {
            format!(
                "{} new instances, refilled 1 per {} ms",
                s.burst,
                s.refill_every as f64 / 1e3
            )
        }),
        init: cfg.init.describe(),
        horizon_s: cfg.horizon.map(faasplan::time::us_to_s),
        warmup: cfg.warmup.describe(),
        timeout_s: cfg.timeout.map(faasplan::time::us_to_s),
        seed: cfg.seed,
        mode: outcome.mode,
        excluded_after_horizon: outcome.excluded_after_horizon,
    }
}

/// A provisioned plan as the run info shows it, in the syntax of its flag.
pub(super) fn describe_plan(p: &ProvisionedPlan) -> String {
    let hhmm = |us: u64| {
        let m = us / faasplan::time::SECOND / 60;
        format!("{:02}:{:02}", m / 60, m % 60)
    };
    match p {
        ProvisionedPlan::Schedule(s) => {
            let mut steps: Vec<String> = s
                .steps
                .iter()
                .map(|st| format!("{}-{}={}", hhmm(st.start), hhmm(st.end), st.level))
                .collect();
            steps.push(format!("else={}", s.otherwise));
            format!("schedule {}", steps.join(","))
        }
        ProvisionedPlan::Target(t) => format!("target tracking {}@{}..{}", t.target, t.min, t.max),
    }
}

/// The warnings of one run on `offering` (or the built-in platform).
pub(super) fn run_warnings(
    a: &super::PlatformArgs,
    offering: Option<&Offering>,
    cfg: &PlatformConfig,
    outcome: &Outcome,
) -> Vec<faasplan::warnings::Warning> {
    let origins = super::origin::origins(a, offering);
    faasplan::warnings::for_run(&faasplan::warnings::RunFacts {
        outcome,
        cfg,
        origins: &origins,
    })
}

/// `--offering A --offering B ...`: reads the trace once, replays it on each offering (its
/// behaviour defaults under the flags given) and prints one row per offering.
fn compare(
    a: &SimulateArgs,
    pool: &rayon::ThreadPool,
    offerings: &[Offering],
    force: Option<Mode>,
) -> anyhow::Result<ExitCode> {
    if a.per_minute.is_some() {
        return Err(faasplan::error::ConfigError::invalid(
            "--per-minute",
            "writes one run's series; give a single --offering with it",
        )
        .into());
    }
    let report_to = a.report.target("simulate", &a.run.trace_path())?;
    let name = a.run.name();
    let (trace, load) = a.run.load(a.run.platform.seed, true)?;
    if trace.was_sorted() {
        eprintln!("note: {name}: rows were not in arrival order; sorted them (stably)");
    }
    let mut runs = Vec::with_capacity(offerings.len());
    for o in offerings {
        let cfg = platform_config_for(&a.run.platform, Some(o))
            .with_context(|| format!("offering {}", o.meta.name))?;
        let valid = super::validate_for(&cfg, &trace)
            .with_context(|| format!("offering {}", o.meta.name))?;
        let outcome = pool.install(|| faasplan::engine::simulate_mode(&trace, &valid, force));
        let mut summary = Summary::new(
            &outcome,
            run_info(&name, &trace, &load.rows, &cfg, &outcome),
        )
        .with_warnings(&run_warnings(&a.run.platform, Some(o), &cfg, &outcome));
        summary.cpu = cfg.cpu_use(&outcome, &trace);
        summary.notes.push(cfg.cpu_note(&trace));
        summary.notes.extend(cfg.per_function_note(&trace));
        summary.cost = Some(cost::bill(&outcome, o, &a.run.offering.bill_options(&cfg))?);
        runs.push(summary);
    }
    faasplan::warnings::to_stderr(&export::bill::comparison_warnings(&runs));
    if let Some(t) = &report_to {
        report_args::write_offerings(t, &name, &runs)?;
    }
    let result = export::results::simulate::OfferingsExport {
        trace: &name,
        runs: &runs,
    };
    super::to_stdout(|w| a.format.write(&result, w))?;
    Ok(ExitCode::SUCCESS)
}
