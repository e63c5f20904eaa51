//! `--per-minute FILE`: the run as a per-minute CSV series.

use std::io::Write;

use crate::outcome::Outcome;
use crate::time::MINUTE;

pub const HEADER: &str = "minute,invocations,cold_starts,throttles,dead_lettered,peak_busy,mean_busy,mean_alive,mean_provisioned,timed_out";

/// One row per minute of the measured window; `minute` counts from the trace's start (after a
/// `--warmup DURATION` the first row is the first minute after it). `mean_*` are time-weighted over the minute (the last minute
/// may be partial when a horizon cuts it; the mean is over its covered part).
pub fn write(w: &mut dyn Write, outcome: &Outcome) -> std::io::Result<()> {
    writeln!(w, "{HEADER}")?;
    let first = outcome.first_minute();
    for (m, row) in outcome.minutes.iter().enumerate() {
        let start = m as u64 * MINUTE;
        let len = outcome.window_us.saturating_sub(start).clamp(1, MINUTE) as f64;
        writeln!(
            w,
            "{},{},{},{},{},{},{:.4},{:.4},{:.4},{}",
            first + m as u64,
            row.invocations,
            row.cold_starts,
            row.throttled,
            row.dead_lettered,
            row.peak_busy,
            row.busy_us as f64 / len,
            row.alive_us as f64 / len,
            row.provisioned_us as f64 / len,
            row.timed_out
        )?;
    }
    Ok(())
}
