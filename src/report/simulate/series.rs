//! The simulate report's series: the per-bucket timeline and the latency CDFs, computed from the
//! outcome.

use crate::engine::{PlatformConfig, ProvisionedPlan};
use crate::outcome::{Latency, Outcome};
use crate::report::fmt::sig;
use crate::time::{MINUTE, Micros};

/// Buckets beyond which the timeline aggregates minutes (about 6 pixels a bucket).
const MAX_BUCKETS: usize = 240;
/// Points beyond which a CDF is thinned (keeping the first and last).
const MAX_CDF_POINTS: usize = 3000;

/// The unit of a time axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    /// The unit's length in minutes.
    pub fn minutes(self) -> f64 {
        match self {
            TimeUnit::Minutes => 1.0,
            TimeUnit::Hours => 60.0,
            TimeUnit::Days => 1440.0,
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            TimeUnit::Minutes => "min",
            TimeUnit::Hours => "h",
            TimeUnit::Days => "days",
        }
    }

    /// Minutes for windows up to 3 hours, hours up to 3 days, then days.
    pub fn for_window(minutes: f64) -> TimeUnit {
        if minutes <= 180.0 {
            TimeUnit::Minutes
        } else if minutes <= 3.0 * 1440.0 {
            TimeUnit::Hours
        } else {
            TimeUnit::Days
        }
    }
}

/// The provisioned level to draw over the instance series.
#[derive(Debug, Clone, PartialEq)]
pub enum ProvisionedLine {
    /// No provisioned instances.
    None,
    /// The configured level per bucket, summed over functions, as the engine recorded it (fixed,
    /// a time-of-day schedule, or target tracking).
    Level { label: String, level: Vec<f64> },
}

/// Per-bucket series over the window; buckets are one minute unless the window is too long to
/// show minute by minute.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub unit: TimeUnit,
    /// Minutes per bucket.
    pub bucket_minutes: u32,
    /// The window's length, in `unit`.
    pub window: f64,
    /// The middle of each bucket, in `unit`.
    pub x: Vec<f64>,
    /// Mean instances serving at least one request, over the bucket.
    pub busy_mean: Vec<f64>,
    /// Peak instances serving, within the bucket.
    pub busy_peak: Vec<f64>,
    /// Mean instances alive (initialising, busy or idle), over the bucket.
    pub alive_mean: Vec<f64>,
    pub provisioned: ProvisionedLine,
    /// Requests arriving in the bucket.
    pub invocations: Vec<f64>,
    /// Cold starts of requests arriving in the bucket.
    pub cold_starts: Vec<f64>,
    pub throttled: Vec<f64>,
    pub dead_lettered: Vec<f64>,
    /// The account concurrency limit, drawn when it binds (refuses more than
    /// [`crate::warnings::THROTTLE_SHARE`] of the requests): (limit, share refused).
    pub account_limit: Option<(f64, f64)>,
    /// CPU utilisation of the instances while they served and their vCPUs, with a CPU profile
    /// (`Summary::cpu`): shown in the legend.
    pub cpu: Option<(f64, f64)>,
}

impl Timeline {
    /// "minute", or "10 min" when buckets are longer.
    pub fn bucket_label(&self) -> String {
        match self.bucket_minutes {
            1 => "minute".into(),
            60 => "hour".into(),
            1440 => "day".into(),
            m if m % 60 == 0 => format!("{} h", m / 60),
            m => format!("{m} min"),
        }
    }
}

/// The CDF of one latency distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Cdf {
    /// e.g. "warm starts".
    pub label: String,
    pub count: u64,
    /// (latency in ms, share of requests at or below it), a step function, increasing.
    pub points: Vec<(f64, f64)>,
    /// (name, quantile, latency ms): p50, p95, p99.
    pub marks: Vec<(String, f64, f64)>,
}

