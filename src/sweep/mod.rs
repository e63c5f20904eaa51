//! Comparing provisioned-concurrency settings: the grid, replicas with Student-t confidence
//! intervals, the SLO search and the Pareto front. This module knows nothing about how a point is
//! evaluated: `run` takes a closure that simulates and bills one (point, replica) and returns its
//! metrics, and runs the grid in parallel with rayon, collecting in grid order so the output does
//! not depend on the thread count.

mod result;
pub use result::{ResampleInfo, SweepResult};
pub mod grid;
pub mod memory;
pub mod metric;
pub mod replicas;

pub use metric::Metric;

use rayon::prelude::*;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::ConfigError;

/// The most values one list flag (`--provisioned 0..=100000`) may give.
pub const MAX_LIST_VALUES: u64 = 100_000;

/// A list of whole numbers: `a..=b:step`, `a..=b` (step 1), single values, or any of these
/// separated by commas (`0..=20:5,50,100`). Sorted, without repeats; at most
/// [`MAX_LIST_VALUES`] values, counted before any is made.
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
            // Counted before any is made: several ranges together are held to the same bound.
            let n = (b - a) / step + 1;
            if out.len() as u64 + u64::from(n) > MAX_LIST_VALUES {
                return Err(bad(format!("more than {MAX_LIST_VALUES} values")));
            }
            out.extend((a..=b).step_by(step as usize));
        } else {
            if out.len() as u64 >= MAX_LIST_VALUES {
                return Err(bad(format!("more than {MAX_LIST_VALUES} values")));
            }
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
            return Err(ConfigError::invalid(
                flag,
                format!("{part:?}: must be a finite number >= 0"),
            ));
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

/// What a replica's spread is turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    /// The 95 % confidence interval of the mean over replicas, t·s/√R (Student t, R − 1
    /// degrees of freedom). Right when replicas differ only in random draws on one fixed trace
    /// (init times): the question is the average, and R buys precision.
    Mean,
    /// The 95 % prediction interval of one more replica, t·s·√(1 + 1/R). Right when each
    /// replica is a resampled period of traffic: the question is what one such period costs,
    /// and that spread does not shrink with R.
    Prediction,
}

/// A metric's mean over replicas and its 95 % interval (see [`Interval`]). With one replica the
/// interval is the point itself.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Half the interval's width.
    pub half_width: f64,
}

impl Estimate {
    /// The mean and its confidence interval ([`Interval::Mean`]).
    pub fn of(samples: &[f64]) -> Estimate {
        Estimate::with(samples, Interval::Mean)
    }

    pub fn with(samples: &[f64], interval: Interval) -> Estimate {
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
            let spread = match interval {
                Interval::Mean => (var / n as f64).sqrt(),
                Interval::Prediction => (var * (1.0 + 1.0 / n as f64)).sqrt(),
            };
            t * spread
        };
        Estimate {
            mean,
            ci_low: mean - half_width,
            ci_high: mean + half_width,
            half_width,
        }
    }
}

/// How an SLO's bound is written for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundUnit {
    /// Milliseconds: `300ms`, `1.5s`, or a bare number of ms.
    Latency,
    /// A share: with `%` (`0.5%`); a bare number is ambiguous (0.5 of what?) and only `0` is
    /// accepted bare.
    Ratio,
    /// A bare number in the column's own unit (USD for cost).
    Plain,
}

impl BoundUnit {
    /// The unit of a summary column, by its name.
    pub fn of_column(column: &str) -> BoundUnit {
        if column.ends_with("_ratio") {
            BoundUnit::Ratio
        } else if column.starts_with("latency_ms_") || column.starts_with("init_ms_") {
            BoundUnit::Latency
        } else {
            BoundUnit::Plain
        }
    }
}

/// The short names of the named metrics ([`metric::METRICS`]) with the unit their bounds take,
/// for `--help` and errors.
pub fn slo_metric_names() -> String {
    format!(
        "{} (end-to-end latency: 300ms or 1.5s; a bare number is ms); {} (ratios: with %, e.g. \
         0.5%; a bare number is rejected, except 0); {} (monthly USD, a bare number); or any \
         numeric column of `simulate --format csv` (latency_ms_* and init_ms_* in ms, *_ratio \
         with %, others bare)",
        metric::slo_names(BoundUnit::Latency).join(", "),
        metric::slo_names(BoundUnit::Ratio).join(", "),
        metric::slo_names(BoundUnit::Plain).join(", ")
    )
}

