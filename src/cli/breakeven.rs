//! `faasplan breakeven`: scales the trace's traffic by factors k (log-spaced), runs a FaaS
//! offering and a server fleet at each, and reports where their monthly costs cross.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;
use serde::Serialize;

use super::fleet::{FleetArgs, FleetSlo, run_fleet};
use super::report_args::{self, ReportArgs};
use super::{Format, RunArgs, platform_config_for, thread_pool, to_stdout, write_json};
use crate::cost;
use crate::engine::{RunOptions, simulate_with};
use crate::error::ConfigError;
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
    pub fleet_slo: Option<String>,
    pub points: Vec<Point>,
    pub crossing: Option<Crossing>,
    /// What holds when there is no crossing in the range.
    pub verdict: String,
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

/// The first crossing of the two cost curves, if any.
pub fn crossing(points: &[Point]) -> Option<Crossing> {
    let r = |p: &Point| (p.faas_monthly_usd / p.fleet_monthly_usd).ln();
    points.windows(2).find_map(|w| {
        let (a, b) = (&w[0], &w[1]);
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
    cfg.validate(trace.functions.len())?;
    let spec = a
        .fleet
        .parse(&a.fleet.fleets[0], cfg.memory_mb, cfg.horizon)?;
    let bill_opts = a.run.offering.bill_options(&cfg);
    let ks = factors(a.min_factor, a.max_factor, a.points);
    // Validated once here; each factor's SLO is then taken from its own scaled trace.
    a.fleet.slo(&trace)?;
    let fleet_slo =
        |t: &crate::trace::Trace| a.fleet.slo(t).unwrap_or_else(|_| FleetSlo::for_trace(t));
    let seed = cfg.seed;
    let points: Vec<Point> = pool.install(|| {
        ks.par_iter()
            .enumerate()
            .map(|(i, &k)| {
                let scaled = scale::scale(&trace, k, seed, i as u32);
                let outcome = simulate_with(&scaled, &cfg, ONE_THREAD);
                let bill = cost::bill(&outcome, offering, &bill_opts);
                // The fleet is sized for the scaled traffic's own SLO.
                let slo = fleet_slo(&scaled);
                let (_, fo, _) = run_fleet(&scaled, &spec, &slo);
                let fleet_bill = servers::bill_fleet(&fo, &spec.server, spec.discount_pct);
                Point {
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
                }
            })
            .collect()
    });
    let crossing = crossing(&points);
    let verdict = match (&crossing, points.first(), points.last()) {
        (Some(c), _, _) => format!(
            "the monthly costs cross at k = {:.3} ({:.3} requests/s, ${:.2} a month)",
            c.k, c.requests_per_s, c.monthly_usd
        ),
        (None, Some(first), Some(_)) if first.faas_monthly_usd < first.fleet_monthly_usd => {
            "FaaS is cheaper across the whole range".to_string()
        }
        (None, Some(_), Some(_)) => "the fleet is cheaper across the whole range".to_string(),
        _ => "no points".to_string(),
    };
    let result = Breakeven {
        trace: name,
        offering: offering.meta.name.clone(),
        fleet: spec.text.clone(),
        fleet_slo: spec.size_for_slo.then(|| {
            let base = fleet_slo(&trace);
            format!(
                "each factor's fleet is the smallest count meeting {}",
                if base.default_p99 {
                    base.describe()
                        .replace("the trace's", "that factor's trace's")
                } else {
                    base.describe()
                }
            )
        }),
        points,
        crossing,
        verdict,
    };
    if let Some(t) = &report_to {
        let page = crate::report::breakeven::BreakevenPage::from(&result);
        report_args::announce(&crate::report::breakeven::write(&page, t)?);
    }
    to_stdout(|w| match a.format {
        Format::Table => write_table(w, &result),
        Format::Json => write_json(w, &result),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(w);
            result
                .points
                .iter()
                .try_for_each(|p| w.serialize(p))
                .map_err(std::io::Error::other)
                .and_then(|()| w.flush())
        }
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
        "{:>9}  {:>12}  {:>13}  {:>13}  {:>11}  {:>12}  {:>10}",
        "k",
        "requests/s",
        "FaaS $/month",
        "fleet $/month",
        "FaaS p99 ms",
        "fleet p99 ms",
        "instances"
    )?;
    for p in &b.points {
        writeln!(
            w,
            "{:>9.3}  {:>12.3}  {:>13.2}  {:>13.2}  {:>11.1}  {:>12.1}  {:>10.2}",
            p.k,
            p.requests_per_s,
            p.faas_monthly_usd,
            p.fleet_monthly_usd,
            p.faas_p99_ms,
            p.fleet_p99_ms,
            p.fleet_instances
        )?;
    }
    writeln!(w)?;
    writeln!(w, "{}", b.verdict)
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
