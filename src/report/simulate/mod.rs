//! The `simulate` report: instances over time (busy, alive, the provisioned level, cold starts
//! marked), requests, cold starts and throttles per minute, the latency CDF of warm and cold
//! starts with p50/p95/p99 marked, and for multi-function traces the functions with the most cold
//! starts. [`SimulatePage::from_outcome`] computes every series from the outcome; the charts only draw.
//!
//! The page is computed in `series.rs` (timeline and CDFs) and `tables.rs` (the summary tables),
//! and drawn by `charts.rs`: the charts take precomputed series and compute nothing.

mod charts;
mod series;
mod tables;

pub use series::{Cdf, ProvisionedLine, TimeUnit, Timeline};

use super::{Document, ReportError, ReportTarget, Table, Written, check_finite};
use crate::engine::PlatformConfig;
use crate::export::page::Page;
use crate::export::summary::Summary;
use crate::outcome::Outcome;
use charts::{draw_cdf, draw_concurrency, draw_counts, draw_top_functions};
use series::{cdf, timeline};
pub use tables::bill_table;
use tables::tables;

/// One function's bar in the top-functions chart.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionColdStarts {
    pub name: String,
    pub invocations: u64,
    pub cold_starts: u64,
}

/// Everything the simulate report shows, computed once.

#[derive(Debug, Clone, PartialEq)]
pub struct SimulatePage {
    /// What was simulated, e.g. the trace path; the report's subtitle.
    pub subtitle: String,
    pub tables: Vec<Table>,
    pub timeline: Timeline,
    /// Warm starts, then cold starts.
    pub latency: Vec<Cdf>,
    /// The functions with the most cold starts, most first (empty for one function).
    pub top_functions: Vec<FunctionColdStarts>,
    /// Caveats shown under the tables.
    pub notes: Vec<String>,
    /// The run's warnings, in a box at the top.
    pub warnings: Vec<String>,
}

/// The most functions the top-functions chart shows.
pub const TOP_FUNCTIONS: usize = 15;

impl SimulatePage {
    /// Computes the page from a run. `cfg` is the configuration it ran with (for the provisioned
    /// plan's label; the level itself comes from the outcome's per-minute series).
    pub fn from_outcome(
        outcome: &Outcome,
        summary: &Summary,
        cfg: &PlatformConfig,
    ) -> SimulatePage {
        let mut notes = Vec::new();
        let mut timeline = timeline(outcome, cfg, &mut notes);
        timeline.cpu = summary
            .cpu
            .as_ref()
            .map(|c| (c.utilisation, c.vcpu_per_instance));
        let latency = vec![
            cdf("warm starts", &outcome.latency_warm),
            cdf("cold starts", &outcome.latency_cold),
        ];
        let mut top: Vec<FunctionColdStarts> = outcome
            .names
            .iter()
            .zip(&outcome.functions)
            .map(|(n, f)| FunctionColdStarts {
                name: n.clone(),
                invocations: f.invocations,
                cold_starts: f.cold_starts,
            })
            .collect();
        top.sort_by(|a, b| {
            b.cold_starts
                .cmp(&a.cold_starts)
                .then(b.invocations.cmp(&a.invocations))
                .then(a.name.cmp(&b.name))
        });
        top.truncate(TOP_FUNCTIONS);
        if outcome.functions.len() < 2 {
            top.clear();
        }
        SimulatePage {
            subtitle: summary.run.trace.clone(),
            tables: tables(outcome, summary),
            timeline,
            latency,
            top_functions: top,
            notes,
            warnings: summary.warnings.clone(),
        }
    }

    /// The page's tables, notes and warnings, for the text exporters (`--format markdown`).
    pub fn page(&self) -> Page {
        Page {
            title: "faasplan simulate".into(),
            subtitle: self.subtitle.clone(),
            warnings: self.warnings.clone(),
            tables: self.tables.clone(),
            notes: self.notes.clone(),
        }
    }

    fn validate(&self) -> Result<(), ReportError> {
        let t = &self.timeline;
        let n = t.x.len();
        let series = [
            ("busy", &t.busy_mean),
            ("busy peak", &t.busy_peak),
            ("alive", &t.alive_mean),
            ("invocations", &t.invocations),
            ("cold starts", &t.cold_starts),
            ("throttled", &t.throttled),
            ("dead-lettered", &t.dead_lettered),
        ];
        check_finite("concurrency.png", "time", &t.x)?;
        for (what, s) in series {
            if s.len() != n {
                return Err(ReportError::chart(
                    "concurrency.png",
                    format!("{what}: {} values for {n} buckets", s.len()),
                ));
            }
            check_finite("concurrency.png", what, s)?;
        }
        match &t.provisioned {
            ProvisionedLine::Level { level, .. } => {
                check_finite("concurrency.png", "provisioned", level)?;
                if level.len() != n {
                    return Err(ReportError::chart(
                        "concurrency.png",
                        format!("provisioned: {} values for {n} buckets", level.len()),
                    ));
                }
            }
            ProvisionedLine::None => {}
        }
        for c in &self.latency {
            let xs: Vec<f64> = c.points.iter().flat_map(|&(x, y)| [x, y]).collect();
            check_finite("latency_cdf.png", &c.label, &xs)?;
            let ms: Vec<f64> = c.marks.iter().flat_map(|m| [m.1, m.2]).collect();
            check_finite("latency_cdf.png", &c.label, &ms)?;
            if c.points.iter().any(|&(x, _)| x < 0.0) {
                return Err(ReportError::chart(
                    "latency_cdf.png",
                    format!("{}: negative latency", c.label),
                ));
            }
        }
        Ok(())
    }
}

/// Writes the simulate report into `target`.
pub fn write(page: &SimulatePage, target: &ReportTarget) -> Result<Written, ReportError> {
    page.validate()?;
    let mut doc = Document::new("faasplan simulate", &page.subtitle);
    doc.warnings = page.warnings.clone();
    doc.heading("Charts");
    doc.chart("concurrency.png", "Instances over time", |a| {
        draw_concurrency(a, &page.timeline)
    });
    let per = page.timeline.bucket_label();
    doc.chart(
        "per_minute.png",
        format!("Requests, cold starts and throttles per {per}"),
        |a| draw_counts(a, &page.timeline),
    );
    doc.chart(
        "latency_cdf.png",
        "Latency CDF, warm and cold starts",
        |a| draw_cdf(a, &page.latency),
    );
    if !page.top_functions.is_empty() {
        doc.chart(
            "top_functions.png",
            "Functions with the most cold starts",
            |a| draw_top_functions(a, &page.top_functions),
        );
    }
    doc.heading("Summary");
    for t in &page.tables {
        doc.table(t.clone());
    }
    for n in &page.notes {
        doc.text(n.clone());
    }
    target.write(&doc)
}

// ---------------------------------------------------------------------------------------------
// Summary code: series and tables from the outcome.
