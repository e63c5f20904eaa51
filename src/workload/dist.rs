//! Duration distributions for synthetic workloads and for the Azure 2019 reader: constant,
//! exponential, lognormal through (p50, p99), and a piecewise-linear inverse CDF through a table of
//! percentiles. Samples are in microseconds.

use rand::RngExt;
use rand_pcg::Pcg64Mcg;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::time::Micros;

/// Longest sampled duration, microseconds: 10 days, as the canonical reader allows.
const MAX_SAMPLE_US: f64 = 864e9;

/// A piecewise-linear inverse CDF through `(probability, value)` points. Validated: at least two
/// points, probabilities from exactly 0 to exactly 1 and strictly increasing, values finite,
/// `>= 0` and non-decreasing.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantiles {
    probs: Vec<f64>,
    /// milliseconds
    values_ms: Vec<f64>,
}

impl Quantiles {
    /// Checks the points; the error says what is wrong (without a location).
    pub fn new(points: &[(f64, f64)]) -> Result<Quantiles, String> {
        if points.len() < 2 {
            return Err("needs at least two (probability, ms) points".into());
        }
        for (i, &(p, v)) in points.iter().enumerate() {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("probability {p} is outside 0..1"));
            }
            if !v.is_finite() || v < 0.0 {
                return Err(format!("value {v} ms must be a finite number >= 0"));
            }
            if v * 1e3 > MAX_SAMPLE_US {
                return Err(format!("value {v} ms is longer than 10 days"));
            }
            if i > 0 {
                let (pp, pv) = points[i - 1];
                if p <= pp {
                    return Err(format!("probabilities must increase: {p} follows {pp}"));
                }
                if v < pv {
                    return Err(format!(
                        "values must not decrease: {v} ms (at {p}) is below {pv} ms (at {pp})"
                    ));
                }
            }
        }
        if points[0].0 != 0.0 || points[points.len() - 1].0 != 1.0 {
            return Err("the first probability must be 0 and the last 1".into());
        }
        Ok(Quantiles {
            probs: points.iter().map(|p| p.0).collect(),
            values_ms: points.iter().map(|p| p.1).collect(),
        })
    }

    /// The value at probability `u` in [0, 1], milliseconds.
    pub fn at(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        // A handful of points: a linear scan beats a binary search.
        let mut i = 1;
        while i < self.probs.len() - 1 && self.probs[i] < u {
            i += 1;
        }
        let (p0, p1) = (self.probs[i - 1], self.probs[i]);
        let (v0, v1) = (self.values_ms[i - 1], self.values_ms[i]);
        v0 + (v1 - v0) * (u - p0) / (p1 - p0)
    }

    /// The mean of the piecewise-linear inverse CDF (the trapezoid rule is exact), milliseconds.
    pub fn mean_ms(&self) -> f64 {
        self.probs
            .windows(2)
            .zip(self.values_ms.windows(2))
            .map(|(p, v)| (p[1] - p[0]) * (v[0] + v[1]) / 2.0)
            .sum()
    }

    pub fn min_ms(&self) -> f64 {
        self.values_ms[0]
    }

    pub fn max_ms(&self) -> f64 {
        self.values_ms[self.values_ms.len() - 1]
    }

    #[inline]
    pub fn sample(&self, rng: &mut Pcg64Mcg) -> Micros {
        to_us(self.at(rng.random::<f64>()))
    }
}

/// A validated duration distribution.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationDist {
    /// milliseconds
    Constant(f64),
    /// Exponential with this mean, milliseconds.
    Exponential {
        mean_ms: f64,
    },
    /// Lognormal through its median and 99th percentile (milliseconds): `mu = ln p50`,
    /// `sigma = ln(p99 / p50) / z(0.99)`.
    LogNormal {
        p50_ms: f64,
        p99_ms: f64,
        mu: f64,
        sigma: f64,
    },
    Empirical(Quantiles),
}

