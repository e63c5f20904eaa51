//! `faasplan sweep`: the grid of provisioned concurrency (× memory × keep-alive), each point run
//! R times with different seeds, every metric as mean and 95 % CI, the cheapest point whose CI
//! upper bound meets every `--slo`, and the Pareto fronts of cost against p99 and cold starts.

use std::process::ExitCode;

use clap::Args;

use super::report_args::{self, ReportArgs};
use super::{Format, PlatformArgs, RunArgs, thread_pool, to_stdout};
use faasplan::cost;
use faasplan::engine::{PlatformConfig, RunOptions, ValidConfig, simulate_with};
use faasplan::error::ConfigError;
use faasplan::export::summary::Summary;
use faasplan::outcome::Outcome;
use faasplan::sweep::grid::GridPoint;
use faasplan::sweep::replicas::{self, replica_seed, replica_traces};
use faasplan::sweep::{self, Interval, Metric, ResampleInfo, Slo, SweepResult};
use faasplan::time::{MINUTE, Micros, parse_duration, us_to_s};
use faasplan::trace::Trace;
use faasplan::trace::azure2019;
use faasplan::trace::facts::{Facts, TraceFacts};
use faasplan::trace::format::{self, TraceFormat};
use faasplan::trace::resample::BlockBootstrap;

/// Each simulation runs on one worker; the workers run many at once.
const ONE_THREAD: RunOptions = RunOptions {
    force: None,
    single_thread: true,
};

#[derive(Debug, Args)]
#[command(mut_arg("offerings", |a| {
    a.help(
        "The one offering to bill every grid point on (required): a shipped name (see `faasplan \
         offerings`) or a path to a .toml file. Its behaviour defaults apply to every platform \
         flag not given. To compare offerings, run one sweep per offering",
    )
}))]
pub struct SweepArgs {
    /// --provisioned, --memory-mb and --keep-alive take lists (0,5,10) and ranges (0..=100:10)
    /// here; the grid is their cross product.
    #[command(flatten)]
    pub run: RunArgs,

    /// Runs per grid point, each with its own seed (and, with --resample, its own resampled
    /// trace).
    #[arg(long, default_value_t = 5, value_name = "R")]
    pub replicas: usize,

    #[arg(long, value_name = "block:DURATION", help = RESAMPLE_HELP, long_help = RESAMPLE_LONG_HELP, value_parser = parse_resample)]
    pub resample: Option<Micros>,

    #[arg(long, value_name = "METRIC<=VALUE", help = slo_help())]
    pub slo: Vec<String>,

    /// Output format.
    #[arg(long, default_value = "table", value_parser = super::format_parser())]
    pub format: Format,

    /// Worker threads (default: all cores; at most 256). The output does not depend on it.
    #[arg(long, value_name = "N", value_parser = super::threads_parser())]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,

    /// Expand each replica's Azure 2019 trace whole and hold it for every grid point, rather
    /// than expanding it minute by minute in each (point, replica) job as the job replays it
    /// (the default: a job's memory is then its engine's, not the trace's 24 bytes an
    /// invocation). Faster with many grid points on a trace that fits in memory; the output is
    /// the same either way.
    #[arg(long)]
    pub read_first: bool,

    /// Run only shard I of N (0-based: 0/4 .. 3/4) of the grid's (point, replica) jobs (every
    /// N-th, from I) and write their results to --partial; `faasplan merge` puts the N partials
    /// back together, byte-identical to the whole sweep.
    #[arg(long, value_name = "I/N", value_parser = super::simulate::shard_parser,
          requires = "partial", conflicts_with = "report")]
    pub shard: Option<faasplan::shard::Shard>,

    /// Where a shard writes its partial result (with --shard).
    #[arg(long, value_name = "FILE", requires = "shard")]
    pub partial: Option<std::path::PathBuf>,
}

