//! Break-even of a FaaS offering and a server fleet as traffic scales: the log-spaced factors,
//! each factor's point (costs, latencies, feasibility, the cheaper feasible side), where the cost
//! curves cross among feasible points, and the verdict in a sentence. Running the factors is the
//! caller's; this is the arithmetic on their results.

use serde::Serialize;

use crate::report::fmt::sig;

/// One traffic factor.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub k: f64,
    /// Mean request rate of the scaled trace over its window.
    pub requests_per_s: f64,
    pub faas_monthly_usd: f64,
    pub fleet_monthly_usd: f64,
    pub faas_p99_ms: f64,
    pub fleet_p99_ms: f64,
    /// Mean instances the fleet held (the count chosen for the SLO, for a fixed fleet).
    pub fleet_instances: f64,
    pub fleet_rejected: u64,
    pub faas_throttled: u64,
    /// p99 queue wait on the fleet, ms.
    pub fleet_queue_wait_p99_ms: f64,
    /// Mean vCPUs in use / vCPUs of the fleet's servers, 0..1 (with a CPU profile only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet_cpu_utilisation: Option<f64>,
    /// The FaaS offering meets every `--slo` objective.
    pub faas_feasible: bool,
    /// The fleet meets its SLO (the fleet SLO and every `--slo` objective).
    pub fleet_feasible: bool,
    /// The objectives each side misses, with their values.
    pub faas_failed: Vec<String>,
    pub fleet_failed: Vec<String>,
    /// The cheaper of the feasible options: `faas`, `fleet`, or `none` (neither is feasible).
    /// An infeasible option is never the cheaper one.
    pub cheaper: &'static str,
}

impl Point {
    pub fn both_feasible(&self) -> bool {
        self.faas_feasible && self.fleet_feasible
    }
}

/// The cheaper feasible side of a point.
pub fn cheaper(faas_usd: f64, faas_ok: bool, fleet_usd: f64, fleet_ok: bool) -> &'static str {
    match (faas_ok, fleet_ok) {
        (true, true) if fleet_usd < faas_usd => "fleet",
        (true, _) => "faas",
        (false, true) => "fleet",
        (false, false) => "none",
    }
}

/// Where the costs cross, interpolated linearly in log(k) on log(FaaS cost / fleet cost).
#[derive(Debug, Clone, Serialize)]
pub struct Crossing {
    pub k: f64,
    pub requests_per_s: f64,
    pub monthly_usd: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Breakeven {
    pub trace: String,
    pub offering: String,
    pub fleet: String,
    /// The SLO the fleet must meet at each factor (and is sized for, without a count).
    pub fleet_slo: Option<String>,
    /// The `--slo` objectives both options must meet.
    pub slo: Vec<String>,
    pub points: Vec<Point>,
    /// Where the costs cross between two factors at which both options are feasible.
    pub crossing: Option<Crossing>,
    /// The crossing, or what holds without one, and where an option is infeasible.
    pub verdict: String,
    /// How the numbers were made, once each (how durations relate to memory and CPU).
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// The factors: `n` log-spaced values from `lo` to `hi`.
pub fn factors(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![lo];
    }
    (0..n)
        .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (n - 1) as f64).exp())
        .collect()
}

/// The first crossing of the two cost curves between neighbouring factors at which both options
/// are feasible, if any: a cheaper price where an option misses its SLO is no break-even.
///
/// Between the two points it brackets, the cost difference is taken as linear in the factor:
/// exact whenever both costs are affine in the traffic (pay-per-use FaaS, a fixed fleet, a fleet
/// plus a load balancer whose LCUs grow with the requests), whatever the grid.
pub fn crossing(points: &[Point]) -> Option<Crossing> {
    let d = |p: &Point| p.faas_monthly_usd - p.fleet_monthly_usd;
    points.windows(2).find_map(|w| {
        let (a, b) = (&w[0], &w[1]);
        if !(a.both_feasible() && b.both_feasible()) {
            return None;
        }
        let (da, db) = (d(a), d(b));
        if !(da.is_finite() && db.is_finite()) || da.signum() == db.signum() && da != 0.0 {
            return None;
        }
        let t = if da == db { 0.0 } else { da / (da - db) };
        let lerp = |x: f64, y: f64| x + (y - x) * t;
        Some(Crossing {
            k: lerp(a.k, b.k),
            requests_per_s: lerp(a.requests_per_s, b.requests_per_s),
            monthly_usd: lerp(a.fleet_monthly_usd, b.fleet_monthly_usd),
        })
    })
}

