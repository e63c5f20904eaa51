//! Cold-start (init) time distributions: constant, lognormal fitted through two percentiles, or
//! empirical from a file of measured samples. The default comes from the measured Lambda init
//! durations shipped in `pricing/cold-start/lambda-init-duration-ms.csv`.

use std::path::{Path, PathBuf};

use rand::Rng;
use rand::distr::Distribution;
use statrs::distribution::{ContinuousCDF, LogNormal, Normal};

use crate::error::ConfigError;
use crate::time::{Micros, ms_to_us};

/// The measured Lambda init durations (see `pricing/cold-start/README.md` for the source).
pub const LAMBDA_INIT_TABLE: &str =
    include_str!("../../pricing/cold-start/lambda-init-duration-ms.csv");

/// A validated init-time distribution. Samples are in microseconds.
#[derive(Debug, Clone)]
pub enum InitDist {
    Constant(Micros),
    /// Lognormal through (p50, p99), both in milliseconds.
    LogNormal {
        p50_ms: f64,
        p99_ms: f64,
        dist: LogNormal,
    },
    /// Inverse empirical CDF with linear interpolation between sorted samples (milliseconds).
    Empirical {
        path: PathBuf,
        sorted_ms: Vec<f64>,
    },
}

/// The standard normal quantile at 0.99.
fn z99() -> f64 {
    Normal::standard().inverse_cdf(0.99)
}

impl InitDist {
    /// A lognormal whose median is `p50_ms` and whose 99th percentile is `p99_ms`.
    pub fn lognormal(p50_ms: f64, p99_ms: f64) -> Result<InitDist, ConfigError> {
        if !(p50_ms.is_finite() && p99_ms.is_finite() && p50_ms > 0.0 && p99_ms > p50_ms) {
            return Err(ConfigError::field(
                "init",
                format!("lognormal:{p50_ms},{p99_ms}: need 0 < P50 < P99 (milliseconds)"),
            ));
        }
        let mu = p50_ms.ln();
        let sigma = (p99_ms.ln() - mu) / z99();
        let dist = LogNormal::new(mu, sigma)
            .map_err(|e| ConfigError::field("init", format!("lognormal: {e}")))?;
        Ok(InitDist::LogNormal {
            p50_ms,
            p99_ms,
            dist,
        })
    }

    /// Parses `N` (constant ms), `lognormal:P50,P99` (ms) or `empirical:FILE` (one sample in ms per
    /// line; blank lines and lines starting with `#` are ignored; a first line that is not a number
    /// is taken as a header).
    pub fn parse(spec: &str) -> Result<InitDist, ConfigError> {
        let spec = spec.trim();
        if let Some(rest) = spec.strip_prefix("lognormal:") {
            let parts: Vec<&str> = rest.split(',').map(str::trim).collect();
            let bad = || {
                ConfigError::field(
                    "init",
                    format!("{spec:?}: expected lognormal:P50,P99 with two numbers in ms"),
                )
            };
            if parts.len() != 2 {
                return Err(bad());
            }
            let p50: f64 = parts[0].parse().map_err(|_| bad())?;
            let p99: f64 = parts[1].parse().map_err(|_| bad())?;
            return InitDist::lognormal(p50, p99);
        }
        if let Some(path) = spec.strip_prefix("empirical:") {
            return InitDist::empirical_file(Path::new(path));
        }
        let ms: f64 = spec.parse().map_err(|_| {
            ConfigError::field(
                "init",
                format!("{spec:?}: expected N (ms), lognormal:P50,P99 or empirical:FILE"),
            )
        })?;
        if !ms.is_finite() || ms < 0.0 {
            return Err(ConfigError::field(
                "init",
                format!("{spec:?}: must be a finite number >= 0"),
            ));
        }
        Ok(InitDist::Constant(ms_to_us(ms)))
    }