const RESAMPLE_HELP: &str = "Replicas resample the trace's traffic (block bootstrap of its own periods) \
     instead of only re-drawing init times, e.g. block:1d (default: off, every replica replays the \
     trace as it is)";

const RESAMPLE_LONG_HELP: &str = "Replicas resample the trace's traffic instead of only re-drawing \
     init times: a block bootstrap of the trace's own periods, so the intervals say how much the \
     numbers would move with another period of the same traffic. The time axis is cut into blocks \
     of DURATION aligned to the trace's first minute; each replica draws as many blocks as the \
     trace has, with replacement, and lays them end to end (all functions of a block move \
     together). Every replica is a resample; run `simulate` for the trace as it is. A partial \
     last block is drawn like the others, its missing part continued from a whole block, and \
     the last slot is cut, so replicas span what the trace spans; give --horizon (the trace's \
     length) too, so every replica is billed over the same window. DURATION is at least 1m and at \
     most half the trace (e.g. block:1h, block:1d). Assumes the blocks are exchangeable (no \
     trend across the trace), that a block holds the dependence that matters (a day for a \
     diurnal trace; shorter blocks scramble the daily cycle), and ignores what crosses a seam \
     (warm instances meet an unrelated next block). With --resample the ± is a 95 % prediction \
     interval for one resampled period, t·s·√(1+1/R), which does not shrink with R; without it, \
     the 95 % confidence interval of the mean over replicas, t·s/√R.";

/// `--slo`'s help, with the metric list the parser uses.
fn slo_help() -> String {
    format!(
        "A service-level objective the recommendation must meet on its interval's upper bound, \
         e.g. 'p99<=300ms', 'p99.9<=1s' or 'cold_start_ratio<=0.5%'. Repeatable. METRIC is one \
         of: {}",
        sweep::slo_metric_names()
    )
}

/// `block:DURATION` → the block length, microseconds. The bounds that depend on the trace are
/// checked by [`BlockBootstrap::new`].
fn parse_resample(s: &str) -> Result<u64, String> {
    let bad = |why: &str| format!("{s:?}: {why} (e.g. block:1h or block:1d)");
    let d = s
        .trim()
        .strip_prefix("block:")
        .ok_or_else(|| bad("expected block:DURATION, the only method"))?;
    let us = parse_duration(d).ok_or_else(|| bad("DURATION is e.g. 30m, 6h, 1d"))?;
    if us < MINUTE {
        return Err(bad("a block is at least a minute (1m)"));
    }
    Ok(us)
}

/// The grid the flags sweep: `--provisioned`, `--memory-mb` and `--keep-alive` lists.
fn grid(a: &PlatformArgs) -> Result<Vec<GridPoint>, ConfigError> {
    sweep::grid::grid(
        a.provisioned
            .as_ref()
            .map(|l| l.values.as_slice())
            .filter(|v| !v.is_empty()),
        a.memory_mb
            .as_ref()
            .map(|l| l.values.as_slice())
            .filter(|v| !v.is_empty()),
        a.keep_alive.as_ref().map(|l| l.values.as_slice()),
        a.keep_alive_policy.as_ref().map(|l| l.values.as_slice()),
    )
    .map_err(super::platform::flag_error)
}

/// A grid point as the warnings name it: `provisioned=2,memory_mb=512`, or `the grid point`.
fn point_label(settings: &[(String, f64)]) -> String {
    let s: Vec<String> = settings
        .iter()
        .map(|(n, v)| format!("{n}={}", faasplan::report::fmt::plain(*v)))
        .collect();
    if s.is_empty() {
        "the grid point".to_string()
    } else {
        s.join(",")
    }
}

/// One (point, replica)'s bill. Every grid configuration was checked against the sheet before
/// the run (`cost::check_recorded`), so this should not fail; if it does, the sweep stops with
/// the point and the reason instead of printing the point without a cost.
fn bill_run(
    outcome: &faasplan::outcome::Outcome,
    offering: &faasplan::offering::Offering,
    opts: &cost::BillOptions,
    settings: &[(String, f64)],
    replica: usize,
) -> anyhow::Result<cost::Bill> {
    cost::bill(outcome, offering, opts).map_err(|e| {
        anyhow::anyhow!(
            "at {}, replica {replica}: cannot bill the run on {}: {e}",
            point_label(settings),
            offering.meta.name
        )
    })
}

