//! `faasplan breakeven`: scales the trace's traffic by factors k (log-spaced), runs a FaaS
//! offering and a server fleet at each, and reports where their monthly costs cross.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;
use serde::Serialize;

use super::fleet::{FleetArgs, run_fleet};
use super::report_args::{self, ReportArgs};
use super::{Format, RunArgs, platform_config_for, thread_pool, to_stdout, write_json};
use crate::cost;
use crate::engine::{RunOptions, simulate_with};
use crate::error::ConfigError;
use crate::export::summary::Summary;
use crate::report::fmt::sig;
use crate::servers;
use crate::trace::scale;

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

    /// Largest traffic factor.
    #[arg(long, default_value_t = 100.0, value_name = "K")]
    pub max_factor: f64,

    /// Factors, log-spaced from --min-factor to --max-factor.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub points: usize,

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

/// One traffic factor.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub k: f64,
    /// Mean request rate of the scaled trace over its window.
    pub requests_per_s: f64,
    pub faas_monthly_usd: f64,
    pub fleet_monthly_usd: f64,
    pub faas_p99_ms: f64,
    pub fleet_p99_ms: f64,
    /// Mean instances the fleet held (the count chosen for the SLO, for a fixed fleet).
    pub fleet_instances: f64,
    pub fleet_rejected: u64,
    pub faas_throttled: u64,
    /// p99 queue wait on the fleet, ms.
    pub fleet_queue_wait_p99_ms: f64,
    /// The FaaS offering meets every `--slo` objective.
    pub faas_feasible: bool,
    /// The fleet meets its SLO (the fleet SLO and every `--slo` objective).
    pub fleet_feasible: bool,
    /// The objectives each side misses, with their values.
    pub faas_failed: Vec<String>,
    pub fleet_failed: Vec<String>,
    /// The cheaper of the feasible options: `faas`, `fleet`, or `none` (neither is feasible).
    /// An infeasible option is never the cheaper one.
    pub cheaper: &'static str,
}

impl Point {
    fn both_feasible(&self) -> bool {
        self.faas_feasible && self.fleet_feasible
    }
}

/// The cheaper feasible side of a point.
fn cheaper(faas_usd: f64, faas_ok: bool, fleet_usd: f64, fleet_ok: bool) -> &'static str {
    match (faas_ok, fleet_ok) {
        (true, true) if fleet_usd < faas_usd => "fleet",
        (true, _) => "faas",
        (false, true) => "fleet",
        (false, false) => "none",
    }
}

/// Where the costs cross, interpolated linearly in log(k) on log(FaaS cost / fleet cost).
#[derive(Debug, Clone, Serialize)]
pub struct Crossing {
    pub k: f64,
    pub requests_per_s: f64,
    pub monthly_usd: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Breakeven {
    pub trace: String,
    pub offering: String,
    pub fleet: String,
    /// The SLO the fleet must meet at each factor (and is sized for, without a count).
    pub fleet_slo: Option<String>,
    /// The `--slo` objectives both options must meet.
    pub slo: Vec<String>,
    pub points: Vec<Point>,
    /// Where the costs cross between two factors at which both options are feasible.
    pub crossing: Option<Crossing>,
    /// The crossing, or what holds without one, and where an option is infeasible.
    pub verdict: String,
    pub warnings: Vec<String>,
}

/// The factors: `n` log-spaced values from `lo` to `hi`.
pub fn factors(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![lo];
    }
    (0..n)
        .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (n - 1) as f64).exp())
        .collect()
}

/// The first crossing of the two cost curves between neighbouring factors at which both options
/// are feasible, if any: a cheaper price where an option misses its SLO is no break-even.
pub fn crossing(points: &[Point]) -> Option<Crossing> {
    let r = |p: &Point| (p.faas_monthly_usd / p.fleet_monthly_usd).ln();
    points.windows(2).find_map(|w| {
        let (a, b) = (&w[0], &w[1]);
        if !(a.both_feasible() && b.both_feasible()) {
            return None;
        }
        let (ra, rb) = (r(a), r(b));
        if !(ra.is_finite() && rb.is_finite()) || ra.signum() == rb.signum() && ra != 0.0 {
            return None;
        }
        let t = if ra == rb { 0.0 } else { ra / (ra - rb) };
        let lerp = |x: f64, y: f64| (x.ln() + (y.ln() - x.ln()) * t).exp();
        Some(Crossing {
            k: lerp(a.k, b.k),
            requests_per_s: lerp(a.requests_per_s, b.requests_per_s),
            monthly_usd: lerp(a.fleet_monthly_usd, b.fleet_monthly_usd),
        })
    })
}

