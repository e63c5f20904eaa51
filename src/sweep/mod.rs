//! Comparing provisioned-concurrency settings: the grid, replicas with Student-t confidence
//! intervals, the SLO search and the Pareto front. This module knows nothing about how a point is
//! evaluated: `run` takes a closure that simulates and bills one (point, replica) and returns its
//! metrics, and runs the grid in parallel with rayon, collecting in grid order so the output does
//! not depend on the thread count.

use rayon::prelude::*;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::ConfigError;

/// A list of whole numbers: `a..=b:step`, `a..=b` (step 1), single values, or any of these
/// separated by commas (`0..=20:5,50,100`). Sorted, without repeats.
pub fn parse_u32_list(flag: &'static str, s: &str) -> Result<Vec<u32>, ConfigError> {
    let bad = |why: String| ConfigError::invalid(flag, format!("{s:?}: {why}"));
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some((a, rest)) = part.split_once("..=") {
            let (b, step) = match rest.split_once(':') {
                Some((b, step)) => (b, step),
                None => (rest, "1"),
            };
            let parse = |x: &str| {
                x.trim()
                    .parse::<u32>()
                    .map_err(|_| bad(format!("{x:?} is not a whole number")))
            };
            let (a, b, step) = (parse(a)?, parse(b)?, parse(step)?);
            if step == 0 || a > b {
                return Err(bad("a range is a..=b:step with a <= b and step >= 1".into()));
            }
            if (b - a) / step > 100_000 {
                return Err(bad("more than 100,000 values".into()));
            }
            out.extend((a..=b).step_by(step as usize));
        } else {
            out.push(
                part.parse::<u32>()
                    .map_err(|_| bad(format!("{part:?} is not a whole number or a..=b:step")))?,
            );
        }
    }
    if out.is_empty() {
        return Err(bad("no values".into()));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A list of non-negative numbers separated by commas (`300,600`).
pub fn parse_f64_list(flag: &'static str, s: &str) -> Result<Vec<f64>, ConfigError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let v: f64 = part
            .parse()
            .map_err(|_| ConfigError::invalid(flag, format!("{part:?} is not a number")))?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(ConfigError::invalid(flag, format!("{v}: must be >= 0")));
        }
        out.push(v);
    }
    if out.is_empty() {
        return Err(ConfigError::invalid(flag, format!("{s:?}: no values")));
    }
    out.sort_by(f64::total_cmp);
    out.dedup();
    Ok(out)
}

/// A metric's mean over replicas and its 95 % confidence interval (Student t, R − 1 degrees of
/// freedom). With one replica the interval is the point itself.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Half the interval's width.
    pub half_width: f64,
}

impl Estimate {
    pub fn of(samples: &[f64]) -> Estimate {
        let n = samples.len();
        if n == 0 {
            return Estimate {
                mean: f64::NAN,
                ci_low: f64::NAN,
                ci_high: f64::NAN,
                half_width: f64::NAN,
            };
        }
        let mean = samples.iter().sum::<f64>() / n as f64;
        let half_width = if n < 2 {
            0.0
        } else {
            let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
                .map(|d| d.inverse_cdf(0.975))
                .unwrap_or(f64::NAN);
            t * (var / n as f64).sqrt()
        };
        Estimate {
            mean,
            ci_low: mean - half_width,
            ci_high: mean + half_width,
            half_width,
        }
    }
}

/// One bound of the SLO search: `metric <= bound` on the CI's upper end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slo {
    /// As given, e.g. `p99<=300ms`.
    pub text: String,
    /// The summary column it reads, e.g. `latency_ms_p99`.
    pub column: String,
    pub bound: f64,
}

