//! The Power Tuning view of a memory sweep: cost per invocation and p99 latency against memory,
//! with the cheapest, the fastest and a "balanced" size marked, as AWS Lambda Power Tuning marks
//! them, beside the size the SLO search picks. Computed from the grid's estimates only; which
//! point is which is decided here, not in the report.

use serde::Serialize;

use super::{Metric, PointResult};

/// The column of a grid point's bill per invocation, USD: the window's bill (every line:
/// requests, duration, init, provisioned) over the invocations it served and refused.
pub const COST_PER_INVOCATION: &str = "cost_per_invocation_usd";

/// The weight of cost in the balanced score (Power Tuning's default `balancedWeight`).
pub const BALANCED_WEIGHT: f64 = 0.5;

/// A point's (cost, p99) to a sort key.
type Key<'a> = dyn Fn(&(f64, f64)) -> (f64, f64) + 'a;

/// The memory sizes worth naming, as indices into the sweep's grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryView {
    /// The lowest mean cost per invocation (ties: the lower p99, then the earlier point).
    pub cheapest: usize,
    /// The lowest mean p99 latency (ties: the cheaper, then the earlier point).
    pub fastest: usize,
    /// The lowest `w × cost / max cost + (1 − w) × p99 / max p99` over the grid, with
    /// `w = balanced_weight`: Power Tuning's "balanced" strategy, on p99 rather than the mean
    /// duration because p99 is what the sweep charts and SLOs bound.
    pub balanced: usize,
    pub balanced_weight: f64,
    /// The size the SLO search picks (the sweep's `recommended`), if any.
    pub slo_pick: Option<usize>,
}

impl MemoryView {
    /// The view of `rows`, each with [`COST_PER_INVOCATION`] and p99; `None` when a row lacks
    /// either or there are no rows.
    pub fn of(rows: &[PointResult], slo_pick: Option<usize>) -> Option<MemoryView> {
        let p99 = Metric::LatencyP99.column();
        let pts: Vec<(f64, f64)> = rows
            .iter()
            .map(|r| Some((r.metric(COST_PER_INVOCATION)?.mean, r.metric(p99)?.mean)))
            .collect::<Option<_>>()?;
        if pts.is_empty() || pts.iter().any(|(c, l)| !(c.is_finite() && l.is_finite())) {
            return None;
        }
        // The index with the smallest key (first, then second component); ties: the earlier.
        let best = |key: &Key<'_>| -> usize {
            let mut best = 0;
            for i in 1..pts.len() {
                let (a, b) = (key(&pts[i]), key(&pts[best]));
                if a.0 < b.0 || (a.0 == b.0 && a.1 < b.1) {
                    best = i;
                }
            }
            best
        };
        let max_cost = pts.iter().map(|p| p.0).fold(0.0, f64::max);
        let max_p99 = pts.iter().map(|p| p.1).fold(0.0, f64::max);
        let norm = |x: f64, max: f64| if max > 0.0 { x / max } else { 0.0 };
        let w = BALANCED_WEIGHT;
        Some(MemoryView {
            cheapest: best(&|p| (p.0, p.1)),
            fastest: best(&|p| (p.1, p.0)),
            balanced: best(&|p| {
                (
                    w * norm(p.0, max_cost) + (1.0 - w) * norm(p.1, max_p99),
                    0.0,
                )
            }),
            balanced_weight: w,
            slo_pick,
        })
    }

    /// The points it names, each with its role, for marks and notes.
    pub fn roles(&self) -> Vec<(usize, &'static str)> {
        let mut v = vec![
            (self.cheapest, "cheapest"),
            (self.fastest, "fastest"),
            (self.balanced, "balanced"),
        ];
        if let Some(i) = self.slo_pick {
            v.push((i, "SLO pick"));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::Estimate;

    fn row(mb: f64, cost: f64, p99: f64) -> PointResult {
        PointResult {
            settings: vec![("memory_mb".into(), mb)],
            keep_alive_policy: None,
            replicas: 1,
            metrics: vec![
                (COST_PER_INVOCATION.into(), Estimate::of(&[cost])),
                ("latency_ms_p99".into(), Estimate::of(&[p99])),
            ],
        }
    }

    #[test]
    fn cheapest_fastest_and_balanced_by_hand() {
        // Cost flat then rising, p99 falling then flat: the classic CPU-bound curve.
        let rows = vec![
            row(128.0, 10.0, 1000.0),
            row(512.0, 10.0, 250.0),
            row(1024.0, 12.0, 125.0),
            row(3008.0, 30.0, 120.0),
        ];
        let v = MemoryView::of(&rows, Some(1)).unwrap();
        // Equal cost at 128 and 512: the faster wins.
        assert_eq!(v.cheapest, 1);
        assert_eq!(v.fastest, 3);
        // Scores: 0.5×(10/30) + 0.5×(1000/1000) = 0.667; 0.5×(10/30) + 0.5×(0.25) = 0.292;
        // 0.5×(12/30) + 0.5×(0.125) = 0.2625; 0.5 + 0.06 = 0.56.
        assert_eq!(v.balanced, 2);
        assert_eq!(
            v.roles(),
            vec![
                (1, "cheapest"),
                (3, "fastest"),
                (2, "balanced"),
                (1, "SLO pick")
            ]
        );
        // A row without the column: no view.
        let mut bare = rows.clone();
        bare[0].metrics.remove(0);
        assert!(MemoryView::of(&bare, None).is_none());
    }
}