/// The factor ranges (first, last k) over which one side misses its SLO: (side, lo, hi, the
/// objectives it misses at the first factor of the range).
pub fn infeasible_ranges(points: &[Point]) -> Vec<(&'static str, f64, f64, String)> {
    let mut out = Vec::new();
    for side in ["faas", "fleet"] {
        let bad = |p: &Point| {
            if side == "faas" {
                !p.faas_feasible
            } else {
                !p.fleet_feasible
            }
        };
        let mut i = 0;
        while i < points.len() {
            if !bad(&points[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i + 1 < points.len() && bad(&points[i + 1]) {
                i += 1;
            }
            let why = if side == "faas" {
                &points[start].faas_failed
            } else {
                &points[start].fleet_failed
            };
            out.push((side, points[start].k, points[i].k, why.join(", ")));
            i += 1;
        }
    }
    out
}

/// One factor's point, the FaaS run's warnings and its metrics (for `--slo`).
struct FactorRun {
    point: Point,
    warnings: Vec<crate::warnings::Warning>,
    metrics: Vec<(String, f64)>,
}

/// `k = 2` or `k = 2..20`.
fn k_range(lo: f64, hi: f64) -> String {
    if lo == hi {
        format!("k = {}", sig(lo))
    } else {
        format!("k = {}..{}", sig(lo), sig(hi))
    }
}

/// The answer in a sentence: the crossing among feasible points, or which feasible option is
/// cheaper, and where an option is infeasible.
fn verdict(points: &[Point], crossing: Option<&Crossing>) -> String {
    let mut v = match crossing {
        Some(c) => format!(
            "the monthly costs cross at k = {:.3} ({:.3} requests/s, ${:.2} a month)",
            c.k, c.requests_per_s, c.monthly_usd
        ),
        None if points.is_empty() => "no points".to_string(),
        None => {
            let both: Vec<&Point> = points.iter().filter(|p| p.both_feasible()).collect();
            let all = |side: &str| both.iter().all(|p| p.cheaper == side);
            if both.is_empty() {
                "the options are never both feasible: no break-even point".to_string()
            } else if all("faas") {
                "FaaS is cheaper wherever both options meet their SLO".to_string()
            } else if all("fleet") {
                "the fleet is cheaper wherever both options meet their SLO".to_string()
            } else {
                "the cheaper option changes only across factors where one misses its SLO"
                    .to_string()
            }
        }
    };
    for (side, lo, hi, _) in infeasible_ranges(points) {
        v.push_str(&format!(
            "; {} misses its SLO at {}",
            if side == "faas" { "FaaS" } else { "the fleet" },
            k_range(lo, hi)
        ));
    }
    v
}

/// Runs the sweep over `ks`.
pub fn run(a: &BreakevenArgs) -> anyhow::Result<ExitCode> {
    let pool = thread_pool(a.threads)?;
    // Checked before the run: an existing report without --force fails fast.
    let report_to = a.report.target("breakeven", &a.run.trace)?;
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
    let cfg = platform_config_for(&a.run.platform, Some(offering))
        .with_context(|| format!("offering {}", offering.meta.name))?;
    cfg.validate(trace.functions().len())?;
    let spec = a
        .fleet
        .parse(&a.fleet.fleets[0], cfg.memory_mb, cfg.horizon)?;
    let bill_opts = a.run.offering.bill_options(&cfg);
    let ks = factors(a.min_factor, a.max_factor, a.points);
    let slo = a.fleet.slo()?;
    let origins = super::origin::origins(&a.run.platform, Some(offering));
    let seed = cfg.seed;
    let bar = super::progress::bar(ks.len() as u64, a.quiet);
    let runs: Vec<FactorRun> = pool.install(|| {
        ks.par_iter()
            .enumerate()
            .map(|(i, &k)| {
                let scaled = scale::scale(&trace, k, seed, i as u32);
                let outcome = simulate_with(&scaled, &cfg, ONE_THREAD);
                let bill = cost::bill(&outcome, offering, &bill_opts);
                let mut summary = Summary::new(
                    &outcome,
                    super::simulate::run_info(&name, &scaled, &Default::default(), &cfg, &outcome),
                );
                summary.cost = Some(bill.clone());
                let metrics = super::compare::summary_metrics(&summary);
                let faas_failed = super::fleet::misses(&slo.objectives, &metrics);
                let warnings = crate::warnings::for_run(&crate::warnings::RunFacts {
                    outcome: &outcome,
                    cfg: &cfg,
                    origins: &origins,
                });
                // A fleet without a count is sized for the scaled traffic.
                let (_, fo, _) = run_fleet(&scaled, &spec, &slo);
                let fleet_bill = servers::bill_fleet(&fo, &spec.server, spec.discount_pct);
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
                FactorRun {
                    point,
                    warnings,
                    metrics,
                }
            })
            .collect()
    });
    bar.finish_and_clear();
    let faas_metrics: Vec<Vec<(String, f64)>> = runs.iter().map(|r| r.metrics.clone()).collect();
    super::fleet::unknown_metric(
        &slo.objectives,
        &[faas_metrics.concat(), super::fleet::fleet_metric_names()],
    )?;
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
        let at: Vec<(f64, &crate::warnings::Warning)> = runs
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
                crate::warnings::misses_slo(&format!("{name} at {}", k_range(lo, hi)), &[why], flag)
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
        warnings,
    };
    crate::warnings::to_stderr(&result.warnings);
    if let Some(t) = &report_to {
        let page = crate::report::breakeven::BreakevenPage::from(&result);
        report_args::announce(&crate::report::breakeven::write(&page, t)?);
    }
    to_stdout(|w| match a.format {
        Format::Table => write_table(w, &result),
        Format::Json => write_json(w, &result),
        Format::Csv => crate::export::csv::write_records(w, &result.points),
    })?;
    Ok(ExitCode::SUCCESS)
}

fn write_table(w: &mut dyn Write, b: &Breakeven) -> std::io::Result<()> {
    writeln!(w, "trace {}: {} against {}", b.trace, b.offering, b.fleet)?;
    if let Some(slo) = &b.fleet_slo {
        writeln!(w, "{slo}")?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "{:>9}  {:>12}  {:>13}  {:>13}  {:>11}  {:>12}  {:>10}  {:<8}",
        "k",
        "requests/s",
        "FaaS $/month",
        "fleet $/month",
        "FaaS p99 ms",
        "fleet p99 ms",
        "instances",
        "cheaper"
    )?;
    for p in &b.points {
        writeln!(
            w,
            "{:>9.3}  {:>12.3}  {:>12.2}{}  {:>12.2}{}  {:>11.1}  {:>12.1}  {:>10.2}  {:<8}",
            p.k,
            p.requests_per_s,
            p.faas_monthly_usd,
            if p.faas_feasible { ' ' } else { '*' },
            p.fleet_monthly_usd,
            if p.fleet_feasible { ' ' } else { '*' },
            p.faas_p99_ms,
            p.fleet_p99_ms,
            p.fleet_instances,
            p.cheaper
        )?;
    }
    if b.points.iter().any(|p| !p.both_feasible()) {
        writeln!(w, "* misses its SLO there: never the cheaper option")?;
    }
    writeln!(w)?;
    writeln!(w, "{}", b.verdict)?;
    crate::warnings::write_block(w, &b.warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: f64, faas: f64, fleet: f64) -> Point {
        Point {
            k,
            requests_per_s: k,
            faas_monthly_usd: faas,
            fleet_monthly_usd: fleet,
            faas_p99_ms: 0.0,
            fleet_p99_ms: 0.0,
            fleet_instances: 1.0,
            fleet_rejected: 0,
            faas_throttled: 0,
            fleet_queue_wait_p99_ms: 0.0,
            faas_feasible: true,
            fleet_feasible: true,
            faas_failed: vec![],
            fleet_failed: vec![],
            cheaper: cheaper(faas, true, fleet, true),
        }
    }

    #[test]
    fn crossing_of_a_linear_and_a_flat_cost_is_exact_in_log_space() {
        // FaaS cost 2k, fleet 50: they cross at k = 25.
        let pts: Vec<Point> = factors(1.0, 100.0, 5)
            .into_iter()
            .map(|k| p(k, 2.0 * k, 50.0))
            .collect();
        let c = crossing(&pts).unwrap();
        assert!((c.k - 25.0).abs() < 1e-9, "{c:?}");
        assert!((c.monthly_usd - 50.0).abs() < 1e-9);
        let never: Vec<Point> = factors(1.0, 10.0, 3)
            .into_iter()
            .map(|k| p(k, k, 500.0))
            .collect();
        assert!(crossing(&never).is_none());
    }

    #[test]
    fn factors_are_log_spaced() {
        let f = factors(0.1, 100.0, 4);
        for (a, b) in f.iter().zip([0.1, 1.0, 10.0, 100.0]) {
            assert!((a - b).abs() < 1e-9 * b);
        }
    }
}
