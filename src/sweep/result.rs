//! A sweep's result: every grid point's estimates, the recommendation and the Pareto fronts, as
//! every exporter and the report see it.

use serde::Serialize;

use super::memory::MemoryView;
use super::{Interval, PointResult, Slo};

/// How replicas are resampled, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ResampleInfo {
    pub method: &'static str,
    /// Seconds.
    pub block_s: f64,
    /// Blocks in the trace, a partial last one included.
    pub blocks: u64,
    /// The partial last block's length, seconds (0: the trace is whole blocks).
    pub partial_block_s: f64,
}

/// The sweep's result, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct SweepResult {
    pub trace: String,
    pub offering: String,
    pub replicas: usize,
    pub seed: u64,
    /// `None`: every replica replays the trace as read.
    pub resample: Option<ResampleInfo>,
    /// What each metric's `ci_low`..`ci_high` is: `mean` (95 % CI of the mean over replicas) or
    /// `prediction` (95 % prediction interval of one more replica, with `--resample`).
    pub interval: Interval,
    pub slos: Vec<Slo>,
    pub grid: Vec<PointResult>,
    /// Index into `grid` of the cheapest point meeting every SLO (`None`: none does, or no SLO).
    pub recommended: Option<usize>,
    /// Pareto fronts (indices into `grid`, by increasing cost).
    pub pareto_cost_p99: Vec<usize>,
    pub pareto_cost_cold_start_ratio: Vec<usize>,
    /// With a memory axis: the cheapest, fastest and balanced sizes and the SLO pick (each
    /// point then also has `cost_per_invocation_usd`). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryView>,
    /// How the numbers were made, once each: how durations relate to memory and CPU.
    pub notes: Vec<String>,
    /// What to know before acting on the grid, each naming the flag that changes it.
    pub warnings: Vec<String>,
}