/// The grid's warnings, fed one run at a time in (point, replica) order: each run source once
/// (in grid order, whatever the thread count), and durations held constant across a memory axis.
/// It keeps one entry per warning source and per distinct size, not every run's.
struct SweepWarnings<'a> {
    settings: &'a [Vec<(String, f64)>],
    offering: &'a faasplan::offering::Offering,
    across: faasplan::warnings::Across,
    sizes: faasplan::warnings::HeldConstant,
}

impl<'a> SweepWarnings<'a> {
    fn new(settings: &'a [Vec<(String, f64)>], offering: &'a faasplan::offering::Offering) -> Self {
        SweepWarnings {
            settings,
            offering,
            across: Default::default(),
            sizes: Default::default(),
        }
    }

    /// Point `p`'s next replica: its warnings and the memory sizes it used, MB (the trace's own
    /// memory_mb wins over the axis).
    fn add(&mut self, p: usize, ws: &[faasplan::warnings::Warning], mbs: &[u16]) {
        let settings = self.settings;
        let label = || point_label(&settings[p]);
        self.across.add(label, ws);
        let sizes: Vec<(u16, f64)> = mbs.iter().map(|&mb| (mb, self.offering.vcpu(mb))).collect();
        self.sizes.add(&sizes);
    }

    fn finish(self, cpu_profile: bool) -> Vec<String> {
        let mut out = self.across.finish();
        if !cpu_profile {
            out.extend(self.sizes.finish().map(|w| w.to_string()));
        }
        out
    }
}

/// What a memory axis changes, for `notes`.
fn memory_note(rows_have_memory: bool) -> String {
    let mut s = "each memory size changes the bill (GB-s), init times where they are measured by \
                 size (the built-in Lambda table, at the nearest measured size; init times do not \
                 scale with --cpu-bound) and, with --cpu-bound or --power-tuning, the durations; \
                 cost_per_invocation_usd is the window's bill over its invocations"
        .to_string();
    if rows_have_memory {
        s.push_str(
            "; the rows' own memory_mb is where their durations were measured, and every row \
             runs at the grid's size",
        );
    }
    s
}

/// The window's bill over the invocations it counts, USD (0 with no invocations or no bill).
fn cost_per_invocation(s: &Summary) -> f64 {
    match &s.cost {
        Some(b) if s.invocations > 0 => b.window_usd / s.invocations as f64,
        _ => 0.0,
    }
}

pub fn run(a: &SweepArgs) -> anyhow::Result<ExitCode> {
    run_jobs(a, Jobs::Run)
}

/// Where a sweep's jobs' results come from.
pub(super) enum Jobs {
    /// Run them (all of them, or `--shard`'s, which are written to `--partial`).
    Run,
    /// A merge: every job's results from the shards' partials, and the trace's and settings'
    /// fingerprints the shards recorded (one per partial).
    Merged(Vec<super::merge::SweepJob>, String, Vec<String>),
}

/// Where a sweep's jobs get their replicas' traces.
enum Source {
    /// Each replica's trace, held (`replicas::trace_of` maps a replica to its trace).
    Held {
        traces: Vec<Trace>,
        bootstrap: Option<BlockBootstrap>,
        /// The parsed counts of an Azure 2019 trace (its fingerprint is theirs).
        parsed: Option<azure2019::Parsed>,
    },
    /// An Azure 2019 trace's parsed counts: each job expands its replica's arrivals as it
    /// replays them.
    Streamed {
        parsed: azure2019::Parsed,
        facts: Facts,
        triggers: Vec<Option<faasplan::trace::Trigger>>,
    },
}

