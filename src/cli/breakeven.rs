//! `faasplan breakeven`: scales the trace's traffic by factors k (log-spaced), runs a FaaS
//! offering and a server fleet at each, and reports where their monthly costs cross.

use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;

use super::fleet::{FleetArgs, run_fleet};
use super::report_args::{self, ReportArgs};
use super::{Format, RunArgs, platform_config_for, thread_pool, to_stdout};
use faasplan::cost;
use faasplan::engine::{RunOptions, simulate_with};
use faasplan::error::ConfigError;
use faasplan::export::summary::Summary;
pub use faasplan::plan::breakeven::{Breakeven, Point};
use faasplan::plan::breakeven::{cheaper, crossing, factors, infeasible_ranges, k_range, verdict};
use faasplan::trace::scale;

/// Each simulation runs on one worker; the workers run many at once.
const ONE_THREAD: RunOptions = RunOptions {
    force: None,
    single_thread: true,
};

#[derive(Debug, Args)]
pub struct BreakevenArgs {
    #[command(flatten)]
    pub run: RunArgs,

    #[command(flatten)]
    pub fleet: FleetArgs,

    /// Smallest traffic factor.
    #[arg(long, default_value_t = 0.1, value_name = "K")]
    pub min_factor: f64,

    /// Largest traffic factor. The scaled trace may hold at most 100 M invocations (K × the
    /// trace's rows), checked before anything is scaled.
    #[arg(long, default_value_t = 100.0, value_name = "K")]
    pub max_factor: f64,

    /// Factors, log-spaced from --min-factor to --max-factor.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub points: usize,

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
}

/// One factor's point, the FaaS run's warnings and its metrics (for `--slo`).
struct FactorRun {
    point: Point,
    warnings: Vec<faasplan::warnings::Warning>,
    metrics: Vec<(String, f64)>,
}