pub(super) fn timeline(
    outcome: &Outcome,
    cfg: &PlatformConfig,
    notes: &mut Vec<String>,
) -> Timeline {
    let window_us = outcome.window_us;
    let minutes = outcome.minutes.len().max(1);
    let bucket = [1usize, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440]
        .into_iter()
        .find(|b| minutes.div_ceil(*b) <= MAX_BUCKETS)
        .unwrap_or(1440);
    let window_min = window_us as f64 / MINUTE as f64;
    let unit = TimeUnit::for_window(window_min.max(1.0));
    let per_unit = unit.minutes();
    let functions = outcome.functions.len().max(1) as f64;
    let mut t = Timeline {
        unit,
        bucket_minutes: bucket as u32,
        window: window_min / per_unit,
        x: Vec::new(),
        busy_mean: Vec::new(),
        busy_peak: Vec::new(),
        alive_mean: Vec::new(),
        provisioned: ProvisionedLine::None,
        invocations: Vec::new(),
        cold_starts: Vec::new(),
        throttled: Vec::new(),
        dead_lettered: Vec::new(),
        account_limit: cfg.account_concurrency.and_then(|limit| {
            let share = crate::warnings::RefusedBy::of(outcome).account as f64
                / outcome.totals.invocations.max(1) as f64;
            (share > crate::warnings::THROTTLE_SHARE).then_some((f64::from(limit), share))
        }),
        cpu: None,
    };
    let mut level = Vec::new();
    for (b, chunk) in outcome.minutes.chunks(bucket).enumerate() {
        let start_min = b * bucket;
        // The part of the bucket inside the window, microseconds.
        let start_us = start_min as Micros * MINUTE;
        let end_us = ((start_min + chunk.len()) as Micros * MINUTE).min(window_us.max(start_us));
        let span = (end_us.saturating_sub(start_us)).max(1) as f64;
        let mid_min = (start_us + end_us) as f64 / 2.0 / MINUTE as f64;
        t.x.push(mid_min / per_unit);
        let busy: u128 = chunk.iter().map(|m| m.busy_us).sum();
        let alive: u128 = chunk.iter().map(|m| m.alive_us).sum();
        t.busy_mean.push(busy as f64 / span);
        t.alive_mean.push(alive as f64 / span);
        t.busy_peak.push(f64::from(
            chunk.iter().map(|m| m.peak_busy).max().unwrap_or(0),
        ));
        t.invocations
            .push(chunk.iter().map(|m| m.invocations).sum::<u64>() as f64);
        t.cold_starts
            .push(chunk.iter().map(|m| m.cold_starts).sum::<u64>() as f64);
        t.throttled
            .push(chunk.iter().map(|m| m.throttled).sum::<u64>() as f64);
        t.dead_lettered
            .push(chunk.iter().map(|m| m.dead_lettered).sum::<u64>() as f64);
        // The configured level as the engine recorded it, minute by minute.
        let provisioned: u128 = chunk.iter().map(|m| m.provisioned_us).sum();
        level.push(provisioned as f64 / span);
    }
    let per_fn = |n: f64| {
        if functions > 1.0 {
            format!(" ({} functions × {})", functions, sig(n / functions))
        } else {
            String::new()
        }
    };
    t.provisioned = match &cfg.provisioned_plan {
        Some(ProvisionedPlan::Target(tt)) => ProvisionedLine::Level {
            label: format!(
                "provisioned (target tracking at {} %{})",
                sig(tt.target * 100.0),
                if functions > 1.0 {
                    format!(", {functions} functions")
                } else {
                    String::new()
                }
            ),
            level,
        },
        Some(ProvisionedPlan::Schedule(_)) => ProvisionedLine::Level {
            label: format!(
                "provisioned (schedule{})",
                if functions > 1.0 {
                    format!(", {functions} functions")
                } else {
                    String::new()
                }
            ),
            level,
        },
        None if cfg.provisioned > 0 => {
            let total = f64::from(cfg.provisioned) * functions;
            ProvisionedLine::Level {
                label: format!("provisioned {}{}", sig(total), per_fn(total)),
                level,
            }
        }
        None => ProvisionedLine::None,
    };
    if bucket > 1 {
        notes.push(format!(
            "The charts over time sum (requests, cold starts, throttles) or average (instances) \
             the per-minute series over {}-minute buckets.",
            bucket
        ));
    }
    t
}

pub(super) fn cdf(label: &str, l: &Latency) -> Cdf {
    let n = l.count();
    let mut points = Vec::new();
    if n > 0 {
        let mut cum = 0u64;
        let mut prev = 0.0;
        for v in l.hist.iter_recorded() {
            let c = v.count_at_value();
            if c == 0 {
                continue;
            }
            let x = l
                .hist
                .highest_equivalent(v.value_iterated_to())
                .min(l.max_us) as f64
                / 1e3;
            if points.is_empty() {
                points.push((x, 0.0));
            } else {
                points.push((x, prev));
            }
            cum += c;
            prev = cum as f64 / n as f64;
            points.push((x, prev));
        }
        if points.len() > MAX_CDF_POINTS {
            let step = points.len().div_ceil(MAX_CDF_POINTS);
            let last = points.last().copied();
            points = points.into_iter().step_by(step).collect();
            if let Some(p) = last
                && points.last() != Some(&p)
            {
                points.push(p);
            }
        }
    }
    let marks = if n > 0 {
        [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)]
            .into_iter()
            .map(|(name, q)| (name.to_string(), q, l.quantile_us(q) as f64 / 1e3))
            .collect()
    } else {
        Vec::new()
    };
    Cdf {
        label: label.into(),
        count: n,
        points,
        marks,
    }
}
