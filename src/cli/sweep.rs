//! `faasplan sweep`: the grid of provisioned concurrency (× memory × keep-alive), each point run
//! R times with different seeds, every metric as mean and 95 % CI, the cheapest point whose CI
//! upper bound meets every `--slo`, and the Pareto fronts of cost against p99 and cold starts.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::report_args::{self, ReportArgs};
use super::{
    Format, PlatformArgs, RunArgs, platform_config_for, thread_pool, to_stdout, write_json,
};
use crate::cost;
use crate::engine::{PlatformConfig, RunOptions, simulate_with};
use crate::error::ConfigError;
use crate::export::summary::Summary;
use crate::sweep::{self, Interval, PointResult, Slo};
use crate::time::{MINUTE, parse_duration, us_to_s};
use crate::trace::Trace;
use crate::trace::format::{self, TraceFormat};
use crate::trace::resample::BlockBootstrap;

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

    #[arg(long, value_name = "block:DURATION", help = RESAMPLE_HELP, long_help = RESAMPLE_LONG_HELP)]
    pub resample: Option<String>,

    #[arg(long, value_name = "METRIC<=VALUE", help = slo_help())]
    pub slo: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Worker threads (default: all cores). The output does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub report: ReportArgs,

    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
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

/// The label of a grid point with no swept setting.
const AS_CONFIGURED: &str = "as configured";

/// How replicas are resampled, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ResampleInfo {
    pub method: &'static str,
    /// Seconds.
    pub block_s: f64,
    /// Blocks in the trace, a partial last one included.
    pub blocks: u64,
    /// The partial last block's length, seconds (0: the trace is whole blocks).
    pub partial_block_s: f64,
}

/// The sweep's result, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct SweepResult {
    pub trace: String,
    pub offering: String,
    pub replicas: usize,
    pub seed: u64,
    /// `None`: every replica replays the trace as read.
    pub resample: Option<ResampleInfo>,
    /// What each metric's `ci_low`..`ci_high` is: `mean` (95 % CI of the mean over replicas) or
    /// `prediction` (95 % prediction interval of one more replica, with `--resample`).
    pub interval: Interval,
    pub slos: Vec<Slo>,
    pub grid: Vec<PointResult>,
    /// Index into `grid` of the cheapest point meeting every SLO (`None`: none does, or no SLO).
    pub recommended: Option<usize>,
    /// Pareto fronts (indices into `grid`, by increasing cost).
    pub pareto_cost_p99: Vec<usize>,
    pub pareto_cost_cold_start_ratio: Vec<usize>,
    /// What to know before acting on the grid, each naming the flag that changes it.
    pub warnings: Vec<String>,
}

/// The columns the table shows, with their labels.
const TABLE_METRICS: &[(&str, &str)] = &[
    ("cost_monthly_usd", "monthly $"),
    ("cold_start_ratio", "cold %"),
    ("latency_ms_p99", "p99 ms"),
    ("throttle_ratio", "throttled %"),
    ("instance_seconds_provisioned_idle", "PC idle s"),
];

/// The seed replica `r` runs with (replica 0: the run seed, as `simulate` would use it).
fn replica_seed(seed: u64, r: usize) -> u64 {
    crate::seed::replica_seed(seed, r as u64)
}