/// Runs the sweep over `ks`.
pub fn run(a: &BreakevenArgs) -> anyhow::Result<ExitCode> {
    let pool = thread_pool(a.threads)?;
    // Checked before the run: an existing report without --force fails fast.
    let report_to = a.report.target("breakeven", &a.run.trace_path())?;
    let offerings = a.run.offering.load()?;
    let [offering] = offerings.as_slice() else {
        return Err(
            ConfigError::invalid("--offering", "breakeven takes exactly one --offering").into(),
        );
    };
    if a.fleet.fleets.len() != 1 {
        return Err(ConfigError::invalid("--fleet", "breakeven takes exactly one --fleet").into());
    }
    if !(a.min_factor > 0.0 && a.max_factor >= a.min_factor && a.max_factor.is_finite()) {
        return Err(
            ConfigError::invalid("--min-factor", "need 0 < --min-factor <= --max-factor").into(),
        );
    }
    if a.points == 0 || a.points > 200 {
        return Err(ConfigError::invalid("--points", "must be between 1 and 200").into());
    }
    let name = a.run.name();
    let (trace, _load) = a.run.load(a.run.platform.seed, true)?;
    let largest = a.max_factor * trace.len() as f64;
    if largest > faasplan::trace::scale::MAX_SCALED_ROWS as f64 {
        return Err(ConfigError::invalid(
            "--max-factor",
            format!(
                "{}: scaling the trace's {} invocations by it would make about {:.3e}, more than \
                 the {} a breakeven point may hold; use at most --max-factor {}",
                a.max_factor,
                trace.len(),
                largest,
                faasplan::trace::scale::MAX_SCALED_ROWS,
                (faasplan::trace::scale::MAX_SCALED_ROWS as f64 / trace.len().max(1) as f64)
                    .floor()
            ),
        )
        .into());
    }
    let cfg = platform_config_for(&a.run.platform, Some(offering))
        .with_context(|| format!("offering {}", offering.meta.name))?;
    // Scaling draws more or fewer rows of the same functions: one check holds for every factor.
    let valid = super::validate_for(&cfg, &trace)?;
    let mut spec = a.fleet.parse(&a.fleet.fleets[0], &cfg, &trace)?;
    super::fleet::size_lb(std::slice::from_mut(&mut spec), &a.run.offering);
    let bill_opts = a.run.offering.bill_options(&cfg);
    let ks = factors(a.min_factor, a.max_factor, a.points);
    let slo = a.fleet.slo()?;
    let origins = super::origin::origins(&a.run.platform, Some(offering));
    let seed = cfg.seed;
    let bar = super::progress::bar(ks.len() as u64, a.quiet);
    let runs: Vec<FactorRun> = pool.install(|| -> Result<Vec<FactorRun>, cost::CostError> {
        ks.par_iter()
            .enumerate()
            .map(|(i, &k)| {
                let scaled = scale::scale(&trace, k, seed, i as u32);
                let outcome = simulate_with(&scaled, &valid, ONE_THREAD);
                let bill = cost::bill(&outcome, offering, &bill_opts)?;
                let mut summary = Summary::new(
                    &outcome,
                    super::simulate::run_info(&name, &scaled, &Default::default(), &cfg, &outcome),
                );
                summary.cost = Some(bill.clone());
                summary.cpu = cfg.cpu_use(&outcome, &scaled);
                let metrics = super::compare::summary_metrics(&summary);
                let faas_failed = super::fleet::misses(&slo.objectives, &metrics);
                let warnings = faasplan::warnings::for_run(&faasplan::warnings::RunFacts {
                    outcome: &outcome,
                    cfg: &cfg,
                    origins: &origins,
                });
                // A fleet without a count is sized for the scaled traffic.
                let (_, fo, _) = run_fleet(&scaled, &spec, &slo);
                let fleet_bill = spec.bill(&fo);
                let fleet_failed = slo.misses(&fo, Some(fleet_bill.monthly_usd));
                bar.inc(1);
                let point = Point {
                    k,
                    requests_per_s: outcome.totals.invocations as f64
                        / (outcome.window_us as f64 / 1e6).max(1e-9),
                    faas_monthly_usd: bill.monthly_usd,
                    fleet_monthly_usd: fleet_bill.monthly_usd,
                    faas_p99_ms: outcome.latency.quantile_us(0.99) as f64 / 1e3,
                    fleet_p99_ms: fo.latency.quantile_us(0.99) as f64 / 1e3,
                    fleet_instances: fo.mean_instances(),
                    fleet_rejected: fo.rejected,
                    faas_throttled: outcome.totals.throttled + outcome.totals.dead_lettered,
                    fleet_queue_wait_p99_ms: fo.queue_wait.quantile_us(0.99) as f64 / 1e3,
                    fleet_cpu_utilisation: fo.cpu_utilisation(),
                    faas_feasible: faas_failed.is_empty(),
                    fleet_feasible: fleet_failed.is_empty(),
                    cheaper: cheaper(
                        bill.monthly_usd,
                        faas_failed.is_empty(),
                        fleet_bill.monthly_usd,
                        fleet_failed.is_empty(),
                    ),
                    faas_failed,
                    fleet_failed,
                };
                Ok(FactorRun {
                    point,
                    warnings,
                    metrics,
                })
            })
            .collect()
    })?;
    bar.finish_and_clear();
    let faas_metrics: Vec<Vec<(String, f64)>> = runs.iter().map(|r| r.metrics.clone()).collect();
    super::fleet::unknown_metric(
        &slo.objectives,
        &[faas_metrics.concat(), super::fleet::fleet_metric_names()],
    )
    .map_err(super::platform::flag_error)?;
    let points: Vec<Point> = runs.iter().map(|r| r.point.clone()).collect();
    let crossing = crossing(&points);
    let verdict = verdict(&points, crossing.as_ref());
    // Each source's warning once: its text at the first factor where it holds, and the range.
    let mut warnings = Vec::new();
    let mut flags: Vec<&'static str> = Vec::new();
    for r in &runs {
        for w in &r.warnings {
            if !flags.contains(&w.flag) {
                flags.push(w.flag);
            }
        }
    }
    for flag in flags {
        let at: Vec<(f64, &faasplan::warnings::Warning)> = runs
            .iter()
            .filter_map(|r| {
                r.warnings
                    .iter()
                    .find(|w| w.flag == flag)
                    .map(|w| (r.point.k, w))
            })
            .collect();
        if let (Some(first), Some(last)) = (at.first(), at.last()) {
            warnings.push(format!(
                "{} at {}: {}",
                offering.meta.name,
                k_range(first.0, last.0),
                first.1
            ));
        }
    }
    warnings.extend(
        infeasible_ranges(&points)
            .into_iter()
            .map(|(who, lo, hi, why)| {
                let (name, flag) = if who == "faas" {
                    (offering.meta.name.as_str(), "--slo")
                } else {
                    (spec.text.as_str(), "--fleet")
                };
                faasplan::warnings::misses_slo(
                    &format!("{name} at {}", k_range(lo, hi)),
                    &[why],
                    flag,
                )
                .to_string()
            }),
    );
    let result = Breakeven {
        trace: name,
        offering: offering.meta.name.clone(),
        fleet: spec.text.clone(),
        fleet_slo: Some(if spec.size_for_slo {
            format!(
                "each factor's fleet is the smallest count meeting {}",
                slo.describe()
            )
        } else {
            format!("the fleet must meet {}", slo.describe())
        }),
        slo: slo.objectives.iter().map(|s| s.text.clone()).collect(),
        points,
        crossing,
        verdict,
        notes: std::iter::once(cfg.cpu_note(&trace))
            .chain(cfg.per_function_note(&trace))
            .collect(),
        warnings,
    };
    faasplan::warnings::to_stderr(&result.warnings);
    if let Some(t) = &report_to {
        let page = faasplan::report::breakeven::BreakevenPage::from(&result);
        report_args::announce(&faasplan::report::breakeven::write(&page, t)?);
    }
    to_stdout(|w| a.format.write(&result, w))?;
    Ok(ExitCode::SUCCESS)
}