/// The factor ranges (first, last k) over which one side misses its SLO: (side, lo, hi, the
/// objectives it misses at the first factor of the range).
pub fn infeasible_ranges(points: &[Point]) -> Vec<(&'static str, f64, f64, String)> {
    let mut out = Vec::new();
    for side in ["faas", "fleet"] {
        let bad = |p: &Point| {
            if side == "faas" {
                !p.faas_feasible
            } else {
                !p.fleet_feasible
            }
        };
        let mut i = 0;
        while i < points.len() {
            if !bad(&points[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i + 1 < points.len() && bad(&points[i + 1]) {
                i += 1;
            }
            let why = if side == "faas" {
                &points[start].faas_failed
            } else {
                &points[start].fleet_failed
            };
            out.push((side, points[start].k, points[i].k, why.join(", ")));
            i += 1;
        }
    }
    out
}

/// `k = 2` or `k = 2..20`.
pub fn k_range(lo: f64, hi: f64) -> String {
    if lo == hi {
        format!("k = {}", sig(lo))
    } else {
        format!("k = {}..{}", sig(lo), sig(hi))
    }
}

/// The answer in a sentence: the crossing among feasible points, or which feasible option is
/// cheaper, and where an option is infeasible.
pub fn verdict(points: &[Point], crossing: Option<&Crossing>) -> String {
    let mut v = match crossing {
        Some(c) => format!(
            "the monthly costs cross at k = {:.3} ({:.3} requests/s, ${:.2} a month)",
            c.k, c.requests_per_s, c.monthly_usd
        ),
        None if points.is_empty() => "no points".to_string(),
        None => {
            let both: Vec<&Point> = points.iter().filter(|p| p.both_feasible()).collect();
            let all = |side: &str| both.iter().all(|p| p.cheaper == side);
            if both.is_empty() {
                "the options are never both feasible: no break-even point".to_string()
            } else if all("faas") {
                "FaaS is cheaper wherever both options meet their SLO".to_string()
            } else if all("fleet") {
                "the fleet is cheaper wherever both options meet their SLO".to_string()
            } else {
                "the cheaper option changes only across factors where one misses its SLO"
                    .to_string()
            }
        }
    };
    for (side, lo, hi, _) in infeasible_ranges(points) {
        v.push_str(&format!(
            "; {} misses its SLO at {}",
            if side == "faas" { "FaaS" } else { "the fleet" },
            k_range(lo, hi)
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(k: f64, faas: f64, fleet: f64) -> Point {
        Point {
            k,
            requests_per_s: k,
            faas_monthly_usd: faas,
            fleet_monthly_usd: fleet,
            faas_p99_ms: 0.0,
            fleet_p99_ms: 0.0,
            fleet_instances: 1.0,
            fleet_rejected: 0,
            faas_throttled: 0,
            fleet_queue_wait_p99_ms: 0.0,
            fleet_cpu_utilisation: None,
            faas_feasible: true,
            fleet_feasible: true,
            faas_failed: vec![],
            fleet_failed: vec![],
            cheaper: cheaper(faas, true, fleet, true),
        }
    }

    #[test]
    fn crossing_of_affine_costs_is_exact_whatever_the_grid() {
        // FaaS cost 2k, fleet 50: they cross at k = 25.
        let pts: Vec<Point> = factors(1.0, 100.0, 5)
            .into_iter()
            .map(|k| p(k, 2.0 * k, 50.0))
            .collect();
        let c = crossing(&pts).unwrap();
        assert!((c.k - 25.0).abs() < 1e-9, "{c:?}");
        assert!((c.monthly_usd - 50.0).abs() < 1e-9);
        // A fleet whose cost grows with the traffic (a load balancer's LCUs): 40 + 0.4k
        // against 2k cross at k = 25 too.
        let pts: Vec<Point> = factors(1.0, 100.0, 4)
            .into_iter()
            .map(|k| p(k, 2.0 * k, 40.0 + 0.4 * k))
            .collect();
        let c = crossing(&pts).unwrap();
        assert!((c.k - 25.0).abs() < 1e-9, "{c:?}");
        assert!((c.monthly_usd - 50.0).abs() < 1e-9);
        let never: Vec<Point> = factors(1.0, 10.0, 3)
            .into_iter()
            .map(|k| p(k, k, 500.0))
            .collect();
        assert!(crossing(&never).is_none());
    }

    #[test]
    fn factors_are_log_spaced() {
        let f = factors(0.1, 100.0, 4);
        for (a, b) in f.iter().zip([0.1, 1.0, 10.0, 100.0]) {
            assert!((a - b).abs() < 1e-9 * b);
        }
    }
}
