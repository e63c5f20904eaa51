//! Distributions of durations and init times, shared by the readers, `generate` and the engine:
//! the one quantile (a piecewise-linear inverse CDF), the one lognormal through (p50, p99), the one
//! empirical sampler, and the one 10-day duration limit. No I/O except [`read_samples_ms`], which
//! callers use to load `empirical:FILE` before handing the samples to the engine.

pub mod duration;

use std::path::Path;

use rand::{Rng, RngExt};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::ConfigError;
use crate::time::{HOUR, Micros};

pub use duration::DurationDist;

/// The longest duration faasplan accepts or samples, microseconds: 10 days. Serverless platforms
/// stop an invocation after minutes or at most hours, so a longer value is a unit mistake.
pub const MAX_DURATION_US: Micros = 10 * 24 * HOUR;
/// [`MAX_DURATION_US`] in milliseconds.
pub const MAX_DURATION_MS: f64 = MAX_DURATION_US as f64 / 1e3;

/// Milliseconds to whole microseconds, clamped to [0, [`MAX_DURATION_US`]].
#[inline]
pub fn ms_to_us_clamped(ms: f64) -> Micros {
    round_small((ms * 1e3).clamp(0.0, MAX_DURATION_US as f64))
}

/// `x.round() as u64` (half away from zero) for `0 <= x < 2^52`, and 0 for NaN, without a call
/// to libm's `round` (a call on baseline x86-64, and a replay draws a duration per request).
/// Exact: below 2^52 the truncation and the difference are exact.
#[inline]
fn round_small(x: f64) -> u64 {
    debug_assert!(x.is_nan() || (0.0..4_503_599_627_370_496.0).contains(&x));
    let i = x as u64;
    if x - i as f64 >= 0.5 { i + 1 } else { i }
}

/// The type-7 quantile of sorted, non-empty data (linear between order statistics at i/(n-1)):
/// the inverse CDF that [`Quantiles::from_sorted`] samples from.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let (i, t) = even_segment(sorted.len(), p);
    interpolate(sorted, i, t, 1.0)
}

/// The segment `(i, t)` of probability `u` among `n` values at evenly spaced probabilities:
/// `u` lies between value `i` and `i + 1`, a fraction `t` of the way. `t` is 0 at the last value.
#[inline]
fn even_segment(n: usize, u: f64) -> (usize, f64) {
    let h = (n.saturating_sub(1)) as f64 * u.clamp(0.0, 1.0);
    let i = (h.floor() as usize).min(n.saturating_sub(1));
    (i, h - i as f64)
}

/// The value a fraction `num / den` of the way from `values[i]` to `values[i + 1]` (the division
/// comes last, so a table's interpolation is rounded as it always was).
#[inline]
fn interpolate(values: &[f64], i: usize, num: f64, den: f64) -> f64 {
    match values.get(i + 1) {
        Some(&next) if num != 0.0 => values[i] + (next - values[i]) * num / den,
        _ => values[i],
    }
}

/// Where the probabilities of a [`Quantiles`] table are.
#[derive(Debug, Clone, PartialEq)]
enum Probs {
    /// At i/(n-1): the order statistics of a sample.
    Even,
    /// As given: strictly increasing, from exactly 0 to exactly 1.
    Given(Vec<f64>),
}

/// A piecewise-linear inverse CDF through `(probability, value)` points, values in milliseconds.
/// Validated: values finite, `>= 0` and non-decreasing; probabilities from exactly 0 to exactly 1
/// and strictly increasing.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantiles {
    probs: Probs,
    /// milliseconds
    values_ms: Vec<f64>,
}

