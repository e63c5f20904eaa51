//! `faasplan compare`: the same trace on FaaS offerings and on server fleets, side by side.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;
use serde::Serialize;

use super::fleet::{FleetArgs, FleetSummary, run_fleet};
use super::report_args::{self, ReportArgs};
use super::{Format, RunArgs, platform_config_for, thread_pool, to_stdout, write_json};
use crate::cost;
use crate::engine::simulate;
use crate::export::summary::Summary;
use crate::servers::MONTH_HOURS;

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub run: RunArgs,

    #[command(flatten)]
    pub fleet: FleetArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Worker threads (default: all cores). The output does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub report: ReportArgs,
}

/// A FaaS option: its name and kind, then every `simulate` summary field.
#[derive(Debug, Clone, Serialize)]
pub struct FaasOption {
    pub name: String,
    pub kind: &'static str,
    #[serde(flatten)]
    pub summary: Summary,
}

/// One row of the comparison, whatever the kind.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum CompareOption {
    Faas(Box<FaasOption>),
    Fleet(Box<FleetSummary>),
}

/// The numbers every option has, for the table and the CSV.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    pub kind: &'static str,
    pub invocations: u64,
    pub monthly_usd: f64,
    pub usd_per_million_requests: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p95: f64,
    pub latency_ms_p99: f64,
    /// Cold starts (FaaS) or instance boots (fleet).
    pub cold_starts_or_boots: u64,
    /// Throttled + dead-lettered (FaaS) or rejected (fleet).
    pub throttled_or_rejected: u64,
    /// FaaS: mean busy / mean alive instances; fleet: busy slots / slots in service.
    pub utilisation: f64,
}

fn per_million(monthly_usd: f64, invocations: u64, window_s: f64) -> f64 {
    let monthly_requests = invocations as f64 * MONTH_HOURS * 3600.0 / window_s.max(1e-9);
    if monthly_requests == 0.0 {
        0.0
    } else {
        monthly_usd / monthly_requests * 1e6
    }
}

impl CompareOption {
    pub fn row(&self) -> Row {
        match self {
            CompareOption::Faas(f) => {
                let s = &f.summary;
                let monthly = s.cost.as_ref().map_or(0.0, |c| c.monthly_usd);
                Row {
                    name: f.name.clone(),
                    kind: "faas",
                    invocations: s.invocations,
                    monthly_usd: monthly,
                    usd_per_million_requests: per_million(monthly, s.invocations, s.window_s),
                    latency_ms_p50: s.latency_ms.p50,
                    latency_ms_p95: s.latency_ms.p95,
                    latency_ms_p99: s.latency_ms.p99,
                    cold_starts_or_boots: s.cold_starts,
                    throttled_or_rejected: s.throttled + s.dead_lettered,
                    utilisation: if s.concurrency.mean_alive > 0.0 {
                        s.concurrency.mean_busy / s.concurrency.mean_alive
                    } else {
                        0.0
                    },
                }
            }
            CompareOption::Fleet(f) => Row {
                name: f.name.clone(),
                kind: "fleet",
                invocations: f.invocations,
                monthly_usd: f.cost.monthly_usd,
                usd_per_million_requests: per_million(
                    f.cost.monthly_usd,
                    f.invocations,
                    f.window_s,
                ),
                latency_ms_p50: f.latency_ms.p50,
                latency_ms_p95: f.latency_ms.p95,
                latency_ms_p99: f.latency_ms.p99,
                cold_starts_or_boots: f.boot_events,
                throttled_or_rejected: f.rejected,
                utilisation: f.utilisation,
            },
        }
    }
}

/// The whole comparison, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub trace: String,
    /// The SLO used to size fixed fleets given without a count, if any was.
    pub fleet_slo: Option<String>,
    pub options: Vec<CompareOption>,
}

