//! The `simulate` summary: every reported number, with units in the field names. Built once from an
//! [`Outcome`]; the table, JSON and CSV writers only format it.

use serde::Serialize;

use crate::cost::Bill;
use crate::outcome::{FunctionStats, Latency, Mode, Outcome};
use crate::time::{Micros, us_to_ms, us_to_s};

#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Percentiles {
    /// Milliseconds, rounded to the microsecond.
    pub fn from_latency(l: &Latency) -> Percentiles {
        let ms = |us: Micros| us_to_ms(us);
        Percentiles {
            mean: round3(l.mean_us() / 1e3),
            p50: ms(l.quantile_us(0.50)),
            p90: ms(l.quantile_us(0.90)),
            p95: ms(l.quantile_us(0.95)),
            p99: ms(l.quantile_us(0.99)),
            p999: ms(l.quantile_us(0.999)),
            max: ms(l.quantile_us(1.0)),
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        round6(a as f64 / b as f64)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Concurrency {
    /// Peak number of instances serving at least one request.
    pub peak_busy: u32,
    /// Time-weighted means over the window.
    pub mean_busy: f64,
    pub mean_alive: f64,
    /// Peak instances counted against the account limit (busy or initializing on-demand, plus
    /// provisioned).
    pub peak_account_usage: u64,
}

/// Instance-time by kind, seconds.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceSeconds {
    pub on_demand_busy: f64,
    pub on_demand_idle: f64,
    pub on_demand_init: f64,
    pub provisioned_busy: f64,
    pub provisioned_idle: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FunctionSummary {
    pub name: String,
    pub invocations: u64,
    pub warm_starts: u64,
    pub cold_starts: u64,
    pub throttled: u64,
    pub dead_lettered: u64,
    pub cold_start_ratio: f64,
    pub throttle_ratio: f64,
    pub instances_started: u64,
    pub peak_busy: u32,
    pub mean_busy: f64,
}

/// The options a run used, echoed so that every number traces back to a command.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub trace: String,
    pub trace_rows: u64,
    pub rows_skipped: u64,
    pub sorted_on_read: bool,
    /// `--memory-mb`: the size of rows without `memory_mb`.
    pub memory_mb: u16,
    /// The memory sizes the run used (from the trace, or `memory_mb`).
    pub memory_sizes_mb: Vec<u16>,
    pub per_instance_concurrency: u32,
    /// The fixed provisioned level per function, or the most a plan holds.
    pub provisioned: u32,
    /// `--provisioned-schedule` or `--provisioned-target`, described; `None` for a fixed level.
    pub provisioned_plan: Option<String>,
    pub keep_alive: String,
    pub max_lifetime_s: Option<f64>,
    pub max_concurrency: Option<u32>,
    pub account_concurrency: Option<u32>,
    pub scaling_rate: Option<String>,
    pub init: String,
    pub horizon_s: Option<f64>,
    /// `--warmup`: `none`, `cyclic` or `first DURATION`.
    pub warmup: String,
    /// The function timeout, seconds (`None`: no timeout).
    pub timeout_s: Option<f64>,
    pub seed: u64,
    pub mode: Mode,
    pub excluded_after_horizon: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub run: RunInfo,
    pub window_s: f64,
    pub invocations: u64,
    pub warm_starts: u64,
    pub cold_starts: u64,
    pub throttled: u64,
    pub dead_lettered: u64,
    /// Served requests cut at the function timeout (billed up to it; errors for sync requests).
    pub timed_out: u64,
    /// Served requests that started after they arrived (queue wait, retries, joined inits).
    pub waited: u64,
    pub retries: u64,
    pub instances_started: u64,
    /// cold_starts / invocations.
    pub cold_start_ratio: f64,
    /// throttled / invocations.
    pub throttle_ratio: f64,
    /// Throttled + dead-lettered requests by the limit that refused their last attempt.
    pub refused_by: RefusedBy,
    /// End-to-end latency of served requests (queue wait + init + duration), milliseconds.
    pub latency_ms: Percentiles,
    /// Init wait of cold-started requests, milliseconds.
    pub init_ms: Percentiles,
    pub concurrency: Concurrency,
    pub instance_seconds: InstanceSeconds,
    /// CPU utilisation of the instances while they served, with a CPU profile (`--cpu-bound`);
    /// absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<crate::engine::CpuUse>,
    /// Memory-time of on-demand instances loaded but not executing (idle, and pre-warmed ones
    /// from their start), GB-seconds (GB = 1,024 MB): "Serverless in the Wild"'s wasted memory
    /// time.
    pub wasted_memory_gb_s: f64,
    /// The 75th percentile, over applications with invocations, of each one's cold starts per
    /// invocation, percent (0 to 100).
    pub app_cold_start_pct_p75: f64,
    /// What the keep-alive policy did.
    pub keep_alive: KeepAliveSummary,
    pub functions: Vec<FunctionSummary>,
    /// What the warm-up replayed and left out (times in seconds).
    pub warmup: WarmupSummary,
    /// Assumptions that shaped the numbers, one sentence each (e.g. how durations relate to CPU).
    pub notes: Vec<String>,
    /// The bill, when the run was priced on an offering (`--offering`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Bill>,
    /// What to know before acting on these numbers, each naming the flag that changes it.
    pub warnings: Vec<String>,
}

/// The keep-alive policy's work over the measured window.
#[derive(Debug, Clone, Serialize)]
pub struct KeepAliveSummary {
    /// Applications (an application is its own function unless the trace has an `app` column).
    pub apps: u64,
    /// Pre-warms started.
    pub prewarms: u64,
    /// Decisions (one per instance going idle) by the rule that made them.
    pub decisions: Decisions,
}

/// Keep-alive decisions by rule (`engine::keepalive::MODE_NAMES`).
#[derive(Debug, Clone, Serialize)]
pub struct Decisions {
    /// A fixed window (`fixed`, `none`).
    pub fixed: u64,
    /// The hybrid policy's histogram.
    pub histogram: u64,
    /// The hybrid policy's standard keep-alive of its whole range (histogram not representative).
    pub fallback_standard_keep_alive: u64,
    /// The hybrid policy's forecaster: the mean of the last 5 idle times.
    pub forecast_mean_of_last_5_idle_times: u64,
    /// A lifetime drawn from a measured distribution (`lambda-observed`).
    pub observed_lifetime: u64,
}

impl Decisions {
    /// (name, count) of the rules used, in `MODE_NAMES` order.
    pub fn used(&self) -> Vec<(&'static str, u64)> {
        let counts = [
            self.fixed,
            self.histogram,
            self.fallback_standard_keep_alive,
            self.forecast_mean_of_last_5_idle_times,
            self.observed_lifetime,
        ];
        crate::engine::keepalive::MODE_NAMES
            .iter()
            .copied()
            .zip(counts)
            .filter(|&(_, n)| n > 0)
            .collect()
    }
}

/// Requests throttled or dead-lettered, by the limit that refused their last attempt.
#[derive(Debug, Clone, Serialize)]
pub struct RefusedBy {
    pub account_limit: u64,
    pub function_limit: u64,
    pub scaling_rate: u64,
}

/// The warm-up's part of the run, which no other number includes.
#[derive(Debug, Clone, Serialize)]
pub struct WarmupSummary {
    /// `none`, `cyclic` or `first DURATION`.
    pub kind: String,
    /// Trace time replayed before the start (cyclic), seconds.
    pub replayed_s: f64,
    /// Where the measured window starts in the trace's clock, seconds.
    pub measured_from_s: f64,
    /// Arrivals simulated during the warm-up and not counted.
    pub invocations: u64,
    /// Cold starts among them.
    pub cold_starts: u64,
}

fn function_summary(name: &str, s: &FunctionStats, window_us: Micros) -> FunctionSummary {
    FunctionSummary {
        name: name.to_string(),
        invocations: s.invocations,
        warm_starts: s.warm_starts,
        cold_starts: s.cold_starts,
        throttled: s.throttled,
        dead_lettered: s.dead_lettered,
        cold_start_ratio: ratio(s.cold_starts, s.invocations),
        throttle_ratio: ratio(s.throttled, s.invocations),
        instances_started: s.instances_started,
        peak_busy: s.peak_busy,
        mean_busy: round6(s.busy_integral_us as f64 / window_us.max(1) as f64),
    }
}

impl Summary {
    /// The summary without its per-function list, for outputs that leave lists out (a CSV row,
    /// a sweep's metrics): copying the rest is cheap, where a value of every function took
    /// ~1.3 KB each (issue 14, D10). Every field is named, so a new one cannot be forgotten.
    pub fn without_functions(&self) -> Summary {
        Summary {
            run: self.run.clone(),
            window_s: self.window_s,
            invocations: self.invocations,
            warm_starts: self.warm_starts,
            cold_starts: self.cold_starts,
            throttled: self.throttled,
            dead_lettered: self.dead_lettered,
            timed_out: self.timed_out,
            waited: self.waited,
            retries: self.retries,
            instances_started: self.instances_started,
            cold_start_ratio: self.cold_start_ratio,
            throttle_ratio: self.throttle_ratio,
            refused_by: self.refused_by.clone(),
            latency_ms: self.latency_ms.clone(),
            init_ms: self.init_ms.clone(),
            concurrency: self.concurrency.clone(),
            instance_seconds: self.instance_seconds.clone(),
            cpu: self.cpu.clone(),
            wasted_memory_gb_s: self.wasted_memory_gb_s,
            app_cold_start_pct_p75: self.app_cold_start_pct_p75,
            keep_alive: self.keep_alive.clone(),
            functions: Vec::new(),
            warmup: self.warmup.clone(),
            notes: self.notes.clone(),
            cost: self.cost.clone(),
            warnings: self.warnings.clone(),
        }
    }

    pub fn new(outcome: &Outcome, run: RunInfo) -> Summary {
        let t = &outcome.totals;
        let w = outcome.window_us.max(1);
        Summary {
            run,
            window_s: us_to_s(outcome.window_us),
            invocations: t.invocations,
            warm_starts: t.warm_starts,
            cold_starts: t.cold_starts,
            throttled: t.throttled,
            dead_lettered: t.dead_lettered,
            timed_out: t.timed_out,
            waited: t.waited,
            retries: t.retries,
            instances_started: t.instances_started,
            cold_start_ratio: ratio(t.cold_starts, t.invocations),
            throttle_ratio: ratio(t.throttled, t.invocations),
            refused_by: {
                let r = crate::warnings::RefusedBy::of(outcome);
                RefusedBy {
                    account_limit: r.account,
                    function_limit: r.function,
                    scaling_rate: r.scaling_rate,
                }
            },
            latency_ms: Percentiles::from_latency(&outcome.latency),
            init_ms: Percentiles::from_latency(&outcome.init),
            concurrency: Concurrency {
                peak_busy: t.peak_busy,
                mean_busy: round6(t.busy_integral_us as f64 / w as f64),
                mean_alive: round6(outcome.alive_integral_us as f64 / w as f64),
                peak_account_usage: outcome.peak_account_usage,
            },
            instance_seconds: InstanceSeconds {
                on_demand_busy: round6(us_to_s(t.on_demand_busy_us)),
                on_demand_idle: round6(us_to_s(t.on_demand_idle_us)),
                on_demand_init: round6(us_to_s(t.on_demand_init_us)),
                provisioned_busy: round6(us_to_s(t.provisioned_busy_us)),
                provisioned_idle: round6(us_to_s(t.provisioned_idle_us)),
            },
            cpu: None,
            wasted_memory_gb_s: round6(t.idle_mb_us as f64 / 1024.0 / 1e6),
            app_cold_start_pct_p75: round6(outcome.app_cold_start_pct_p75()),
            keep_alive: KeepAliveSummary {
                apps: outcome.app_stats().loaded_mb_us.len() as u64,
                prewarms: t.prewarms,
                decisions: {
                    let [fixed, histogram, fallback, forecast, observed] = t.keep_alive_decisions;
                    Decisions {
                        fixed,
                        histogram,
                        fallback_standard_keep_alive: fallback,
                        forecast_mean_of_last_5_idle_times: forecast,
                        observed_lifetime: observed,
                    }
                },
            },
            functions: outcome
                .names
                .iter()
                .zip(&outcome.functions)
                .map(|(n, s)| function_summary(n, s, outcome.window_us))
                .collect(),
            notes: Vec::new(),
            warmup: WarmupSummary {
                kind: outcome.warmup.kind.clone(),
                replayed_s: us_to_s(outcome.warmup.replayed_us),
                measured_from_s: us_to_s(outcome.warmup.measured_from_us),
                invocations: outcome.warmup.invocations,
                cold_starts: outcome.warmup.cold_starts,
            },
            cost: None,
            warnings: Vec::new(),
        }
    }

    /// Sets the warnings (rendered) that travel with this summary.
    pub fn with_warnings(mut self, ws: &[crate::warnings::Warning]) -> Summary {
        self.warnings = crate::warnings::render(ws);
        self
    }
}