impl Slo {
    /// Parses `p99<=300ms`, `p95<=1.5s`, `mean<=120ms`, `cold_start_ratio<=0.5%`,
    /// `throttle_ratio<=0`, `monthly_usd<=250`, or any summary column name with a number.
    pub fn parse(s: &str) -> Result<Slo, ConfigError> {
        let bad = |why: &str| {
            ConfigError::invalid(
                "--slo",
                format!("{s:?}: {why} (e.g. 'p99<=300ms' or 'cold_start_ratio<=0.5%')"),
            )
        };
        let (name, value) = s
            .split_once("<=")
            .or_else(|| s.split_once('<'))
            .ok_or_else(|| bad("expected METRIC<=VALUE"))?;
        let (name, value) = (name.trim(), value.trim());
        let latency = ["mean", "p50", "p90", "p95", "p99", "p999", "max"];
        let (column, bound) = if latency.contains(&name) {
            let ms = if let Some(v) = value.strip_suffix("ms") {
                v.trim().parse::<f64>().ok()
            } else if let Some(v) = value.strip_suffix('s') {
                v.trim().parse::<f64>().ok().map(|x| x * 1e3)
            } else {
                value.parse::<f64>().ok()
            };
            (
                format!("latency_ms_{name}"),
                ms.ok_or_else(|| bad("the latency bound is a number with ms or s"))?,
            )
        } else {
            let v = if let Some(p) = value.strip_suffix('%') {
                p.trim().parse::<f64>().ok().map(|x| x / 100.0)
            } else {
                value.parse::<f64>().ok()
            };
            let column = match name {
                "cost" | "monthly_usd" | "cost_monthly_usd" => "cost_monthly_usd".to_string(),
                other => other.to_string(),
            };
            (column, v.ok_or_else(|| bad("the bound is not a number"))?)
        };
        if !bound.is_finite() {
            return Err(bad("the bound must be finite"));
        }
        Ok(Slo {
            text: s.to_string(),
            column,
            bound,
        })
    }
}

/// One grid point's results: its settings (name, value) and every metric's estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointResult {
    pub settings: Vec<(String, f64)>,
    pub replicas: usize,
    pub metrics: Vec<(String, Estimate)>,
}

impl PointResult {
    pub fn metric(&self, column: &str) -> Option<&Estimate> {
        self.metrics
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, e)| e)
    }

    /// True when the CI upper bound of every SLO's metric meets it. A metric the run does not
    /// have fails.
    pub fn meets(&self, slos: &[Slo]) -> bool {
        slos.iter().all(|s| {
            self.metric(&s.column)
                .is_some_and(|e| e.ci_high <= s.bound + 1e-12)
        })
    }
}

/// Evaluates every (point, replica) with `eval(point_index, replica)`, in parallel, and returns
/// one result per point in grid order. `eval` returns the metrics as (column, value) pairs in a
/// fixed order; the first replica's order is kept.
pub fn run<F>(points: &[Vec<(String, f64)>], replicas: usize, eval: F) -> Vec<PointResult>
where
    F: Fn(usize, usize) -> Vec<(String, f64)> + Sync,
{
    let jobs: Vec<(usize, usize)> = (0..points.len())
        .flat_map(|p| (0..replicas).map(move |r| (p, r)))
        .collect();
    let results: Vec<Vec<(String, f64)>> = jobs.par_iter().map(|&(p, r)| eval(p, r)).collect();
    points
        .iter()
        .enumerate()
        .map(|(p, settings)| {
            let reps = &results[p * replicas..(p + 1) * replicas];
            let columns: Vec<&String> = reps
                .first()
                .map(|r| r.iter().map(|(c, _)| c).collect())
                .unwrap_or_default();
            let metrics = columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let samples: Vec<f64> = reps
                        .iter()
                        .filter_map(|r| r.get(i).map(|(_, v)| *v))
                        .collect();
                    ((*c).clone(), Estimate::of(&samples))
                })
                .collect();
            PointResult {
                settings: settings.clone(),
                replicas,
                metrics,
            }
        })
        .collect()
}

