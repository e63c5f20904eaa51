//! `--report [DIR]` and `--force`, shared by every command that can write a report, and the
//! glue that turns a command's results into a report page.

use std::path::{Path, PathBuf};

use clap::Args;

use super::breakeven::Breakeven;
use super::compare::{CompareOption, Comparison};
use super::sweep::SweepResult;
use faasplan::engine::PlatformConfig;
use faasplan::export::summary::Summary;
use faasplan::outcome::Outcome;
use faasplan::report::breakeven::{BreakevenCrossing, BreakevenPage, BreakevenPoint};
use faasplan::report::compare::{CompareEntry, ComparePage, LatencyMs};
use faasplan::report::fmt::{sig, thousands};
use faasplan::report::sweep::{SweepMetric, SweepPage};
use faasplan::report::{self, ReportError, ReportTarget, Written};
use faasplan::sweep::Metric;

/// Where to write a report, if anywhere.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Also write PNG charts, index.html and summary.md to DIR (default DIR: reports/COMMAND-TRACE,
    /// e.g. reports/simulate-api-steady). The directory is written whole or not at all.
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub report: Option<Option<PathBuf>>,

    /// Replace the --report directory if it exists (only a directory faasplan wrote).
    #[arg(long, requires = "report")]
    pub force: bool,
}

impl ReportArgs {
    /// The checked report directory, or `None` without `--report`. Call it before the run, so
    /// that an existing directory is an error before any work is done.
    pub fn target(&self, command: &str, trace: &Path) -> Result<Option<ReportTarget>, ReportError> {
        match &self.report {
            None => Ok(None),
            Some(dir) => {
                let dir = dir
                    .clone()
                    .unwrap_or_else(|| report::default_dir(command, trace));
                ReportTarget::new(dir, self.force).map(Some)
            }
        }
    }
}

/// Says where the report went (stderr: results go to stdout).
pub(crate) fn announce(w: &Written) {
    eprintln!("report: {}", w.index().display());
}

/// Writes the `simulate` report of one run.
pub(crate) fn write_simulate(
    target: &ReportTarget,
    outcome: &Outcome,
    summary: &Summary,
    cfg: &PlatformConfig,
) -> Result<(), ReportError> {
    let page = report::simulate::SimulatePage::from_outcome(outcome, summary, cfg);
    announce(&report::simulate::write(&page, target)?);
    Ok(())
}

/// Writes the comparison report of one trace priced on several offerings.
pub(crate) fn write_offerings(
    target: &ReportTarget,
    trace: &str,
    runs: &[Summary],
) -> Result<(), ReportError> {
    let page = report::compare::ComparePage::from_summaries(trace, runs);
    announce(&report::compare::write(&page, target)?);
    Ok(())
}

