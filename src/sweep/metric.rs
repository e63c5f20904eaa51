//! The metrics a sweep names: one list ([`METRICS`]) drives the SLO parser and `--help`, the
//! table's columns and the report's charts. Each metric reads its value from the typed
//! [`Summary`], so renaming a summary field is a compile error here rather than a silently
//! renamed SLO; a test checks that each metric's column is the one `--format csv` prints.

use serde::Serialize;

use super::BoundUnit;
use crate::export::summary::Summary;

/// A metric of one run that a sweep reports, an SLO bounds or a chart draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    LatencyMean,
    LatencyP50,
    LatencyP90,
    LatencyP95,
    LatencyP99,
    LatencyP999,
    LatencyMax,
    ColdStartRatio,
    ThrottleRatio,
    CostMonthly,
    ProvisionedIdleSeconds,
    WastedMemory,
    AppColdStartP75,
}

/// How one metric is named and shown.
#[derive(Debug, Clone, Copy)]
pub struct MetricInfo {
    pub metric: Metric,
    /// Its column in the summary's CSV and in the sweep's results, e.g. `latency_ms_p99`.
    pub column: &'static str,
    /// The names an SLO may use for it, the first the canonical one (empty: no SLO by a short
    /// name; the column still works).
    pub slo_names: &'static [&'static str],
    /// The sweep table's column (position, label), if the table shows it.
    pub table: Option<(u8, &'static str)>,
    /// The chart's axis label with its unit, and a short name for legends.
    pub chart_label: &'static str,
    pub chart_short: &'static str,
    /// Column unit → display unit (100 for a ratio shown in percent).
    pub scale: f64,
}

/// Every named metric, in the order `--help` lists their SLO names.
pub const METRICS: &[MetricInfo] = &[
    MetricInfo {
        metric: Metric::LatencyMean,
        column: "latency_ms_mean",
        slo_names: &["mean"],
        table: None,
        chart_label: "mean latency (ms)",
        chart_short: "mean latency",
        scale: 1.0,
    },
    MetricInfo {
        metric: Metric::LatencyP50,
        column: "latency_ms_p50",
        slo_names: &["p50"],
        table: None,
        chart_label: "p50 latency (ms)",
        chart_short: "p50 latency",
        scale: 1.0,
    },
    MetricInfo {
        metric: Metric::LatencyP90,
        column: "latency_ms_p90",
        slo_names: &["p90"],
        table: None,
        chart_label: "p90 latency (ms)",
        chart_short: "p90 latency",
        scale: 1.0,
    },
    MetricInfo {
        metric: Metric::LatencyP95,
        column: "latency_ms_p95",
        slo_names: &["p95"],
        table: None,
        chart_label: "p95 latency (ms)",
        chart_short: "p95 latency",
        scale: 1.0,
    },
    MetricInfo {
        metric: Metric::LatencyP99,
        column: "latency_ms_p99",
        slo_names: &["p99"],
        table: Some((2, "p99 ms")),
        chart_label: "p99 latency (ms)",
        chart_short: "p99 latency",
        scale: 1.0,
    },
    MetricInfo {
        metric: Metric::LatencyP999,
        column: "latency_ms_p999",
        slo_names: &["p99.9", "p999"],
        table: None,
        chart_label: "p99.9 latency (ms)",
        chart_short: "p99.9 latency",
        scale: 1.0,
    },
    MetricInfo {
        metric: Metric::LatencyMax,
        column: "latency_ms_max",
        slo_names: &["max"],
        table: None,
        chart_label: "max latency (ms)",
        chart_short: "max latency",
        scale: 1.0,
    },
    MetricInfo {
        metric: Metric::ColdStartRatio,
        column: "cold_start_ratio",
        slo_names: &["cold_start_ratio"],
        table: Some((1, "cold %")),
        chart_label: "cold-start ratio (%)",
        chart_short: "cold-start ratio",
        scale: 100.0,
    },
    MetricInfo {
        metric: Metric::ThrottleRatio,
        column: "throttle_ratio",
        slo_names: &["throttle_ratio"],
        table: Some((3, "throttled %")),
        chart_label: "throttled (%)",
        chart_short: "throttled",
        scale: 100.0,
    },
    MetricInfo {
        metric: Metric::CostMonthly,
        column: "cost_monthly_usd",
        slo_names: &["cost", "monthly_usd"],
        table: Some((0, "monthly $")),
        chart_label: "monthly cost (USD)",
        chart_short: "monthly cost",
        scale: 1.0,
    },
    MetricInfo {
        metric: Metric::ProvisionedIdleSeconds,
        column: "instance_seconds_provisioned_idle",
        slo_names: &[],
        table: Some((4, "PC idle s")),
        chart_label: "instance_seconds_provisioned_idle",
        chart_short: "instance_seconds_provisioned_idle",
        scale: 1.0,
    },
    MetricInfo {
        metric: Metric::WastedMemory,
        column: "wasted_memory_gb_s",
        slo_names: &[],
        table: None,
        chart_label: "wasted memory (GB-s, loaded but not executing)",
        chart_short: "wasted memory",
        scale: 1.0,
    },
    MetricInfo {
        metric: Metric::AppColdStartP75,
        column: "app_cold_start_pct_p75",
        slo_names: &[],
        table: None,
        chart_label: "3rd-quartile app cold-start (%)",
        chart_short: "p75 app cold-start %",
        scale: 1.0,
    },
];