impl Source {
    /// What the outputs need of replica `r`'s trace.
    fn facts(&self, r: usize) -> &dyn TraceFacts {
        match self {
            Source::Held { traces, .. } => replicas::trace_of(traces, r),
            Source::Streamed { facts, .. } => facts,
        }
    }

    fn bootstrap(&self) -> Option<BlockBootstrap> {
        match self {
            Source::Held { bootstrap, .. } => *bootstrap,
            Source::Streamed { .. } => None,
        }
    }

    /// Replica `r`'s run, on one thread (coupled: the workers run many at once).
    fn simulate(&self, r: usize, cfg: &ValidConfig, seed: u64) -> Outcome {
        match self {
            Source::Held { traces, .. } => {
                simulate_with(replicas::trace_of(traces, r), cfg, ONE_THREAD)
            }
            Source::Streamed {
                parsed,
                facts,
                triggers,
            } => faasplan::engine::simulate_stream(
                || {
                    parsed
                        .stream(replica_seed(seed, r), cfg.horizon)
                        .with_triggers(triggers.clone())
                },
                facts,
                cfg,
                Some(faasplan::outcome::Mode::Coupled),
            ),
        }
    }

    /// The fingerprint a shard's partial records: an Azure 2019 trace's parsed counts', else
    /// replica 0's rows'.
    fn fingerprint(&self, seed: u64) -> u64 {
        match self {
            Source::Held {
                parsed: Some(p), ..
            }
            | Source::Streamed { parsed: p, .. } => p.fingerprint_of(seed, |_| true),
            Source::Held { traces, .. } => replicas::trace_of(traces, 0).fingerprint(),
        }
    }
}