/// `block:DURATION` → the block length, microseconds. The bounds that depend on the trace are
/// checked by [`BlockBootstrap::new`].
fn parse_resample(s: &str) -> Result<u64, ConfigError> {
    let bad = |why: &str| {
        ConfigError::invalid(
            "--resample",
            format!("{s:?}: {why} (e.g. block:1h or block:1d)"),
        )
    };
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

/// One grid point's settings as flags, applied over the user's fixed flags.
#[derive(Debug, Clone)]
struct GridPoint {
    provisioned: Option<u32>,
    memory_mb: Option<u16>,
    keep_alive_s: Option<f64>,
}

impl GridPoint {
    fn settings(&self) -> Vec<(String, f64)> {
        let mut s = Vec::new();
        if let Some(p) = self.provisioned {
            s.push(("provisioned".to_string(), f64::from(p)));
        }
        if let Some(m) = self.memory_mb {
            s.push(("memory_mb".to_string(), f64::from(m)));
        }
        if let Some(k) = self.keep_alive_s {
            s.push(("keep_alive_s".to_string(), k));
        }
        s
    }

    fn apply(&self, base: &PlatformArgs) -> PlatformArgs {
        let mut a = base.clone();
        if let Some(p) = self.provisioned {
            a.provisioned = Some(p.to_string());
        }
        if let Some(m) = self.memory_mb {
            a.memory_mb = Some(m.to_string());
        }
        if let Some(k) = self.keep_alive_s {
            a.keep_alive = Some(k.to_string());
        }
        a
    }
}

fn grid(a: &PlatformArgs) -> Result<Vec<GridPoint>, ConfigError> {
    let provisioned: Vec<Option<u32>> = match &a.provisioned {
        Some(s) => sweep::parse_u32_list("--provisioned", s)?
            .into_iter()
            .map(Some)
            .collect(),
        None => vec![None],
    };
    let memory: Vec<Option<u16>> = match &a.memory_mb {
        Some(s) => sweep::parse_u32_list("--memory-mb", s)?
            .into_iter()
            .map(|m| {
                u16::try_from(m)
                    .ok()
                    .filter(|&m| m > 0)
                    .map(Some)
                    .ok_or_else(|| {
                        ConfigError::invalid("--memory-mb", format!("{m}: must be 1..=65535"))
                    })
            })
            .collect::<Result<_, _>>()?,
        None => vec![None],
    };
    let keep_alive: Vec<Option<f64>> = match &a.keep_alive {
        Some(s) => {
            // Durations with units (5m,10m) or seconds; the axis is labelled in seconds.
            let mut secs: Vec<f64> = Vec::new();
            for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let us = super::duration_flag("--keep-alive", part)?;
                secs.push(us as f64 / 1e6);
            }
            if secs.is_empty() {
                return Err(ConfigError::invalid(
                    "--keep-alive",
                    format!("{s:?}: no values"),
                ));
            }
            secs.sort_by(f64::total_cmp);
            secs.dedup();
            secs.into_iter().map(Some).collect()
        }
        None => vec![None],
    };
    let mut points = Vec::new();
    for &p in &provisioned {
        for &m in &memory {
            for &k in &keep_alive {
                points.push(GridPoint {
                    provisioned: p,
                    memory_mb: m,
                    keep_alive_s: k,
                });
            }
        }
    }
    if points.len() > 100_000 {
        return Err(ConfigError::invalid(
            "--provisioned",
            "more than 100,000 grid points",
        ));
    }
    Ok(points)
}

/// One run's (point, replica, warnings, memory sizes used in MB).
type PointWarnings = (usize, usize, Vec<crate::warnings::Warning>, Vec<u16>);

/// The grid's warnings: each run source once (in grid order, whatever the thread count), and
/// durations held constant across a memory axis.
fn sweep_warnings(
    mut runs: Vec<PointWarnings>,
    settings: &[Vec<(String, f64)>],
    offering: &crate::offering::Offering,
    cpu_profile: bool,
) -> Vec<String> {
    runs.sort_by_key(|(p, r, _, _)| (*p, *r));
    let label = |p: usize| {
        let s: Vec<String> = settings[p]
            .iter()
            .map(|(n, v)| format!("{n}={}", crate::report::fmt::plain(*v)))
            .collect();
        if s.is_empty() {
            "the grid point".to_string()
        } else {
            s.join(",")
        }
    };
    // The memory sizes each run used (the trace's own memory_mb wins over the axis).
    let sizes: Vec<(String, Vec<(u16, f64)>)> = runs
        .iter()
        .map(|(p, _, _, mbs)| {
            (
                label(*p),
                mbs.iter().map(|&mb| (mb, offering.vcpu(mb))).collect(),
            )
        })
        .collect();
    let labelled: Vec<(String, Vec<crate::warnings::Warning>)> = runs
        .into_iter()
        .map(|(p, _, ws, _)| (label(p), ws))
        .collect();
    let mut out = crate::warnings::across(&labelled);
    if !cpu_profile {
        out.extend(crate::warnings::durations_held_constant(&sizes).map(|w| w.to_string()));
    }
    out
}