impl Quantiles {
    /// A table of percentiles; the error says what is wrong (without a location). Values are
    /// durations, so each must be at most 10 days.
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
            if v > MAX_DURATION_MS {
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
            probs: Probs::Given(points.iter().map(|p| p.0).collect()),
            values_ms: points.iter().map(|p| p.1).collect(),
        })
    }

    /// The empirical distribution of a sample (milliseconds, any order): the order statistics at
    /// probabilities i/(n-1), linear in between. A single sample is a constant.
    pub fn from_samples(mut samples_ms: Vec<f64>) -> Result<Quantiles, String> {
        if samples_ms.is_empty() {
            return Err("no samples".into());
        }
        if let Some(v) = samples_ms.iter().find(|v| !v.is_finite() || **v < 0.0) {
            return Err(format!("sample {v} ms must be a finite number >= 0"));
        }
        samples_ms.sort_by(f64::total_cmp);
        Ok(Quantiles {
            probs: Probs::Even,
            values_ms: samples_ms,
        })
    }

    /// The value at probability `u` in [0, 1], milliseconds.
    #[inline]
    pub fn at(&self, u: f64) -> f64 {
        let (i, num, den) = match &self.probs {
            Probs::Even => {
                let (i, t) = even_segment(self.values_ms.len(), u);
                (i, t, 1.0)
            }
            Probs::Given(probs) => {
                let u = u.clamp(0.0, 1.0);
                // A handful of points: a linear scan beats a binary search.
                let mut i = 1;
                while i < probs.len() - 1 && probs[i] < u {
                    i += 1;
                }
                let (p0, p1) = (probs[i - 1], probs[i]);
                (i - 1, u - p0, p1 - p0)
            }
        };
        interpolate(&self.values_ms, i, num, den)
    }

    /// The mean of the piecewise-linear inverse CDF (the trapezoid rule is exact), milliseconds.
    pub fn mean_ms(&self) -> f64 {
        let v = &self.values_ms;
        match &self.probs {
            Probs::Even if v.len() == 1 => v[0],
            Probs::Even => {
                v.windows(2).map(|w| (w[0] + w[1]) / 2.0).sum::<f64>() / (v.len() - 1) as f64
            }
            Probs::Given(probs) => probs
                .windows(2)
                .zip(v.windows(2))
                .map(|(p, v)| (p[1] - p[0]) * (v[0] + v[1]) / 2.0)
                .sum(),
        }
    }

    pub fn min_ms(&self) -> f64 {
        self.values_ms[0]
    }

    pub fn max_ms(&self) -> f64 {
        self.values_ms[self.values_ms.len() - 1]
    }

    /// How many points (or samples) the table has.
    pub fn len(&self) -> usize {
        self.values_ms.len()
    }

    /// The table as words (probabilities, then values, as `f64` bits), for fingerprints.
    pub fn words(&self) -> impl Iterator<Item = u64> + '_ {
        let probs: &[f64] = match &self.probs {
            Probs::Even => &[],
            Probs::Given(p) => p,
        };
        std::iter::once(probs.len() as u64)
            .chain(probs.iter().map(|p| p.to_bits()))
            .chain(self.values_ms.iter().map(|v| v.to_bits()))
    }

    pub fn is_empty(&self) -> bool {
        self.values_ms.is_empty()
    }

    /// One draw by inversion, microseconds (clamped to the 10-day limit).
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Micros {
        ms_to_us_clamped(self.at(rng.random::<f64>()))
    }
}

/// The standard normal quantile at 0.99.
pub fn z99() -> f64 {
    Normal::standard().inverse_cdf(0.99)
}

/// A lognormal through its median and 99th percentile (milliseconds): `mu = ln p50`,
/// `sigma = ln(p99 / p50) / z(0.99)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    pub p50_ms: f64,
    pub p99_ms: f64,
    mu: f64,
    sigma: f64,
}

impl LogNormal {
    /// Needs finite `0 < p50 < p99`; the error says so (the caller adds the flag or key).
    pub fn from_p50_p99(p50_ms: f64, p99_ms: f64) -> Result<LogNormal, String> {
        if !(p50_ms.is_finite() && p99_ms.is_finite() && p50_ms > 0.0 && p99_ms > p50_ms) {
            return Err(format!(
                "need 0 < p50 < p99 (milliseconds), got p50 = {p50_ms}, p99 = {p99_ms}"
            ));
        }
        let mu = p50_ms.ln();
        Ok(LogNormal {
            p50_ms,
            p99_ms,
            mu,
            sigma: (p99_ms.ln() - mu) / z99(),
        })
    }

