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
use crate::error::ConfigError;
use crate::export::summary::Summary;
use crate::servers::MONTH_HOURS;
use crate::sweep::Slo;

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

    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A FaaS option: its name and kind, then every `simulate` summary field.
#[derive(Debug, Clone, Serialize)]
pub struct FaasOption {
    pub name: String,
    pub kind: &'static str,
    /// False when the option misses an `--slo` objective (`failed` says which); an infeasible
    /// option is never called cheaper.
    pub feasible: bool,
    pub failed: Vec<String>,
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
    /// Meets every objective of its SLO.
    pub feasible: bool,
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
                    feasible: f.feasible,
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
                feasible: f.feasible,
            },
        }
    }

    pub fn name(&self) -> &str {
        match self {
            CompareOption::Faas(f) => &f.name,
            CompareOption::Fleet(f) => &f.name,
        }
    }

    pub fn feasible(&self) -> bool {
        match self {
            CompareOption::Faas(f) => f.feasible,
            CompareOption::Fleet(f) => f.feasible,
        }
    }

    pub fn monthly_usd(&self) -> f64 {
        match self {
            CompareOption::Faas(f) => f.summary.cost.as_ref().map_or(0.0, |c| c.monthly_usd),
            CompareOption::Fleet(f) => f.cost.monthly_usd,
        }
    }

    /// The option's own warnings (limits, init times, its SLO misses).
    pub fn warnings(&self) -> &[String] {
        match self {
            CompareOption::Faas(f) => &f.summary.warnings,
            CompareOption::Fleet(f) => &f.warnings,
        }
    }
}

/// The cheapest feasible option (ties: the first given), if any.
pub fn cheapest_feasible(options: &[CompareOption]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, o) in options.iter().enumerate() {
        if o.feasible() && best.is_none_or(|(_, c)| o.monthly_usd() < c) {
            best = Some((i, o.monthly_usd()));
        }
    }
    best.map(|(i, _)| i)
}