/// Every SLO short name, comma-separated, for the unknown-metric error.
pub fn slo_short_names() -> String {
    metric::METRICS
        .iter()
        .flat_map(|i| i.slo_names.iter().copied())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One bound of the SLO search: `metric <= bound` on the interval's upper end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slo {
    /// As given, e.g. `p99<=300ms`.
    pub text: String,
    /// The summary column it reads, e.g. `latency_ms_p99`.
    pub column: String,
    /// The named metric, when the column is one (`None`: another numeric summary column).
    #[serde(skip)]
    pub metric: Option<Metric>,
    /// In the column's unit (ms, a fraction, USD).
    pub bound: f64,
}

impl Slo {
    /// Parses `p99<=300ms`, `p99.9<=1.5s`, `mean<=120ms`, `cold_start_ratio<=0.5%`,
    /// `throttle_ratio<=0`, `cost<=250`, or any summary column name with a bound in its unit
    /// (see [`BoundUnit`]).
    pub fn parse(s: &str) -> Result<Slo, ConfigError> {
        let bad = |why: &str| {
            ConfigError::field(
                "slo",
                format!("{s:?}: {why} (e.g. 'p99<=300ms' or 'cold_start_ratio<=0.5%')"),
            )
        };
        let (name, value) = s
            .split_once("<=")
            .or_else(|| s.split_once('<'))
            .ok_or_else(|| bad("expected METRIC<=VALUE"))?;
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return Err(bad("no metric before <="));
        }
        let metric = Metric::of_slo_name(name).or_else(|| Metric::of_column(name));
        let column = metric.map_or_else(|| name.to_string(), |m| m.column().to_string());
        let number = |v: &str| v.trim().parse::<f64>().ok();
        let bound = match BoundUnit::of_column(&column) {
            BoundUnit::Latency => {
                let ms = if let Some(v) = value.strip_suffix("ms") {
                    number(v)
                } else if let Some(v) = value.strip_suffix('s') {
                    number(v).map(|x| x * 1e3)
                } else {
                    number(value)
                };
                ms.ok_or_else(|| bad("a latency bound is a number with ms or s"))?
            }
            BoundUnit::Ratio => match value.strip_suffix('%') {
                Some(p) => {
                    let p = number(p).ok_or_else(|| bad("the bound is not a number"))?;
                    if !(0.0..=100.0).contains(&p) {
                        return Err(bad("a ratio's bound is between 0% and 100%"));
                    }
                    p / 100.0
                }
                None => match number(value) {
                    // Keeps the sign of `-0`, refused below.
                    Some(z) if z == 0.0 => z,
                    Some(x) => {
                        return Err(bad(&format!(
                            "a ratio's bound needs a % sign: write {x}% for {x} percent, or {}% \
                             for a fraction of {x}",
                            x * 100.0
                        )));
                    }
                    None => return Err(bad("the bound is not a number")),
                },
            },
            BoundUnit::Plain => {
                if value.ends_with('%') {
                    return Err(bad(&format!(
                        "% only applies to ratios ({column} is not one)"
                    )));
                }
                number(value).ok_or_else(|| bad("the bound is not a number"))?
            }
        };
        if !bound.is_finite() {
            return Err(bad("the bound must be finite"));
        }
        // Every metric is a time, a ratio, a count or a cost, none below 0, so a negative bound
        // (`-0` included: it would print as `-0`) is a typo no configuration can meet.
        if bound.is_sign_negative() {
            return Err(bad("the bound must be >= 0"));
        }
        Ok(Slo {
            text: s.to_string(),
            column,
            metric,
            bound,
        })
    }
}

/// One grid point's results: its settings (name, value) and every metric's estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointResult {
    pub settings: Vec<(String, f64)>,
    /// The keep-alive policy of a sweep over `--keep-alive-policy` (a name, not a number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_alive_policy: Option<String>,
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

/// Jobs evaluated between two estimates: a chunk holds whole grid points (at least one), so at
/// most `max(CHUNK_JOBS, replicas)` replicas' values are held at once, whatever the grid size
/// (issue 14, D11: every (point, replica)'s output used to stay until the end).
pub const CHUNK_JOBS: usize = 4096;