    /// The mean, milliseconds.
    pub fn mean_ms(&self) -> f64 {
        (self.mu + self.sigma * self.sigma / 2.0).exp()
    }

    /// One draw, microseconds (clamped to the 10-day limit). A Box–Muller pair gives two normal
    /// variates: the second is kept in `spare` for the next call.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R, spare: &mut Option<f64>) -> Micros {
        let z = match spare.take() {
            Some(z) => z,
            None => {
                let (a, b) = normal_pair(rng);
                *spare = Some(b);
                a
            }
        };
        ms_to_us_clamped((self.mu + self.sigma * z).exp())
    }
}

/// A standard exponential variate (mean 1), by inversion.
#[inline]
pub fn exp1<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // 1 - u is in (0, 1], so the logarithm is finite.
    -(1.0 - rng.random::<f64>()).ln()
}

/// Two independent standard normal variates (Box–Muller).
#[inline]
pub fn normal_pair<R: Rng + ?Sized>(rng: &mut R) -> (f64, f64) {
    let u1: f64 = rng.random();
    let u2: f64 = rng.random();
    let r = (-2.0 * (1.0 - u1).ln()).sqrt();
    let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
    (r * c, r * s)
}

/// The longest init time a spec or a sample may give, ms (an hour: platforms abort an init long
/// before). Longer values are refused, not clamped.
pub const MAX_INIT_MS: f64 = 3_600_000.0;

/// Reads a file of samples in milliseconds (the first comma-separated field of each line; blank
/// lines and lines starting with `#` are ignored; a first line that is not a number is a header).
/// This is the I/O behind `--init-ms empirical:FILE`; the engine only sees the samples.
pub fn read_samples_ms(path: &Path) -> Result<Vec<f64>, ConfigError> {
    let text = read_text(path).map_err(|e| ConfigError::File {
        path: path.to_path_buf(),
        line: 0,
        reason: format!("cannot read empirical init samples: {e}"),
    })?;
    let mut samples = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let field = line.split(',').next().unwrap_or("").trim();
        if field.is_empty() || field.starts_with('#') {
            continue;
        }
        match field.parse::<f64>() {
            Ok(v) if v.is_finite() && (0.0..=MAX_INIT_MS).contains(&v) => samples.push(v),
            Ok(_) => {
                return Err(ConfigError::File {
                    path: path.to_path_buf(),
                    line: i as u64 + 1,
                    reason: format!(
                        "init sample {field:?}: must be a number of ms in 0..={MAX_INIT_MS} (1 h)"
                    ),
                });
            }
            Err(_) if samples.is_empty() && i == 0 => continue, // header
            Err(_) => {
                return Err(ConfigError::File {
                    path: path.to_path_buf(),
                    line: i as u64 + 1,
                    reason: format!("init sample {field:?}: not a number (ms)"),
                });
            }
        }
    }
    if samples.is_empty() {
        return Err(ConfigError::File {
            path: path.to_path_buf(),
            line: 0,
            reason: "no init samples found (expected one number in ms per line)".into(),
        });
    }
    Ok(samples)
}

/// Reads a whole text file (TOML, an init-sample file, JSON). Invalid UTF-8 is an
/// `InvalidData` error that says where: the 1-based line and the 1-based byte within it (and the
/// byte offset in the file), where `std::fs::read_to_string` names no place at all.
pub fn read_text(path: &Path) -> std::io::Result<String> {
    text_of(std::fs::read(path)?)
}

/// `bytes` as UTF-8 text; invalid UTF-8 is an error naming its line and byte.
pub fn text_of(bytes: Vec<u8>) -> std::io::Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let before = &bytes[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "invalid UTF-8 at line {line}, byte {} of the line (byte {} of the file)",
                at - line_start + 1,
                at + 1
            ),
        )
    })
}

