//! Duration distributions of synthetic workloads (`generate`): constant, exponential, lognormal
//! through (p50, p99), and empirical through a table of percentiles. Samples are in microseconds.

use rand::Rng;

use crate::dist::{LogNormal, Quantiles, exp1, ms_to_us_clamped};
use crate::time::Micros;

/// A validated duration distribution.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationDist {
    /// milliseconds
    Constant(f64),
    /// Exponential with this mean, milliseconds.
    Exponential {
        mean_ms: f64,
    },
    LogNormal(LogNormal),
    Empirical(Quantiles),
}

impl DurationDist {
    pub fn constant(ms: f64) -> Result<DurationDist, String> {
        check_ms("ms", ms)?;
        Ok(DurationDist::Constant(ms))
    }

    pub fn exponential(mean_ms: f64) -> Result<DurationDist, String> {
        check_ms("mean_ms", mean_ms)?;
        if mean_ms == 0.0 {
            return Err("mean_ms must be greater than 0".into());
        }
        Ok(DurationDist::Exponential { mean_ms })
    }

    pub fn lognormal(p50_ms: f64, p99_ms: f64) -> Result<DurationDist, String> {
        check_ms("p50_ms", p50_ms)?;
        check_ms("p99_ms", p99_ms)?;
        if !(p50_ms > 0.0 && p99_ms > p50_ms) {
            return Err(format!(
                "need 0 < p50_ms < p99_ms, got p50_ms = {p50_ms}, p99_ms = {p99_ms}"
            ));
        }
        LogNormal::from_p50_p99(p50_ms, p99_ms).map(DurationDist::LogNormal)
    }

    /// The distribution's mean, milliseconds.
    pub fn mean_ms(&self) -> f64 {
        match self {
            DurationDist::Constant(ms) => *ms,
            DurationDist::Exponential { mean_ms } => *mean_ms,
            DurationDist::LogNormal(d) => d.mean_ms(),
            DurationDist::Empirical(q) => q.mean_ms(),
        }
    }

    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Micros {
        self.sample_cached(rng, &mut None)
    }

    /// As [`DurationDist::sample`], keeping the second normal variate of a Box–Muller pair in
    /// `spare` for the next call (half the work for lognormal durations).
    #[inline]
    pub fn sample_cached<R: Rng + ?Sized>(&self, rng: &mut R, spare: &mut Option<f64>) -> Micros {
        match self {
            DurationDist::Constant(ms) => ms_to_us_clamped(*ms),
            DurationDist::Exponential { mean_ms } => ms_to_us_clamped(mean_ms * exp1(rng)),
            DurationDist::LogNormal(d) => d.sample(rng, spare),
            DurationDist::Empirical(q) => q.sample(rng),
        }
    }
}

fn check_ms(name: &str, v: f64) -> Result<(), String> {
    if !v.is_finite() || v < 0.0 {
        return Err(format!("{name} = {v}: must be a finite number of ms >= 0"));
    }
    if v > crate::dist::MAX_DURATION_MS {
        return Err(format!("{name} = {v}: longer than 10 days"));
    }
    Ok(())
}