/// "ok", or "misses p99<=300ms (is 912)".
fn feasibility(feasible: bool, failed: &[String]) -> String {
    if feasible {
        "ok".into()
    } else {
        format!("misses {}", failed.join(", "))
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `faasplan compare`'s options as a report page. The fleet SLO's p99 bound is not in the
/// comparison; set `slo_p99_ms` to draw it.
pub fn compare_page(c: &Comparison) -> ComparePage {
    {
        let options = c
            .options
            .iter()
            .map(|o| match o {
                CompareOption::Faas(f) => {
                    let mut e = CompareEntry::from_summary(f.name.clone(), &f.summary);
                    e.columns
                        .push(("SLO".into(), feasibility(f.feasible, &f.failed)));
                    e
                }
                CompareOption::Fleet(f) => CompareEntry {
                    name: f.name.clone(),
                    kind: "fleet".into(),
                    cost_items: report::compare::fleet_cost_items(&f.cost),
                    requests: f.invocations,
                    window_s: f.window_s,
                    latency_ms: (f.served > 0).then_some(LatencyMs {
                        p50: f.latency_ms.p50,
                        p95: f.latency_ms.p95,
                        p99: f.latency_ms.p99,
                    }),
                    columns: vec![
                        ("boot events".into(), thousands(f.boot_events)),
                        ("throttled / rejected".into(), thousands(f.rejected)),
                        ("mean instances".into(), format!("{:.2}", f.instances.mean)),
                        (
                            "utilisation".into(),
                            format!("{} %", sig(f.utilisation * 100.0)),
                        ),
                        ("sizing".into(), f.sizing.clone()),
                        ("SLO".into(), feasibility(f.feasible, &f.failed)),
                    ],
                },
            })
            .collect();
        let mut notes = vec![
            format!("{}.", upper_first(&c.recommendation)),
            "Monthly cost: a 730-hour month whose traffic repeats the simulated window.".into(),
        ];
        if !c.slo.is_empty() {
            notes.push(format!("Every option must meet: {}.", c.slo.join(", ")));
        }
        if let Some(slo) = &c.fleet_slo {
            notes.push(format!(
                "Fleets must meet (and fleets without a count are sized for): {slo}."
            ));
        }
        ComparePage {
            subtitle: c.trace.clone(),
            options,
            slo_p99_ms: None,
            notes,
            warnings: c.warnings.clone(),
        }
    }
}

/// `faasplan breakeven`'s table and crossing as a report page.
pub fn breakeven_page(b: &Breakeven) -> BreakevenPage {
    {
        let served = |ms: f64| (ms > 0.0).then_some(ms);
        let mut notes = vec![b.verdict.clone()];
        if let Some(slo) = &b.fleet_slo {
            notes.push(format!("{}.", upper_first(slo)));
        }
        if !b.slo.is_empty() {
            notes.push(format!("Both options must meet: {}.", b.slo.join(", ")));
        }
        BreakevenPage {
            subtitle: b.trace.clone(),
            faas: b.offering.clone(),
            fleet: b.fleet.clone(),
            points: b
                .points
                .iter()
                .map(|p| BreakevenPoint {
                    k: p.k,
                    requests_per_s: p.requests_per_s,
                    faas_monthly_usd: p.faas_monthly_usd,
                    fleet_monthly_usd: p.fleet_monthly_usd,
                    faas_p99_ms: served(p.faas_p99_ms),
                    fleet_p99_ms: served(p.fleet_p99_ms),
                    faas_feasible: p.faas_feasible,
                    fleet_feasible: p.fleet_feasible,
                })
                .collect(),
            crossing: b.crossing.as_ref().map(|c| BreakevenCrossing {
                k: c.k,
                requests_per_s: c.requests_per_s,
                monthly_usd: c.monthly_usd,
            }),
            notes: notes.into_iter().filter(|n| !n.is_empty()).collect(),
            warnings: b.warnings.clone(),
        }
    }
}

/// `faasplan sweep`'s grid as a report page: cost against the provisioned level (or, without
/// one, the first swept setting), with the cold-start ratio and p99 latency.
impl From<&SweepResult> for SweepPage {
    fn from(r: &SweepResult) -> SweepPage {
        let names: Vec<&str> = r
            .grid
            .first()
            .map(|p| p.settings.iter().map(|(n, _)| n.as_str()).collect())
            .unwrap_or_default();
        let x_setting = if names.contains(&"provisioned") {
            "provisioned"
        } else {
            names.first().copied().unwrap_or("provisioned")
        };
        let x_label = match x_setting {
            "provisioned" => "provisioned concurrency (instances per function)".to_string(),
            "memory_mb" => "memory (MB)".to_string(),
            "keep_alive_s" => "keep-alive (s)".to_string(),
            other => other.to_string(),
        };
        SweepPage {
            subtitle: format!("{} on {}", r.trace, r.offering),
            x_setting: x_setting.to_string(),
            x_label,
            cost_column: Metric::CostMonthly.column().into(),
            metrics: vec![
                SweepMetric::for_metric(
                    Metric::ColdStartRatio,
                    r.pareto_cost_cold_start_ratio.clone(),
                ),
                SweepMetric::for_metric(Metric::LatencyP99, r.pareto_cost_p99.clone()),
            ],
            rows: r.grid.clone(),
            slos: r.slos.clone(),
            recommended: r.recommended,
            notes: vec![
                format!(
                    "{} replicas per grid point, seeds from {}. Monthly cost: a 730-hour month \
                     whose traffic repeats the simulated window.",
                    r.replicas, r.seed
                ),
                match &r.resample {
                    Some(b) => format!(
                        "Each replica resamples the trace ({}, {} blocks of {} s), so every ± and \
                         band is a 95 % prediction interval for one resampled period, \
                         t·s·√(1 + 1/R), not a confidence interval of the mean.",
                        b.method, b.blocks, b.block_s
                    ),
                    None => "Replicas replay the same trace and differ in their random draws \
                             only: the ± is the confidence interval of the mean, not the \
                             uncertainty of the traffic (see --resample)."
                        .to_string(),
                },
            ],
            warnings: r.warnings.clone(),
        }
    }
}
