//! Warm-up: what the engine replays before it starts to measure (see [`Warmup`]).
//!
//! A replay starts with no instances, so its first minutes see cold starts that the same traffic
//! would not cause in steady state. `cyclic` replays the end of the trace first, shifted to just
//! before its start, so that the instances alive at t = 0 are those the previous period would have
//! left; `DURATION` measures only after the first DURATION. Either way the engine runs on its own
//! clock, in which the trace's t = 0 is `offset`, and counts only what arrives at or after `lo`.

use super::{PlatformConfig, Warmup};
use crate::time::{MINUTE, Micros, ceil_minute};
use crate::trace::Invocation;

/// The engine's clock for one run.
#[derive(Debug, Clone, Default)]
pub(crate) struct WarmPlan {
    /// Rows replayed before the trace, per function, already on the engine's clock, in
    /// `[0, offset)` (cyclic); empty otherwise.
    pub prefix: Vec<Vec<Invocation>>,
    /// Engine time of the trace's t = 0.
    pub offset: Micros,
    /// Engine time from which arrivals are counted, latencies recorded and time billed; a whole
    /// minute.
    pub lo: Micros,
    /// Trace time replayed before t = 0 (cyclic), microseconds.
    pub replayed: Micros,
}

impl WarmPlan {
    /// The plan for `cfg.warmup` over the per-function rows the run replays (already cut at the
    /// horizon).
    pub fn new(cfg: &PlatformConfig, slices: &[&[Invocation]]) -> WarmPlan {
        let none = WarmPlan {
            prefix: vec![Vec::new(); slices.len()],
            ..WarmPlan::default()
        };
        match cfg.warmup {
            Warmup::None => none,
            Warmup::For(d) => WarmPlan { lo: d, ..none },
            Warmup::Cyclic => {
                let (period, w) = cyclic_span(cfg.keep_alive.longest(), cfg.horizon, slices);
                WarmPlan::cyclic(period, w, slices)
            }
        }
    }

    /// The cyclic plan that replays `[period - w, period)` of `slices` first. `slices` need only
    /// hold every row from `period - w` on (a streaming reader passes the file's tail).
    pub fn cyclic(period: Micros, w: Micros, slices: &[&[Invocation]]) -> WarmPlan {
        if w == 0 {
            return WarmPlan {
                prefix: vec![Vec::new(); slices.len()],
                ..WarmPlan::default()
            };
        }
        let from = period - w;
        let prefix = slices
            .iter()
            .map(|rows| {
                let a = rows.partition_point(|i| i.arrival < from);
                let b = rows.partition_point(|i| i.arrival < period);
                rows[a..b]
                    .iter()
                    .map(|i| Invocation {
                        arrival: i.arrival - from,
                        ..*i
                    })
                    .collect()
            })
            .collect();
        WarmPlan {
            prefix,
            offset: w,
            lo: w,
            replayed: w,
        }
    }

    /// The engine-time horizon for a trace-time one.
    pub fn horizon(&self, horizon: Option<Micros>) -> Option<Micros> {
        horizon.map(|h| h + self.offset)
    }
}

/// The trace's period and how much of its end `cyclic` replays first, microseconds, both whole
/// minutes.
///
/// The period is the horizon, or the trace's span rounded up to whole minutes. The replay starts at
/// the earliest request that could still hold an instance at the end of the period (its arrival
/// plus its duration plus the keep-alive `reach` passes the end), and covers at least the
/// keep-alive; it is at most the whole period.
pub fn cyclic_span(
    reach: Micros,
    horizon: Option<Micros>,
    slices: &[&[Invocation]],
) -> (Micros, Micros) {
    let last = slices
        .iter()
        .filter_map(|rows| rows.last())
        .map(|i| i.arrival)
        .max();
    let Some(last) = last else {
        return (0, 0);
    };
    let period = horizon.unwrap_or_else(|| ceil_minute(last + 1));
    let earliest = slices
        .iter()
        .flat_map(|rows| rows.iter())
        .filter(|i| i.arrival.saturating_add(i.duration).saturating_add(reach) > period)
        .map(|i| i.arrival)
        .min()
        .unwrap_or(period);
    let w = ceil_minute(reach)
        .max(MINUTE)
        .max(ceil_minute(period - earliest.min(period)));
    (period, w.min(period))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;
    use crate::trace::Trigger;

    fn inv(at_s: u64, d_s: u64) -> Invocation {
        Invocation {
            arrival: at_s * SECOND,
            duration: d_s * SECOND,
            function: 0,
            memory_mb: 0,
            trigger: Trigger::Sync,
        }
    }

    #[test]
    fn the_replay_covers_the_keep_alive_and_the_longest_replayed_request() {
        // A 60-minute trace; keep-alive 10 min; 1 s requests every 10 s: the first request that
        // can hold an instance past 60:00 arrives at 50:00 (50:00 + 1 s + 10 min > 60:00).
        let rows: Vec<Invocation> = (0..3600).step_by(10).map(|t| inv(t, 1)).collect();
        assert_eq!(
            cyclic_span(600 * SECOND, None, &[&rows]),
            (60 * MINUTE, 10 * MINUTE)
        );
        // A 5-minute request at 48:00 ends at 53:00 and keeps an instance warm until 63:00, past
        // the end: the replay starts at 48:00 (12 minutes).
        let mut long = rows.clone();
        long.push(inv(48 * 60, 300));
        long.sort_by_key(|i| i.arrival);
        assert_eq!(cyclic_span(600 * SECOND, None, &[&long]).1, 12 * MINUTE);
        // One that ends in time to be reclaimed before the end does not widen it.
        let mut early = rows.clone();
        early.push(inv(40 * 60, 300));
        early.sort_by_key(|i| i.arrival);
        assert_eq!(cyclic_span(600 * SECOND, None, &[&early]).1, 10 * MINUTE);
        // Never more than the period; a horizon sets the period.
        assert_eq!(
            cyclic_span(7_200 * SECOND, None, &[&rows]),
            (60 * MINUTE, 60 * MINUTE)
        );
        assert_eq!(
            cyclic_span(600 * SECOND, Some(30 * MINUTE), &[&rows[..180]]),
            (30 * MINUTE, 10 * MINUTE)
        );
        assert_eq!(cyclic_span(600 * SECOND, None, &[&[]]), (0, 0));
    }
}
