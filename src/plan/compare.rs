//! `compare`'s options side by side: a FaaS offering's run or a server fleet's, the numbers
//! every option has (one table row), and the recommendation: the cheapest option that meets its
//! SLO (an infeasible option is never called cheaper).

use serde::Serialize;

use crate::export::summary::Summary;
use crate::plan::fleet::FleetSummary;
use crate::servers::MONTH_HOURS;

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
    /// How the numbers were made, once each (how durations relate to memory and CPU).
    pub notes: Vec<String>,
    /// Every warning: the options' own (prefixed with their name) and the comparison's.
    pub warnings: Vec<String>,
}