/// The whole comparison, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub trace: String,
    /// The SLO fleets must meet (and fixed fleets without a count are sized for), when there is
    /// a fleet.
    pub fleet_slo: Option<String>,
    /// The `--slo` objectives every option must meet.
    pub slo: Vec<String>,
    pub options: Vec<CompareOption>,
    /// The name of the cheapest feasible option; `None` when no option meets its SLO.
    pub recommended: Option<String>,
    /// The recommendation as a sentence.
    pub recommendation: String,
    /// Every warning: the options' own (prefixed with their name) and the comparison's.
    pub warnings: Vec<String>,
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
    let slo = a.fleet.slo()?;

    let bar = super::progress::bar((offerings.len() + specs.len()) as u64, a.quiet);
    let mut options = Vec::new();
    let mut sizes = Vec::new();
    for o in &offerings {
        let cfg = platform_config_for(&a.run.platform, Some(o))
            .with_context(|| format!("offering {}", o.meta.name))?;
        cfg.validate(trace.functions().len())
            .with_context(|| format!("offering {}", o.meta.name))?;
        let outcome = pool.install(|| simulate(&trace, &cfg));
        let mut summary = Summary::new(
            &outcome,
            super::simulate::run_info(&name, &trace, &load.rows, &cfg, &outcome),
        );
        summary.cost = Some(cost::bill(&outcome, o, &a.run.offering.bill_options(&cfg)));
        let failed = super::fleet::misses(&slo.objectives, &summary_metrics(&summary));
        let mut warnings = super::simulate::run_warnings(&a.run.platform, Some(o), &cfg, &outcome);
        if !failed.is_empty() {
            warnings.push(crate::warnings::misses_slo(&o.meta.name, &failed, "--slo"));
        }
        sizes.push((
            o.meta.name.clone(),
            summary
                .run
                .memory_sizes_mb
                .iter()
                .map(|&mb| (mb, o.vcpu(mb)))
                .collect(),
        ));
        options.push(CompareOption::Faas(Box::new(FaasOption {
            name: o.meta.name.clone(),
            kind: "faas",
            feasible: failed.is_empty(),
            failed,
            summary: summary.with_warnings(&warnings),
        })));
        bar.inc(1);
    }
    let fleets: Vec<CompareOption> = pool.install(|| {
        specs
            .par_iter()
            .map(|spec| {
                let (cfg, o, sized) = run_fleet(&trace, spec, &slo);
                bar.inc(1);
                CompareOption::Fleet(Box::new(FleetSummary::new(spec, &cfg, &o, sized, &slo)))
            })
            .collect()
    });
    bar.finish_and_clear();
    options.extend(fleets);
    check_metrics(&slo.objectives, &options)?;

    let recommended = cheapest_feasible(&options).map(|i| options[i].name().to_string());
    let recommendation = match &recommended {
        Some(n) if options.iter().all(CompareOption::feasible) => {
            format!("recommended: {n}, the cheapest option")
        }
        Some(n) => format!("recommended: {n}, the cheapest option that meets the SLO"),
        None => "recommended: none; none meets the SLO".to_string(),
    };
    let mut warnings: Vec<String> = options
        .iter()
        .flat_map(|o| {
            // An SLO miss already starts with the option's name.
            o.warnings().iter().map(move |w| {
                if w.starts_with(o.name()) {
                    w.clone()
                } else {
                    format!("{}: {w}", o.name())
                }
            })
        })
        .collect();
    // With a CPU profile durations do follow the CPU.
    if a.run.platform.cpu_bound.is_none() {
        warnings.extend(
            crate::warnings::durations_held_constant(&sizes)
                .iter()
                .map(ToString::to_string),
        );
    }
    let comparison = Comparison {
        trace: name,
        fleet_slo: (!specs.is_empty()).then(|| slo.describe()),
        slo: slo.objectives.iter().map(|s| s.text.clone()).collect(),
        options,
        recommended,
        recommendation,
        warnings,
    };
    crate::warnings::to_stderr(&comparison.warnings);

    if let Some(t) = &report_to {
        let page = crate::report::compare::ComparePage {
            slo_p99_ms: slo.p99_ms_max.map(|ms| {
                (
                    format!("fleet SLO: p99 <= {} ms", crate::report::fmt::sig(ms)),
                    ms,
                )
            }),
            ..crate::report::compare::ComparePage::from(&comparison)
        };
        report_args::announce(&crate::report::compare::write(&page, t)?);
    }
    to_stdout(|w| match a.format {
        Format::Table => write_table(w, &comparison),
        Format::Json => write_json(w, &comparison),
        Format::Csv => write_csv(w, &comparison),
    })?;
    if !comparison.slo.is_empty() && comparison.recommended.is_none() {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The numeric summary columns of a FaaS run (what an `--slo` reads), as in `sweep`.
pub(crate) fn summary_metrics(summary: &Summary) -> Vec<(String, f64)> {
    crate::export::csv::columns(summary)
        .into_iter()
        .filter(|(c, _)| !c.starts_with("run_"))
        .filter_map(|(c, v)| v.parse::<f64>().ok().map(|v| (c, v)))
        .collect()
}

/// An objective on a metric no option has is a typo, not an unmet objective (exit 2).
fn check_metrics(objectives: &[Slo], options: &[CompareOption]) -> Result<(), ConfigError> {
    let metrics: Vec<Vec<(String, f64)>> = options
        .iter()
        .map(|o| match o {
            CompareOption::Faas(f) => summary_metrics(&f.summary),
            CompareOption::Fleet(_) => super::fleet::fleet_metric_names(),
        })
        .collect();
    super::fleet::unknown_metric(objectives, &metrics)
}

fn write_table(w: &mut dyn Write, c: &Comparison) -> std::io::Result<()> {
    writeln!(w, "trace {}", c.trace)?;
    if let Some(slo) = &c.fleet_slo {
        writeln!(
            w,
            "fleets must meet (and fleets without a count are sized for): {slo}"
        )?;
    }
    if !c.slo.is_empty() {
        writeln!(w, "every option must meet: {}", c.slo.join(", "))?;
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
        "{:<name_w$}  {:<5}  {:>12}  {:>10}  {:>9}  {:>9}  {:>9}  {:>11}  {:>10}  {:>6}  {:<4}",
        "option",
        "kind",
        "monthly $",
        "$ / M req",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "cold/boots",
        "rejected",
        "util",
        "SLO"
    )?;
    for r in &rows {
        let name: String = r.name.chars().take(name_w).collect();
        writeln!(
            w,
            "{:<name_w$}  {:<5}  {:>12.2}  {:>10.3}  {:>9.1}  {:>9.1}  {:>9.1}  {:>11}  {:>10}  {:>5.1}%  {:<4}",
            name,
            r.kind,
            r.monthly_usd,
            r.usd_per_million_requests,
            r.latency_ms_p50,
            r.latency_ms_p95,
            r.latency_ms_p99,
            r.cold_starts_or_boots,
            r.throttled_or_rejected,
            r.utilisation * 100.0,
            if r.feasible { "ok" } else { "MISS" }
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
    for o in &c.options {
        let failed = match o {
            CompareOption::Faas(f) => &f.failed,
            CompareOption::Fleet(f) => &f.failed,
        };
        if !failed.is_empty() {
            writeln!(w, "  {} misses: {}", o.name(), failed.join(", "))?;
        }
    }
    writeln!(w)?;
    writeln!(w, "{}", c.recommendation)?;
    crate::warnings::write_block(w, &c.warnings)
}

fn write_csv(w: &mut dyn Write, c: &Comparison) -> std::io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    for o in &c.options {
        out.serialize(o.row()).map_err(std::io::Error::other)?;
    }
    out.flush()
}