/// The standard normal quantile at 0.99.
pub fn z99() -> f64 {
    Normal::standard().inverse_cdf(0.99)
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
        let mu = p50_ms.ln();
        let sigma = (p99_ms.ln() - mu) / z99();
        Ok(DurationDist::LogNormal {
            p50_ms,
            p99_ms,
            mu,
            sigma,
        })
    }

    /// The distribution's mean, milliseconds.
    pub fn mean_ms(&self) -> f64 {
        match self {
            DurationDist::Constant(ms) => *ms,
            DurationDist::Exponential { mean_ms } => *mean_ms,
            DurationDist::LogNormal { mu, sigma, .. } => (mu + sigma * sigma / 2.0).exp(),
            DurationDist::Empirical(q) => q.mean_ms(),
        }
    }

    #[inline]
    pub fn sample(&self, rng: &mut Pcg64Mcg) -> Micros {
        self.sample_cached(rng, &mut None)
    }

    /// As [`DurationDist::sample`], keeping the second normal variate of a Box–Muller pair in
    /// `spare` for the next call (half the work for lognormal durations).
    #[inline]
    pub fn sample_cached(&self, rng: &mut Pcg64Mcg, spare: &mut Option<f64>) -> Micros {
        match self {
            DurationDist::Constant(ms) => to_us(*ms),
            DurationDist::Exponential { mean_ms } => to_us(mean_ms * exp1(rng)),
            DurationDist::LogNormal { mu, sigma, .. } => {
                let z = match spare.take() {
                    Some(z) => z,
                    None => {
                        let (a, b) = normal_pair(rng);
                        *spare = Some(b);
                        a
                    }
                };
                to_us((mu + sigma * z).exp())
            }
            DurationDist::Empirical(q) => q.sample(rng),
        }
    }
}

fn check_ms(name: &str, v: f64) -> Result<(), String> {
    if !v.is_finite() || v < 0.0 {
        return Err(format!("{name} = {v}: must be a finite number of ms >= 0"));
    }
    if v * 1e3 > MAX_SAMPLE_US {
        return Err(format!("{name} = {v}: longer than 10 days"));
    }
    Ok(())
}

/// Milliseconds to whole microseconds, clamped to [0, 10 days].
#[inline]
fn to_us(ms: f64) -> Micros {
    (ms * 1e3).clamp(0.0, MAX_SAMPLE_US).round() as Micros
}

/// A standard exponential variate (mean 1), by inversion.
#[inline]
pub fn exp1(rng: &mut Pcg64Mcg) -> f64 {
    // 1 - u is in (0, 1], so the logarithm is finite.
    -(1.0 - rng.random::<f64>()).ln()
}

/// Two independent standard normal variates (Box–Muller).
#[inline]
pub fn normal_pair(rng: &mut Pcg64Mcg) -> (f64, f64) {
    let u1: f64 = rng.random();
    let u2: f64 = rng.random();
    let r = (-2.0 * (1.0 - u1).ln()).sqrt();
    let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
    (r * c, r * s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn quantiles_interpolate_and_validate() {
        let q = Quantiles::new(&[(0.0, 10.0), (0.5, 20.0), (1.0, 40.0)]).unwrap();
        assert_eq!(q.at(0.0), 10.0);
        assert_eq!(q.at(0.25), 15.0);
        assert_eq!(q.at(0.75), 30.0);
        assert_eq!(q.at(1.0), 40.0);
        assert_eq!(q.mean_ms(), 0.5 * 15.0 + 0.5 * 30.0);
        assert!(Quantiles::new(&[(0.0, 10.0)]).is_err());
        assert!(Quantiles::new(&[(0.0, 10.0), (0.5, 5.0), (1.0, 40.0)]).is_err());
        assert!(Quantiles::new(&[(0.1, 10.0), (1.0, 40.0)]).is_err());
        assert!(Quantiles::new(&[(0.0, 10.0), (0.0, 10.0), (1.0, 40.0)]).is_err());
        assert!(Quantiles::new(&[(0.0, f64::NAN), (1.0, 40.0)]).is_err());
    }

    #[test]
    fn lognormal_hits_its_percentiles() {
        let d = DurationDist::lognormal(80.0, 400.0).unwrap();
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let mut xs: Vec<Micros> = (0..200_000).map(|_| d.sample(&mut rng)).collect();
        xs.sort_unstable();
        let p50 = xs[100_000] as f64 / 1e3;
        let p99 = xs[198_000] as f64 / 1e3;
        assert!((p50 - 80.0).abs() < 1.0, "p50 {p50}");
        assert!((p99 - 400.0).abs() < 12.0, "p99 {p99}");
    }
}