impl Metric {
    pub fn info(self) -> &'static MetricInfo {
        // Every variant has a row (tested); the fallback is never taken.
        METRICS
            .iter()
            .find(|i| i.metric == self)
            .unwrap_or(&METRICS[0])
    }

    /// Its column in the summary's CSV and the sweep's results.
    pub fn column(self) -> &'static str {
        self.info().column
    }

    /// The metric a column holds, if it is a named one.
    pub fn of_column(column: &str) -> Option<Metric> {
        METRICS
            .iter()
            .find(|i| i.column == column)
            .map(|i| i.metric)
    }

    /// The metric an SLO names by its short name.
    pub fn of_slo_name(name: &str) -> Option<Metric> {
        METRICS
            .iter()
            .find(|i| i.slo_names.contains(&name))
            .map(|i| i.metric)
    }

    /// How an SLO's bound on it is written.
    pub fn unit(self) -> BoundUnit {
        BoundUnit::of_column(self.column())
    }

    /// Its value in a run's summary (`None`: the run was not billed, for cost).
    pub fn value(self, s: &Summary) -> Option<f64> {
        Some(match self {
            Metric::LatencyMean => s.latency_ms.mean,
            Metric::LatencyP50 => s.latency_ms.p50,
            Metric::LatencyP90 => s.latency_ms.p90,
            Metric::LatencyP95 => s.latency_ms.p95,
            Metric::LatencyP99 => s.latency_ms.p99,
            Metric::LatencyP999 => s.latency_ms.p999,
            Metric::LatencyMax => s.latency_ms.max,
            Metric::ColdStartRatio => s.cold_start_ratio,
            Metric::ThrottleRatio => s.throttle_ratio,
            Metric::CostMonthly => s.cost.as_ref()?.monthly_usd,
            Metric::ProvisionedIdleSeconds => s.instance_seconds.provisioned_idle,
            Metric::WastedMemory => s.wasted_memory_gb_s,
            Metric::AppColdStartP75 => s.app_cold_start_pct_p75,
        })
    }
}

/// The metrics the sweep table shows, in order, with their labels.
pub fn table_metrics() -> Vec<(Metric, &'static str)> {
    let mut t: Vec<(u8, Metric, &str)> = METRICS
        .iter()
        .filter_map(|i| i.table.map(|(pos, l)| (pos, i.metric, l)))
        .collect();
    t.sort_by_key(|(pos, _, _)| *pos);
    t.into_iter().map(|(_, m, l)| (m, l)).collect()
}

/// The SLO short names of one bound unit, in list order.
pub fn slo_names(unit: BoundUnit) -> Vec<&'static str> {
    METRICS
        .iter()
        .filter(|i| i.metric.unit() == unit)
        .flat_map(|i| i.slo_names.iter().copied())
        .collect()
}

/// Every numeric column of a run's summary (as `simulate --format csv` names them, without the
/// `run_*` echo of the options): what a sweep point reports and any `--slo` may bound. The named
/// metrics are among them under [`Metric::column`].
pub fn summary_metrics(summary: &Summary) -> Vec<(String, f64)> {
    crate::export::csv::columns(summary)
        .into_iter()
        .filter(|(c, _)| !c.starts_with("run_"))
        .filter_map(|(c, v)| v.parse::<f64>().ok().map(|v| (c, v)))
        .collect()
}