pub(super) fn run_jobs(a: &SweepArgs, jobs: Jobs) -> anyhow::Result<ExitCode> {
    let pool = thread_pool(a.threads)?;
    if let Some(p) = &a.partial {
        super::refuse_output_over_input("--partial", p, &a.run.input_paths())?;
    }
    // Checked before the run: an existing report without --force fails fast.
    let report_to = a.report.target("sweep", &a.run.trace_path())?;
    let offerings = a.run.offering.load()?;
    let [offering] = offerings.as_slice() else {
        return Err(
            ConfigError::invalid("--offering", "sweep takes exactly one --offering").into(),
        );
    };
    if a.replicas == 0 || a.replicas > 10_000 {
        return Err(ConfigError::invalid("--replicas", "must be between 1 and 10,000").into());
    }
    let slos: Vec<Slo> = a
        .slo
        .iter()
        .map(|s| Slo::parse(s))
        .collect::<Result<_, _>>()
        .map_err(super::platform::flag_error)?;
    let block = a.resample;
    let points = grid(&a.run.platform)?;
    // Validate every point before running any.
    let base = a.run.platform.overrides_with(None, None, None)?;
    let configs: Vec<PlatformConfig> = points
        .iter()
        .map(|p| faasplan::plan::platform_config(&p.apply(&base), Some(offering)))
        .collect::<Result<_, _>>()
        .map_err(super::platform::flag_error)?;
    let settings_fp = faasplan::partial::settings_fingerprint(&(&configs, offering));

    // Load once; a per-minute trace (Azure 2019) expands arrivals with the seed, and a workload
    // spec generates them with it, so each replica gets its own. With --resample each replica is then a block bootstrap of its
    // trace.
    let name = a.run.name();
    let mut input = a.run.open()?;
    let format = format::resolve(&mut input, a.run.trace_args.format())?;
    let per_replica = format.reader().synthesises();
    // An Azure 2019 trace is parsed once and expanded with each replica's seed; a workload spec
    // is read again per replica (generating is its cost, not reading).
    let parse_once = format == TraceFormat::AZURE2019;
    if per_replica && !parse_once && a.replicas > 1 && input.regular_len().is_none() {
        return Err(faasplan::error::TraceError::Invalid {
            path: input.path().to_path_buf(),
            reason: format!(
                "a sweep reads a workload spec once per replica (each replica draws its own \
                 arrivals with its seed), and this input is a pipe that can be read only once: \
                 give it as a file, or use --replicas 1 (here {})",
                a.replicas
            ),
        }
        .into());
    }
    let seed = a.run.platform.seed;
    // An Azure 2019 trace's replicas stream: each job expands its replica's arrivals minute by
    // minute as it replays them (issue 16), unless --read-first or --resample (a bootstrap
    // resamples a held trace) holds them.
    let streams = parse_once && !a.read_first && block.is_none();
    let (source, rows_have_memory) = if streams {
        let (parsed, facts, _) = super::merge::parse_azure2019(&a.run, input)?;
        let triggers = a.run.triggers_of(&facts)?;
        let rows_have_memory = facts.row_memory_sizes.iter().any(|&m| m != 0);
        let source = Source::Streamed {
            parsed,
            facts,
            triggers,
        };
        (source, rows_have_memory)
    } else {
        // Replica 0's trace is read with the run seed itself (`replica_seed(seed, 0) == seed`).
        let (first, parsed) = if parse_once {
            let parsed = format::parse_azure2019(input, &a.run.trace_args.load_options(seed))?;
            let (mut first, load) = parsed.load(seed)?;
            super::trace_args::print_report(&name, &load.rows, Some(&load));
            a.run.set_triggers(&mut first)?;
            (first, Some(parsed))
        } else {
            (a.run.load_input(input, seed, true)?.0, None)
        };
        // The trace's own rows (a bootstrap sample may drop those that carry a size).
        let rows_have_memory = first.invocations().iter().any(|i| i.memory_mb != 0);
        let bootstrap = block
            .map(|b| BlockBootstrap::new(&first, b))
            .transpose()
            .map_err(|e| ConfigError::invalid("--resample", format!("{name}: {e}")))?;
        let mut read = |replica_seed: u64| -> anyhow::Result<Trace> {
            Ok(match &parsed {
                Some(p) => {
                    let mut t = p.load(replica_seed)?.0;
                    a.run.set_triggers(&mut t)?;
                    t
                }
                None => a.run.load(replica_seed, false)?.0,
            })
        };
        let traces = replica_traces(
            first,
            a.replicas,
            seed,
            bootstrap,
            per_replica.then_some(&mut read as &mut dyn FnMut(u64) -> anyhow::Result<Trace>),
        )?;
        let source = Source::Held {
            traces,
            bootstrap,
            parsed,
        };
        (source, rows_have_memory)
    };
    let facts = source.facts(0);
    let resample = source.bootstrap().map(|bs| ResampleInfo {
        method: "block bootstrap",
        block_s: us_to_s(bs.block()),
        blocks: bs.blocks(),
        partial_block_s: us_to_s(bs.partial().unwrap_or(0)),
    });
    if resample.is_none() && !per_replica && a.replicas > 1 && !a.quiet {
        eprintln!(
            "note: replicas replay the same trace and differ only in init-time draws, so the ± is \
             the confidence interval of their mean, not the uncertainty of the traffic; \
             --resample block:1d (or block:1h) resamples the trace's own periods"
        );
    }
    // Every replica's trace has replica 0's functions (an expansion or a resample of it).
    let configs: Vec<ValidConfig> = configs
        .iter()
        .map(|c| c.validate_for(facts))
        .collect::<Result<_, _>>()
        .map_err(super::platform::flag_error)?;
    let plain: Vec<&PlatformConfig> = configs.iter().map(|c| &**c).collect();
    faasplan::engine::check_cpu_reference(&plain, facts).map_err(super::platform::flag_error)?;
    let memory_swept = points.iter().any(|p| p.memory_mb.is_some());
    let mut notes = vec![
        configs
            .first()
            .map_or_else(String::new, |c| c.cpu_note(facts)),
    ];
    if memory_swept {
        notes.push(memory_note(rows_have_memory));
    }
    notes.retain(|n| !n.is_empty());
    if !a.quiet {
        for n in &notes {
            eprintln!("note: {n}");
        }
    }

    let total = (points.len() * a.replicas) as u64;
    let bar = super::progress::bar(total, a.quiet);
    let bill_opts = |cfg: &PlatformConfig| a.run.offering.bill_options(cfg);
    let interval = if resample.is_some() {
        Interval::Prediction
    } else {
        Interval::Mean
    };
    let settings: Vec<Vec<(String, f64)>> = points.iter().map(GridPoint::settings).collect();
    let origins = super::origin::origins(&a.run.platform, Some(offering));
    let mut run_warnings = SweepWarnings::new(&settings, offering);
    for c in &configs {
        cost::check_recorded(&c.usage, offering)?;
    }
    let eval = |p: usize, r: usize| {
        let cfg = configs[p].with_seed(replica_seed(seed, r));
        let trace = source.facts(r);
        let outcome = source.simulate(r, &cfg, seed);
        let info = super::simulate::run_info(&name, trace, &Default::default(), &cfg, &outcome);
        let mut summary = Summary::new(&outcome, info);
        summary.cpu = cfg.cpu_use(&outcome, trace);
        let bill = bill_run(&outcome, offering, &bill_opts(&cfg), &settings[p], r)?;
        summary.cost = Some(bill);
        let ws = faasplan::warnings::for_run(&faasplan::warnings::RunFacts {
            outcome: &outcome,
            cfg: &cfg,
            origins: &origins,
        });
        let sizes: Vec<u16> = outcome.totals.usage.iter().map(|u| u.memory_mb).collect();
        bar.inc(1);
        let mut metrics = sweep::metric::summary_metrics(&summary);
        if memory_swept {
            metrics.push((
                sweep::memory::COST_PER_INVOCATION.to_string(),
                cost_per_invocation(&summary),
            ));
        }
        Ok::<_, anyhow::Error>((metrics, (ws, sizes)))
    };
    let grid_results = match jobs {
        Jobs::Run => match (a.shard, &a.partial) {
            (Some(shard), Some(partial)) => {
                bar.set_length((0..total as usize).filter(|&j| shard.holds_job(j)).count() as u64);
                let done =
                    pool.install(|| sweep::run_shard(settings.len(), a.replicas, shard, eval));
                bar.finish_and_clear();
                let fingerprint = source.fingerprint(seed);
                return super::merge::write_sweep_partial(
                    shard,
                    partial,
                    fingerprint,
                    settings_fp,
                    done?,
                );
            }
            _ => pool.install(|| {
                sweep::run_with(
                    &settings,
                    a.replicas,
                    interval,
                    eval,
                    |p, _, (ws, sizes)| run_warnings.add(p, &ws, &sizes),
                )
            }),
        },
        Jobs::Merged(jobs, fingerprint, theirs) => {
            super::merge::check_fingerprint(&name, source.fingerprint(seed), &fingerprint)?;
            let here = format!("{settings_fp:016x}");
            if theirs.iter().any(|s| *s != here) {
                anyhow::bail!(
                    "the partials were made with other settings than their arguments give here: \
                     a file they name (an offering, an init-time or Power Tuning file) differs; \
                     merge where the shards ran, with the same files"
                );
            }
            let values = super::merge::sweep_jobs_in_order(jobs, settings.len(), a.replicas)?;
            for (v, (ws, sizes)) in &values {
                run_warnings.add(v.point as usize, ws, sizes);
            }
            let values: Vec<sweep::JobValues> = values.into_iter().map(|(v, _)| v).collect();
            Ok(sweep::assemble(&settings, a.replicas, interval, &values))
        }
    };
    bar.finish_and_clear();
    let mut grid_results = grid_results?;
    for (r, p) in grid_results.iter_mut().zip(&points) {
        r.keep_alive_policy = p.keep_alive_policy.map(|c| c.label());
    }

    // An SLO on a metric the summary does not have is a typo, not an unmet objective.
    if let Some(first) = grid_results.first() {
        for s in &slos {
            if first.metric(&s.column).is_none() {
                let known: Vec<&str> = first.metrics.iter().map(|(c, _)| c.as_str()).collect();
                return Err(ConfigError::invalid(
                    "--slo",
                    format!(
                        "{:?}: no metric {:?}; use {}; the summary columns are: {}",
                        s.text,
                        s.column,
                        sweep::slo_short_names(),
                        known.join(", ")
                    ),
                )
                .into());
            }
        }
    }
    let recommended = if slos.is_empty() {
        None
    } else {
        sweep::cheapest_meeting(&grid_results, &slos, Metric::CostMonthly.column())
    };
    let warnings = run_warnings.finish(a.run.platform.cpu_profile());
    faasplan::warnings::to_stderr(&warnings);
    let mut warnings = warnings;
    if !slos.is_empty() && recommended.is_none() {
        // On stderr below, with the exit code.
        let texts: Vec<String> = slos.iter().map(|s| s.text.clone()).collect();
        warnings
            .push(faasplan::warnings::misses_slo("every grid point", &texts, "--slo").to_string());
    }
    let result = SweepResult {
        warnings,
        trace: name,
        offering: offering.meta.name.clone(),
        replicas: a.replicas,
        seed,
        resample,
        interval,
        pareto_cost_p99: sweep::pareto(
            &grid_results,
            Metric::CostMonthly.column(),
            Metric::LatencyP99.column(),
        ),
        pareto_cost_cold_start_ratio: sweep::pareto(
            &grid_results,
            Metric::CostMonthly.column(),
            Metric::ColdStartRatio.column(),
        ),
        memory: if memory_swept {
            sweep::memory::MemoryView::of(&grid_results, recommended)
        } else {
            None
        },
        notes,
        slos,
        grid: grid_results,
        recommended,
    };

    if let Some(t) = &report_to {
        let page = faasplan::report::sweep::SweepPage::from(&result);
        report_args::announce(&faasplan::report::sweep::write(&page, t)?);
    }
    to_stdout(|w| a.format.write(&result, w))?;

    if !result.slos.is_empty() && result.recommended.is_none() {
        eprintln!(
            "no grid point meets every SLO on its 95 % interval's upper bound: {}",
            result
                .slos
                .iter()
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use faasplan::engine::simulate;
    use faasplan::offering::Offering;
    use faasplan::outcome::UsageSpec;
    use faasplan::trace::{TraceBuilder, Trigger};

    /// `sweep` used to drop a bill's error (`.ok()`) and print the point without a cost.
    #[test]
    fn a_run_the_sheet_cannot_bill_stops_the_sweep_naming_the_point() {
        let offering = Offering::resolve("aws-lambda-x86").unwrap();
        let mut b = TraceBuilder::new();
        let f = b.function_id("f");
        b.push(0, f, 20_000, 128, Trigger::Sync);
        let trace = b.finish();
        let mut cfg =
            faasplan::plan::platform_config(&Default::default(), Some(&offering)).unwrap();
        // A run that records no rounding, billed on a sheet that rounds to 1 ms.
        cfg.usage = UsageSpec::default();
        let outcome = simulate(&trace, &cfg.validate_for(&trace).unwrap());
        let settings = [("provisioned".to_string(), 2.0)];
        let opts = super::cost::BillOptions::default();
        let e = super::bill_run(&outcome, &offering, &opts, &settings, 3)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("at provisioned=2, replica 3: cannot bill the run on aws-lambda-x86")
                && e.contains("1ms"),
            "{e}"
        );
        // The sheet's own spec bills.
        cfg.usage = offering.usage_spec();
        let outcome = simulate(&trace, &cfg.validate_for(&trace).unwrap());
        assert!(super::bill_run(&outcome, &offering, &opts, &settings, 3).is_ok());
    }
}