/// Evaluates every (point, replica) with `eval(point_index, replica)`, in parallel, and returns
/// one result per point in grid order, each metric with its `interval`. `eval` returns the
/// metrics as (column, value) pairs in a fixed order; the first replica's order is kept.
pub fn run<F>(
    points: &[Vec<(String, f64)>],
    replicas: usize,
    interval: Interval,
    eval: F,
) -> Vec<PointResult>
where
    F: Fn(usize, usize) -> Vec<(String, f64)> + Sync,
{
    let out = run_with(
        points,
        replicas,
        interval,
        |p, r| Ok::<_, std::convert::Infallible>((eval(p, r), ())),
        |_, _, ()| {},
    );
    match out {
        Ok(rows) => rows,
        Err(never) => match never {},
    }
}

/// As [`run`], for an `eval` that may fail and that returns, besides the metrics, something
/// `fold` takes (warnings, sizes) instead of keeping it per job. `fold(point, replica, extra)` is
/// called once per job in (point, replica) order, whatever the thread count. The first error in
/// that order is returned (jobs after it in its chunk may have run; none of a later chunk has).
///
/// Points run in chunks of whole points (about [`CHUNK_JOBS`] jobs, in parallel within a chunk);
/// each point is estimated as soon as its chunk is done, and its replicas' values are dropped.
/// The estimate is [`Estimate::with`] on the samples in replica order, as before chunking: a
/// running (Welford) variance would save the last chunk's memory but not give the same bytes,
/// since the two-pass variance needs the mean before the deviations.
pub fn run_with<F, T, E, G>(
    points: &[Vec<(String, f64)>],
    replicas: usize,
    interval: Interval,
    eval: F,
    mut fold: G,
) -> Result<Vec<PointResult>, E>
where
    F: Fn(usize, usize) -> Result<(Vec<(String, f64)>, T), E> + Sync,
    T: Send,
    E: Send,
    G: FnMut(usize, usize, T),
{
    let per_chunk = (CHUNK_JOBS / replicas.max(1)).max(1);
    let mut rows = Vec::with_capacity(points.len());
    let mut first = 0;
    while first < points.len() {
        let end = (first + per_chunk).min(points.len());
        let jobs: Vec<(usize, usize)> = (first..end)
            .flat_map(|p| (0..replicas).map(move |r| (p, r)))
            .collect();
        // Each job keeps only its values; the column names are kept once per point, from its
        // first replica (metrics are matched by position).
        type Job<T> = (Option<Vec<String>>, Vec<f64>, T);
        let done: Vec<Result<Job<T>, E>> = jobs
            .par_iter()
            .map(|&(p, r)| {
                let (metrics, extra) = eval(p, r)?;
                let values = metrics.iter().map(|(_, v)| *v).collect();
                let names = (r == 0).then(|| metrics.into_iter().map(|(c, _)| c).collect());
                Ok((names, values, extra))
            })
            .collect();
        let mut reps = Vec::with_capacity(done.len());
        for (&(p, r), job) in jobs.iter().zip(done) {
            let (names, values, extra) = job?;
            fold(p, r, extra);
            reps.push((names, values));
        }
        for (i, p) in (first..end).enumerate() {
            let reps = &reps[i * replicas..(i + 1) * replicas];
            rows.push(estimate(&points[p], reps, interval));
        }
        first = end;
    }
    Ok(rows)
}

/// One (point, replica) job's metrics, as a shard of a sweep keeps them for the merge: the
/// column names with replica 0 only (metrics are matched by position), and the values.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct JobValues {
    pub point: u32,
    pub replica: u32,
    pub names: Option<Vec<String>>,
    pub values: Vec<f64>,
}

/// Evaluates the jobs of `shard` (job `point × replicas + replica`, every N-th from I), in
/// parallel chunks of [`CHUNK_JOBS`], and returns each job's values and extra in job order. The
/// first error in that order is returned.
pub fn run_shard<F, T, E>(
    points: usize,
    replicas: usize,
    shard: crate::shard::Shard,
    eval: F,
) -> Result<Vec<(JobValues, T)>, E>
where
    F: Fn(usize, usize) -> Result<(Vec<(String, f64)>, T), E> + Sync,
    T: Send,
    E: Send,
{
    let mine: Vec<usize> = (0..points * replicas)
        .filter(|&j| shard.holds_job(j))
        .collect();
    let mut out = Vec::with_capacity(mine.len());
    for chunk in mine.chunks(CHUNK_JOBS) {
        let done: Vec<Result<(JobValues, T), E>> = chunk
            .par_iter()
            .map(|&j| {
                let (p, r) = (j / replicas, j % replicas);
                let (metrics, extra) = eval(p, r)?;
                let values = metrics.iter().map(|(_, v)| *v).collect();
                let names = (r == 0).then(|| metrics.into_iter().map(|(c, _)| c).collect());
                let job = JobValues {
                    point: p as u32,
                    replica: r as u32,
                    names,
                    values,
                };
                Ok((job, extra))
            })
            .collect();
        for d in done {
            out.push(d?);
        }
    }
    Ok(out)
}