    fn empirical_file(path: &Path) -> Result<InitDist, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
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
                Ok(v) if v.is_finite() && v >= 0.0 => samples.push(v),
                Ok(_) => {
                    return Err(ConfigError::File {
                        path: path.to_path_buf(),
                        line: i as u64 + 1,
                        reason: format!("init sample {field:?}: must be a finite number >= 0 (ms)"),
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
        samples.sort_by(f64::total_cmp);
        Ok(InitDist::Empirical {
            path: path.to_path_buf(),
            sorted_ms: samples,
        })
    }

    /// The default for a Lambda-like platform: the measured table row for `runtime`, `package`
    /// and `arch` at the memory size nearest `memory_mb`, fitted as a lognormal.
    pub fn lambda_default(
        runtime: &str,
        package: &str,
        arch: &str,
        memory_mb: u32,
    ) -> Result<InitDist, ConfigError> {
        let mut best: Option<(u32, f64, f64)> = None;
        let mut runtimes = std::collections::BTreeSet::new();
        for line in LAMBDA_INIT_TABLE.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            if f.len() < 9 {
                continue;
            }
            runtimes.insert(f[0]);
            if f[0] != runtime || f[1] != package || f[2] != arch {
                continue;
            }
            let (Ok(mem), Ok(p50), Ok(p99)) = (
                f[3].parse::<u32>(),
                f[5].parse::<f64>(),
                f[7].parse::<f64>(),
            ) else {
                continue;
            };
            let dist = mem.abs_diff(memory_mb);
            if best.is_none_or(|(m, _, _)| dist < m.abs_diff(memory_mb)) {
                best = Some((mem, p50, p99));
            }
        }
        match best {
            Some((_, p50, p99)) => InitDist::lognormal(p50, p99),
            None => Err(ConfigError::field(
                "init.runtime",
                format!(
                    "no measured init durations for runtime {runtime:?}, package {package:?}, arch {arch:?}; known runtimes: {}",
                    runtimes.into_iter().collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    /// Draws one init time, microseconds.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Micros {
        match self {
            InitDist::Constant(us) => *us,
            InitDist::LogNormal { dist, .. } => {
                let ms = dist.sample(rng);
                // A lognormal sample is finite and positive; clamp so a freak draw cannot overflow.
                ms_to_us(ms.min(1e9))
            }
            InitDist::Empirical { sorted_ms, .. } => {
                let u: f64 = rand::RngExt::random(rng);
                ms_to_us(interpolate(sorted_ms, u))
            }
        }
    }

    /// The distribution's mean, milliseconds (for documentation and tests).
    pub fn mean_ms(&self) -> f64 {
        match self {
            InitDist::Constant(us) => *us as f64 / 1e3,
            InitDist::LogNormal { p50_ms, p99_ms, .. } => {
                let sigma = (p99_ms.ln() - p50_ms.ln()) / z99();
                p50_ms * (sigma * sigma / 2.0).exp()
            }
            InitDist::Empirical { sorted_ms, .. } => {
                // Mean of the piecewise-linear inverse CDF = trapezoid over the samples.
                if sorted_ms.len() == 1 {
                    return sorted_ms[0];
                }
                let n = sorted_ms.len() - 1;
                sorted_ms
                    .windows(2)
                    .map(|w| (w[0] + w[1]) / 2.0)
                    .sum::<f64>()
                    / n as f64
            }
        }
    }

    /// A short description for output, e.g. `lognormal(p50=85ms, p99=135ms)`.
    pub fn describe(&self) -> String {
        match self {
            InitDist::Constant(us) => format!("constant({}ms)", *us as f64 / 1e3),
            InitDist::LogNormal { p50_ms, p99_ms, .. } => {
                format!("lognormal(p50={p50_ms}ms, p99={p99_ms}ms)")
            }
            InitDist::Empirical { path, sorted_ms } => {
                format!("empirical({}, {} samples)", path.display(), sorted_ms.len())
            }
        }
    }
}

/// Piecewise-linear inverse CDF through the sorted samples at positions i/(n-1).
fn interpolate(sorted: &[f64], u: f64) -> f64 {
    if sorted.len() == 1 {
        return sorted[0];
    }
    let pos = u.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let i = (pos.floor() as usize).min(sorted.len() - 2);
    let frac = pos - i as f64;
    sorted[i] + (sorted[i + 1] - sorted[i]) * frac
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn lognormal_fit_hits_both_percentiles() {
        let d = InitDist::lognormal(85.0, 135.0).unwrap();
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let mut xs: Vec<Micros> = (0..200_000).map(|_| d.sample(&mut rng)).collect();
        xs.sort_unstable();
        let p50 = xs[100_000] as f64 / 1e3;
        let p99 = xs[198_000] as f64 / 1e3;
        // Standard error of a sample quantile is tiny at n = 200k; 1 % is many SEs.
        assert!((p50 - 85.0).abs() < 0.85, "p50 {p50}");
        assert!((p99 - 135.0).abs() < 1.35, "p99 {p99}");
    }

    #[test]
    fn parse_specs() {
        assert!(matches!(
            InitDist::parse("250").unwrap(),
            InitDist::Constant(250_000)
        ));
        assert!(InitDist::parse("lognormal:100,50").is_err());
        assert!(InitDist::parse("lognormal:100").is_err());
        assert!(InitDist::parse("-3").is_err());
        assert!(InitDist::parse("fast").is_err());
    }

    #[test]
    fn default_table_row_is_found() {
        let d = InitDist::lambda_default("python3.12", "zip", "x86_64", 512).unwrap();
        match d {
            InitDist::LogNormal { p50_ms, p99_ms, .. } => {
                assert!(p50_ms > 50.0 && p50_ms < 150.0);
                assert!(p99_ms > p50_ms);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(InitDist::lambda_default("cobol", "zip", "x86_64", 512).is_err());
    }

    #[test]
    fn empirical_interpolates() {
        let s = [10.0, 20.0, 30.0];
        assert_eq!(interpolate(&s, 0.0), 10.0);
        assert_eq!(interpolate(&s, 0.25), 15.0);
        assert_eq!(interpolate(&s, 1.0), 30.0);
    }
}