/// The cheapest point (by mean of `cost_column`) that meets every SLO; ties go to the earlier
/// grid point.
pub fn cheapest_meeting(rows: &[PointResult], slos: &[Slo], cost_column: &str) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, r) in rows.iter().enumerate() {
        if !r.meets(slos) {
            continue;
        }
        let cost = r.metric(cost_column).map_or(f64::INFINITY, |e| e.mean);
        if best.is_none_or(|(_, c)| cost < c) {
            best = Some((i, cost));
        }
    }
    best.map(|(i, _)| i)
}

/// Indices of the points on the Pareto front of (cost, metric), both minimised, by increasing
/// cost. A point is on the front when no other point is at least as good in both and better in
/// one.
pub fn pareto(rows: &[PointResult], cost_column: &str, metric_column: &str) -> Vec<usize> {
    let pts: Vec<(usize, f64, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            Some((
                i,
                r.metric(cost_column)?.mean,
                r.metric(metric_column)?.mean,
            ))
        })
        .filter(|(_, c, m)| c.is_finite() && m.is_finite())
        .collect();
    let mut front: Vec<(usize, f64, f64)> = pts
        .iter()
        .filter(|&&(i, c, m)| {
            !pts.iter()
                .any(|&(j, c2, m2)| j != i && c2 <= c && m2 <= m && (c2 < c || m2 < m))
        })
        .copied()
        .collect();
    front.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    front.into_iter().map(|(i, _, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges() {
        assert_eq!(
            parse_u32_list("--provisioned", "0..=100:25").unwrap(),
            vec![0, 25, 50, 75, 100]
        );
        assert_eq!(
            parse_u32_list("--provisioned", "0..=2,10,1").unwrap(),
            vec![0, 1, 2, 10]
        );
        assert!(parse_u32_list("--provisioned", "5..=1").is_err());
        assert!(parse_u32_list("--provisioned", "0..=10:0").is_err());
        assert!(parse_u32_list("--provisioned", "x").is_err());
    }

    #[test]
    fn slos() {
        let s = Slo::parse("p99<=300ms").unwrap();
        assert_eq!((s.column.as_str(), s.bound), ("latency_ms_p99", 300.0));
        let s = Slo::parse("p95<=1.5s").unwrap();
        assert_eq!(s.bound, 1500.0);
        let s = Slo::parse("cold_start_ratio<=0.5%").unwrap();
        assert_eq!((s.column.as_str(), s.bound), ("cold_start_ratio", 0.005));
        assert!(Slo::parse("p99 about 300").is_err());
        assert!(Slo::parse("p99<=fast").is_err());
    }

    #[test]
    fn student_t_interval() {
        // n = 4, mean 2, s = sqrt(5/3); t(0.975, 3) = 3.182446.
        let e = Estimate::of(&[0.0, 2.0, 2.0, 4.0]);
        let s = (8.0f64 / 3.0).sqrt();
        assert!((e.half_width - 3.182446 * s / 2.0).abs() < 1e-5, "{e:?}");
        assert_eq!(Estimate::of(&[5.0]).half_width, 0.0);
    }

    #[test]
    fn search_and_front() {
        let row = |cost: f64, p99: f64| PointResult {
            settings: vec![],
            replicas: 1,
            metrics: vec![
                ("cost_monthly_usd".into(), Estimate::of(&[cost])),
                ("latency_ms_p99".into(), Estimate::of(&[p99])),
            ],
        };
        let rows = vec![
            row(10.0, 500.0),
            row(12.0, 250.0),
            row(11.0, 400.0),
            row(20.0, 260.0),
        ];
        let slo = [Slo::parse("p99<=300ms").unwrap()];
        assert_eq!(cheapest_meeting(&rows, &slo, "cost_monthly_usd"), Some(1));
        let tight = [Slo::parse("p99<=100ms").unwrap()];
        assert_eq!(cheapest_meeting(&rows, &tight, "cost_monthly_usd"), None);
        assert_eq!(
            pareto(&rows, "cost_monthly_usd", "latency_ms_p99"),
            vec![0, 2, 1]
        );
    }
}