/// The grid's results from every job's values, in job order (as the shards' parts merged give
/// them): the same estimates [`run_with`] makes.
pub fn assemble(
    points: &[Vec<(String, f64)>],
    replicas: usize,
    interval: Interval,
    jobs: &[JobValues],
) -> Vec<PointResult> {
    points
        .iter()
        .enumerate()
        .map(|(p, settings)| {
            let reps: Vec<(Option<Vec<String>>, Vec<f64>)> = jobs[p * replicas..(p + 1) * replicas]
                .iter()
                .map(|j| (j.names.clone(), j.values.clone()))
                .collect();
            estimate(settings, &reps, interval)
        })
        .collect()
}

/// One point's estimates from its replicas' (names of replica 0, values), in replica order.
fn estimate(
    settings: &[(String, f64)],
    reps: &[(Option<Vec<String>>, Vec<f64>)],
    interval: Interval,
) -> PointResult {
    let columns: &[String] = reps
        .first()
        .and_then(|(names, _)| names.as_deref())
        .unwrap_or_default();
    let metrics = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let samples: Vec<f64> = reps
                .iter()
                .filter_map(|(_, values)| values.get(i).copied())
                .collect();
            (c.clone(), Estimate::with(&samples, interval))
        })
        .collect();
    PointResult {
        settings: settings.to_vec(),
        keep_alive_policy: None,
        replicas: reps.len(),
        metrics,
    }
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
        let s = Slo::parse("cost<=250").unwrap();
        assert_eq!((s.column.as_str(), s.bound), ("cost_monthly_usd", 250.0));
        let s = Slo::parse("latency_ms_p95<=2s").unwrap();
        assert_eq!((s.column.as_str(), s.bound), ("latency_ms_p95", 2000.0));
        assert_eq!(Slo::parse("throttle_ratio<=0").unwrap().bound, 0.0);
        assert!(Slo::parse("cost<=5%").is_err());
    }

    #[test]
    fn p99_9_as_displayed_is_an_slo_metric() {
        let s = Slo::parse("p99.9<=800ms").unwrap();
        assert_eq!((s.column.as_str(), s.bound), ("latency_ms_p999", 800.0));
        assert_eq!(Slo::parse("p999<=800ms").unwrap().column, "latency_ms_p999");
    }

    #[test]
    fn a_bare_ratio_bound_is_rejected_not_read_as_a_fraction() {
        // 'cold_start_ratio<=0.5' used to mean 50 %.
        let e = Slo::parse("cold_start_ratio<=0.5").unwrap_err().to_string();
        assert!(
            e.starts_with("slo: ") && e.contains("0.5%") && e.contains("50%"),
            "{e}"
        );
        assert!(Slo::parse("throttle_ratio<=2").is_err());
        assert!(Slo::parse("cold_start_ratio<=150%").is_err());
    }

    #[test]
    fn the_metric_list_comes_from_the_parser_list() {
        let names = slo_metric_names();
        for info in metric::METRICS {
            for n in info.slo_names {
                assert!(names.contains(n), "{n} missing from {names}");
                let slo = Slo::parse(&format!("{n}<=0")).unwrap();
                assert_eq!(slo.metric, Some(info.metric), "{n}");
                assert_eq!(slo.column, info.column, "{n}");
            }
        }
    }

    #[test]
    fn student_t_interval() {
        // n = 4, mean 2, s = sqrt(5/3); t(0.975, 3) = 3.182446.
        let e = Estimate::of(&[0.0, 2.0, 2.0, 4.0]);
        let s = (8.0f64 / 3.0).sqrt();
        assert!((e.half_width - 3.182446 * s / 2.0).abs() < 1e-5, "{e:?}");
        assert_eq!(Estimate::of(&[5.0]).half_width, 0.0);
        // One more replica: t·s·√(1 + 1/n).
        let p = Estimate::with(&[0.0, 2.0, 2.0, 4.0], Interval::Prediction);
        assert!(
            (p.half_width - 3.182446 * s * 1.25f64.sqrt()).abs() < 1e-5,
            "{p:?}"
        );
    }

    /// A grid of `points` × `replicas` whose metric values vary with both, so that any change
    /// of summation order would show in the estimates' bytes.
    fn values(p: usize, r: usize) -> Vec<(String, f64)> {
        let x = (p as f64 + 0.1) * 1.37 + (r as f64 * 0.7).sin() * 10.0 / 3.0;
        vec![("a".into(), x), ("b".into(), x * x / 7.0)]
    }

    #[test]
    fn chunked_grid_estimates_equal_the_estimates_of_every_sample_at_once_to_the_bit() {
        // More jobs than one chunk, and replicas that do not divide it.
        let (n_points, replicas) = (CHUNK_JOBS / 300 + 7, 300);
        let points: Vec<Vec<(String, f64)>> = (0..n_points)
            .map(|p| vec![("provisioned".into(), p as f64)])
            .collect();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let rows = pool.install(|| run(&points, replicas, Interval::Mean, values));
            assert_eq!(rows.len(), n_points);
            for (p, row) in rows.iter().enumerate() {
                assert_eq!(row.settings, points[p]);
                assert_eq!(row.replicas, replicas);
                for (i, (column, e)) in row.metrics.iter().enumerate() {
                    let samples: Vec<f64> = (0..replicas).map(|r| values(p, r)[i].1).collect();
                    let want = Estimate::with(&samples, Interval::Mean);
                    assert_eq!(column, &values(p, 0)[i].0);
                    for (got, want) in [
                        (e.mean, want.mean),
                        (e.ci_low, want.ci_low),
                        (e.ci_high, want.ci_high),
                        (e.half_width, want.half_width),
                    ] {
                        assert_eq!(got.to_bits(), want.to_bits(), "point {p} {column}");
                    }
                }
            }
        }
    }

    /// Issue 14, D11: a sweep kept every (point, replica)'s output until the end. What a job
    /// returns is now folded in (point, replica) order and dropped, and no more than a chunk of
    /// jobs is held at once, whatever the grid's size.
    #[test]
    fn a_sweep_holds_at_most_a_chunk_of_replica_results_whatever_the_grid_size() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static LIVE: AtomicUsize = AtomicUsize::new(0);
        static PEAK: AtomicUsize = AtomicUsize::new(0);
        struct Held;
        impl Held {
            fn new() -> Held {
                let now = LIVE.fetch_add(1, Ordering::SeqCst) + 1;
                PEAK.fetch_max(now, Ordering::SeqCst);
                Held
            }
        }
        impl Drop for Held {
            fn drop(&mut self) {
                LIVE.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let replicas = 50;
        let n_points = 10 * CHUNK_JOBS / replicas;
        let points = vec![Vec::new(); n_points];
        let mut order = Vec::with_capacity(n_points * replicas);
        let rows = run_with(
            &points,
            replicas,
            Interval::Mean,
            |p, r| Ok::<_, ()>((values(p, r), Held::new())),
            |p, r, held: Held| {
                order.push((p, r));
                drop(held);
            },
        )
        .unwrap();
        assert_eq!(rows.len(), n_points);
        assert_eq!(LIVE.load(Ordering::SeqCst), 0);
        let peak = PEAK.load(Ordering::SeqCst);
        assert!(
            peak <= CHUNK_JOBS,
            "{peak} replica results held at once for a grid of {} jobs",
            n_points * replicas
        );
        let want: Vec<(usize, usize)> = (0..n_points)
            .flat_map(|p| (0..replicas).map(move |r| (p, r)))
            .collect();
        assert!(
            order == want,
            "fold sees the jobs in (point, replica) order"
        );
    }

    #[test]
    fn the_first_failing_job_in_grid_order_is_the_error() {
        let points = vec![Vec::new(); 40];
        let err = run_with(
            &points,
            3,
            Interval::Mean,
            |p, r| {
                if (p == 17 && r == 2) || p == 30 {
                    Err((p, r))
                } else {
                    Ok((values(p, r), ()))
                }
            },
            |_, _, ()| {},
        )
        .unwrap_err();
        assert_eq!(err, (17, 2));
    }

    #[test]
    fn search_and_front() {
        let row = |cost: f64, p99: f64| PointResult {
            settings: vec![],
            keep_alive_policy: None,
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