/// The numeric summary columns of one run (the `run_*` echo of the options left out).
fn metrics(summary: &Summary) -> Vec<(String, f64)> {
    crate::export::csv::columns(summary)
        .into_iter()
        .filter(|(c, _)| !c.starts_with("run_"))
        .filter_map(|(c, v)| v.parse::<f64>().ok().map(|v| (c, v)))
        .collect()
}

pub fn run(a: &SweepArgs) -> anyhow::Result<ExitCode> {
    let pool = thread_pool(a.threads)?;
    // Checked before the run: an existing report without --force fails fast.
    let report_to = a.report.target("sweep", &a.run.trace)?;
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
        .collect::<Result<_, _>>()?;
    let block = a.resample.as_deref().map(parse_resample).transpose()?;
    let points = grid(&a.run.platform)?;
    // Validate every point before running any.
    let configs: Vec<PlatformConfig> = points
        .iter()
        .map(|p| platform_config_for(&p.apply(&a.run.platform), Some(offering)))
        .collect::<Result<_, _>>()?;

    // Load once; a per-minute trace (Azure 2019) expands arrivals with the seed, so each replica
    // gets its own expansion. With --resample each replica is then a block bootstrap of its
    // trace.
    let name = a.run.name();
    let per_replica =
        format::resolve(&a.run.trace, a.run.trace_args.format())? == TraceFormat::AZURE2019;
    let seed = a.run.platform.seed;
    // Replica 0's trace is read with the run seed itself (`replica_seed(seed, 0) == seed`).
    let first = a.run.load(seed, true)?.0;
    let functions = first.functions().len();
    let rows_have_memory = first.invocations().iter().any(|i| i.memory_mb != 0);
    let bootstrap = block
        .map(|b| BlockBootstrap::new(&first, b))
        .transpose()
        .map_err(|e| ConfigError::invalid("--resample", format!("{name}: {e}")))?;
    let traces: Vec<Trace> = match (per_replica, bootstrap) {
        (false, None) => vec![first],
        (false, Some(bs)) => (0..a.replicas)
            .map(|r| bs.resample(&first, seed, r as u64))
            .collect(),
        (true, _) => {
            // One expansion at a time, resampled before the next is read.
            let mut out = Vec::with_capacity(a.replicas);
            let mut first = Some(first);
            for r in 0..a.replicas {
                let base = match first.take() {
                    Some(t) => t,
                    None => a.run.load(replica_seed(seed, r), false)?.0,
                };
                out.push(match bootstrap {
                    // An expansion may end a minute earlier or later than replica 0's.
                    Some(bs) => BlockBootstrap::new(&base, bs.block())
                        .unwrap_or(bs)
                        .resample(&base, seed, r as u64),
                    None => base,
                });
            }
            out
        }
    };
    let resample = bootstrap.map(|bs| ResampleInfo {
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
    let trace_of = |r: usize| &traces[if traces.len() > 1 { r } else { 0 }];
    for c in &configs {
        c.validate(functions)?;
    }
    if points.iter().any(|p| p.memory_mb.is_some()) && rows_have_memory {
        eprintln!(
            "note: {name}: rows carry memory_mb, which wins over --memory-mb; the memory axis only \
             sizes rows without one. Durations do not scale with memory in either case."
        );
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
    let run_warnings = std::sync::Mutex::new(Vec::new());
    let grid_results = pool.install(|| {
        sweep::run(&settings, a.replicas, interval, |p, r| {
            let mut cfg = configs[p].clone();
            cfg.seed = replica_seed(seed, r);
            let trace = trace_of(r);
            let outcome = simulate_with(trace, &cfg, ONE_THREAD);
            let info = super::simulate::run_info(&name, trace, &Default::default(), &cfg, &outcome);
            let mut summary = Summary::new(&outcome, info);
            summary.cost = Some(cost::bill(&outcome, offering, &bill_opts(&cfg)));
            let ws = crate::warnings::for_run(&crate::warnings::RunFacts {
                outcome: &outcome,
                cfg: &cfg,
                origins: &origins,
            });
            let sizes: Vec<u16> = outcome.totals.usage.iter().map(|u| u.memory_mb).collect();
            if let Ok(mut v) = run_warnings.lock() {
                v.push((p, r, ws, sizes));
            }
            bar.inc(1);
            metrics(&summary)
        })
    });
    bar.finish_and_clear();

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
                        sweep::SLO_METRICS
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", "),
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
        sweep::cheapest_meeting(&grid_results, &slos, "cost_monthly_usd")
    };
    let warnings = sweep_warnings(
        run_warnings.into_inner().unwrap_or_default(),
        &settings,
        offering,
        a.run.platform.cpu_bound.is_some(),
    );
    crate::warnings::to_stderr(&warnings);
    let mut warnings = warnings;
    if !slos.is_empty() && recommended.is_none() {
        // On stderr below, with the exit code.
        let texts: Vec<String> = slos.iter().map(|s| s.text.clone()).collect();
        warnings.push(crate::warnings::misses_slo("every grid point", &texts, "--slo").to_string());
    }
    let result = SweepResult {
        warnings,
        trace: name,
        offering: offering.meta.name.clone(),
        replicas: a.replicas,
        seed,
        resample,
        interval,
        pareto_cost_p99: sweep::pareto(&grid_results, "cost_monthly_usd", "latency_ms_p99"),
        pareto_cost_cold_start_ratio: sweep::pareto(
            &grid_results,
            "cost_monthly_usd",
            "cold_start_ratio",
        ),
        slos,
        grid: grid_results,
        recommended,
    };

    if let Some(t) = &report_to {
        let page = crate::report::sweep::SweepPage::from(&result);
        report_args::announce(&crate::report::sweep::write(&page, t)?);
    }
    to_stdout(|w| match a.format {
        Format::Table => write_table(w, &result),
        Format::Json => write_json(w, &result),
        Format::Csv => write_csv(w, &result),
    })?;

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

/// A metric's mean, with its ± half-width when `with_ci` (every cell of a table shows one, or
/// none does).
fn fmt_estimate(column: &str, e: Option<&sweep::Estimate>, with_ci: bool) -> String {
    let Some(e) = e else {
        return "-".to_string();
    };
    let pct = column.ends_with("_ratio");
    let k = if pct { 100.0 } else { 1.0 };
    let digits = if pct { 3 } else { 1 };
    if with_ci {
        format!("{:.*} ±{:.*}", digits, e.mean * k, digits, e.half_width * k)
    } else {
        format!("{:.*}", digits, e.mean * k)
    }
}

/// A grid point's settings as `name = value`, or "as configured" when nothing is swept.
fn point_label(p: &PointResult) -> String {
    if p.settings.is_empty() {
        return AS_CONFIGURED.to_string();
    }
    p.settings
        .iter()
        .map(|(n, v)| format!("{n} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_table(w: &mut dyn Write, r: &SweepResult) -> std::io::Result<()> {
    let with_ci = r.replicas > 1;
    let what = match (&r.resample, with_ci) {
        (_, false) => "one replica, no interval".to_string(),
        (None, true) => "mean ± 95 % CI half-width of the mean".to_string(),
        (Some(b), true) => format!(
            "replicas resample the trace in {} blocks of {} s; mean ± 95 % range of one resampled \
             period (prediction interval)",
            b.blocks, b.block_s
        ),
    };
    writeln!(
        w,
        "trace {} on {}: {} grid points x {} replicas (seed {}); {what}",
        r.trace,
        r.offering,
        r.grid.len(),
        r.replicas,
        r.seed
    )?;
    writeln!(w)?;
    let no_axis = r.grid.iter().all(|p| p.settings.is_empty());
    let setting_names: Vec<String> = if no_axis {
        vec!["point".to_string()]
    } else {
        r.grid
            .first()
            .map(|p| p.settings.iter().map(|(n, _)| n.clone()).collect())
            .unwrap_or_default()
    };
    let mut header: Vec<String> = setting_names.clone();
    header.extend(TABLE_METRICS.iter().map(|(_, l)| l.to_string()));
    header.push(String::new());
    let rows: Vec<Vec<String>> = r
        .grid
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut row: Vec<String> = if no_axis {
                vec![AS_CONFIGURED.to_string()]
            } else {
                p.settings.iter().map(|(_, v)| format!("{v}")).collect()
            };
            row.extend(
                TABLE_METRICS
                    .iter()
                    .map(|(c, _)| fmt_estimate(c, p.metric(c), with_ci)),
            );
            let mut mark = Vec::new();
            if r.recommended == Some(i) {
                mark.push("<- recommended");
            }
            if r.pareto_cost_p99.contains(&i) {
                mark.push("pareto(p99)");
            }
            if r.pareto_cost_cold_start_ratio.contains(&i) {
                mark.push("pareto(cold)");
            }
            row.push(mark.join(" "));
            row
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|row| row[c].chars().count())
                .chain(std::iter::once(header[c].chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |w: &mut dyn Write, cells: &[String]| -> std::io::Result<()> {
        let text: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &wd))| {
                if i + 1 == cells.len() {
                    c.clone()
                } else {
                    format!("{c:>wd$}")
                }
            })
            .collect();
        writeln!(w, "{}", text.join("  ").trim_end())
    };
    line(w, &header)?;
    for row in &rows {
        line(w, row)?;
    }
    writeln!(w)?;
    match (r.slos.is_empty(), r.recommended) {
        (true, _) => writeln!(w, "no --slo given: no recommendation")?,
        (false, Some(i)) => {
            let p = &r.grid[i];
            writeln!(
                w,
                "recommended: {} (monthly ${}), the cheapest meeting {}",
                point_label(p),
                fmt_estimate("cost_monthly_usd", p.metric("cost_monthly_usd"), with_ci),
                r.slos
                    .iter()
                    .map(|s| s.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" and ")
            )?;
        }
        (false, None) => writeln!(w, "no grid point meets every SLO")?,
    }
    crate::warnings::write_block(w, &r.warnings)
}

fn write_csv(w: &mut dyn Write, r: &SweepResult) -> std::io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    for (i, p) in r.grid.iter().enumerate() {
        if i == 0 {
            let mut header: Vec<String> = p.settings.iter().map(|(n, _)| n.clone()).collect();
            header.push("replicas".into());
            for (c, _) in &p.metrics {
                header.push(format!("{c}_mean"));
                header.push(format!("{c}_ci_low"));
                header.push(format!("{c}_ci_high"));
            }
            header.extend(
                [
                    "recommended",
                    "pareto_cost_p99",
                    "pareto_cost_cold_start_ratio",
                ]
                .map(String::from),
            );
            out.write_record(&header)?;
        }
        let mut row: Vec<String> = p.settings.iter().map(|(_, v)| v.to_string()).collect();
        row.push(p.replicas.to_string());
        for (_, e) in &p.metrics {
            row.push(e.mean.to_string());
            row.push(e.ci_low.to_string());
            row.push(e.ci_high.to_string());
        }
        row.push((r.recommended == Some(i)).to_string());
        row.push(r.pareto_cost_p99.contains(&i).to_string());
        row.push(r.pareto_cost_cold_start_ratio.contains(&i).to_string());
        out.write_record(&row)?;
    }
    out.flush()
}