pub fn run(a: &CompareArgs) -> anyhow::Result<ExitCode> {
    let pool = thread_pool(a.threads)?;
    // Checked before the run: an existing report without --force fails fast.
    let report_to = a.report.target("compare", &a.run.trace)?;
    let offerings = a.run.offering.load()?;
    if offerings.is_empty() && a.fleet.fleets.is_empty() {
        return Err(crate::error::ConfigError::invalid(
            "--offering",
            "give at least one --offering or --fleet to compare",
        )
        .into());
    }
    let name = a.run.name();
    let (trace, load) = a.run.load(a.run.platform.seed, true)?;
    // The fleet specs need the default memory (CPU-share rule) and the horizon.
    let base = platform_config_for(&a.run.platform, offerings.first())?;
    let specs = a.fleet.specs(base.memory_mb, base.horizon)?;
    let slo = a.fleet.slo(&trace)?;

    let mut options = Vec::new();
    for o in &offerings {
        let cfg = platform_config_for(&a.run.platform, Some(o))
            .with_context(|| format!("offering {}", o.meta.name))?;
        cfg.validate(trace.functions.len())
            .with_context(|| format!("offering {}", o.meta.name))?;
        let outcome = pool.install(|| simulate(&trace, &cfg));
        let mut summary = Summary::new(
            &outcome,
            super::simulate::run_info(&name, &trace, &load.rows, &cfg, &outcome),
        );
        summary.cost = Some(cost::bill(&outcome, o, &a.run.offering.bill_options(&cfg)));
        options.push(CompareOption::Faas(Box::new(FaasOption {
            name: o.meta.name.clone(),
            kind: "faas",
            summary,
        })));
    }
    let fleets: Vec<CompareOption> = pool.install(|| {
        specs
            .par_iter()
            .map(|spec| {
                let (cfg, o, sized) = run_fleet(&trace, spec, &slo);
                CompareOption::Fleet(Box::new(FleetSummary::new(spec, &cfg, &o, sized)))
            })
            .collect()
    });
    options.extend(fleets);
    let comparison = Comparison {
        trace: name,
        fleet_slo: specs.iter().any(|s| s.size_for_slo).then(|| slo.describe()),
        options,
    };

    if let Some(t) = &report_to {
        let page = crate::report::compare::ComparePage {
            slo_p99_ms: comparison
                .fleet_slo
                .as_ref()
                .map(|s| (format!("fleet SLO: {s}"), slo.p99_ms_max)),
            ..crate::report::compare::ComparePage::from(&comparison)
        };
        report_args::announce(&crate::report::compare::write(&page, t)?);
    }
    to_stdout(|w| match a.format {
        Format::Table => write_table(w, &comparison),
        Format::Json => write_json(w, &comparison),
        Format::Csv => write_csv(w, &comparison),
    })?;
    Ok(ExitCode::SUCCESS)
}

fn write_table(w: &mut dyn Write, c: &Comparison) -> std::io::Result<()> {
    writeln!(w, "trace {}", c.trace)?;
    if let Some(slo) = &c.fleet_slo {
        writeln!(w, "fleets without a count are sized for: {slo}")?;
    }
    writeln!(w)?;
    let rows: Vec<Row> = c.options.iter().map(CompareOption::row).collect();
    let name_w = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 48);
    writeln!(
        w,
        "{:<name_w$}  {:<5}  {:>12}  {:>10}  {:>9}  {:>9}  {:>9}  {:>11}  {:>10}  {:>6}",
        "option",
        "kind",
        "monthly $",
        "$ / M req",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "cold/boots",
        "rejected",
        "util"
    )?;
    for r in &rows {
        let name: String = r.name.chars().take(name_w).collect();
        writeln!(
            w,
            "{:<name_w$}  {:<5}  {:>12.2}  {:>10.3}  {:>9.1}  {:>9.1}  {:>9.1}  {:>11}  {:>10}  {:>5.1}%",
            name,
            r.kind,
            r.monthly_usd,
            r.usd_per_million_requests,
            r.latency_ms_p50,
            r.latency_ms_p95,
            r.latency_ms_p99,
            r.cold_starts_or_boots,
            r.throttled_or_rejected,
            r.utilisation * 100.0
        )?;
    }
    for o in &c.options {
        if let CompareOption::Fleet(f) = o {
            writeln!(
                w,
                "  {}: {} x {} slots, {}; instances min {} mean {:.2} max {}; {:.1} % of requests queued",
                f.name,
                f.instance_type,
                f.slots,
                f.sizing,
                f.instances.min,
                f.instances.mean,
                f.instances.max,
                f.waited_ratio * 100.0
            )?;
        }
    }
    Ok(())
}

fn write_csv(w: &mut dyn Write, c: &Comparison) -> std::io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    for o in &c.options {
        out.serialize(o.row()).map_err(std::io::Error::other)?;
    }
    out.flush()
}