/// The 1-based line and column (in characters) of byte `offset` in `text`: where a TOML error
/// span starts. The one helper every TOML loader (offerings, servers, workloads) uses.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_small_is_round() {
        let mut xs = vec![
            0.0,
            0.5,
            1.5,
            2.5,
            0.49999999999999994,
            1.4999999999999998,
            4_503_599_627_370_495.0,
            MAX_DURATION_US as f64,
            1e-300,
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x >> 11) as f64 / (1u64 << 53) as f64;
            xs.push(v * 1e12);
            xs.push(v * 10.0);
            xs.push((x % 1_000_000) as f64 + 0.5);
        }
        for v in xs {
            assert_eq!(round_small(v), v.round() as u64, "{v}");
        }
        assert_eq!(round_small(f64::NAN), f64::NAN.round() as u64);
    }
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

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
    fn empirical_is_the_type_7_quantile_and_agrees_with_a_table() {
        let q = Quantiles::from_samples(vec![30.0, 10.0, 20.0]).unwrap();
        assert_eq!(q.at(0.0), 10.0);
        assert_eq!(q.at(0.25), 15.0);
        assert_eq!(q.at(1.0), 30.0);
        assert_eq!(q.mean_ms(), 20.0);
        assert_eq!(quantile(&[10.0, 20.0, 30.0], 0.75), 25.0);
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
        // The same points given as a table: the same inverse CDF.
        let t = Quantiles::new(&[(0.0, 10.0), (0.5, 20.0), (1.0, 30.0)]).unwrap();
        for u in [0.0, 0.1, 0.33, 0.5, 0.9, 1.0] {
            assert!((q.at(u) - t.at(u)).abs() < 1e-12, "{u}");
        }
        assert!(Quantiles::from_samples(vec![]).is_err());
        assert!(Quantiles::from_samples(vec![1.0, -1.0]).is_err());
    }

    /// The sample p-quantile's standard error is sqrt(p(1-p)/n) / f(x_p); the bounds are 5 of
    /// them, so a correct sampler fails about once in 3 million runs.
    #[test]
    fn lognormal_hits_its_percentiles() {
        let d = LogNormal::from_p50_p99(80.0, 400.0).unwrap();
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let n = 200_000;
        let mut spare = None;
        let mut xs: Vec<Micros> = (0..n).map(|_| d.sample(&mut rng, &mut spare)).collect();
        xs.sort_unstable();
        let sigma = (400.0f64 / 80.0).ln() / z99();
        let normal = Normal::standard();
        for (p, want) in [(0.5, 80.0), (0.99, 400.0)] {
            let got = xs[(p * n as f64) as usize] as f64 / 1e3;
            // The lognormal density at its p-quantile x: phi(z_p) / (x sigma).
            let z = normal.inverse_cdf(p);
            let density = (-z * z / 2.0).exp() / (std::f64::consts::TAU.sqrt() * want * sigma);
            let se = (p * (1.0 - p) / n as f64).sqrt() / density;
            assert!(
                (got - want).abs() < 5.0 * se,
                "p{p}: {got} vs {want} (se {se})"
            );
        }
        assert!((d.mean_ms() - 80.0 * (sigma * sigma / 2.0).exp()).abs() < 1e-9);
        assert!(LogNormal::from_p50_p99(100.0, 50.0).is_err());
        assert!(LogNormal::from_p50_p99(0.0, 50.0).is_err());
    }

    /// Regression: the server catalog loader counted `text[..offset].lines()`, one line too few
    /// (0 for an error on the first line).
    #[test]
    fn line_column_is_one_based() {
        assert_eq!(line_column("a = 1", 0), (1, 1));
        assert_eq!(line_column("a = 1\nb = x", 10), (2, 5));
        assert_eq!(line_column("a\n", 2), (2, 1));
        assert_eq!(line_column("é = 1", 3), (1, 3));
        assert_eq!(line_column("x", 99), (1, 2));
    }
}
