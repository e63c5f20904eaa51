//! Cold-start (init) time distributions: constant, lognormal fitted through two percentiles, or
//! empirical from measured samples. The default comes from the measured Lambda init durations
//! shipped in `pricing/cold-start/lambda-init-duration-ms.csv`. No I/O: `empirical:FILE` parses to
//! [`InitSpec::Empirical`], and the caller reads the file ([`crate::dist::read_samples_ms`]).

use std::path::{Path, PathBuf};

use rand::Rng;

use crate::dist::{LogNormal, Quantiles};
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
    LogNormal(LogNormal),
    /// Inverse empirical CDF with linear interpolation between sorted samples (milliseconds).
    Empirical {
        /// Where the samples came from, for output.
        source: PathBuf,
        samples: Quantiles,
    },
}

/// What an `--init-ms` spec asks for: a distribution, or samples that the caller still has to
/// read from a file.
#[derive(Debug, Clone)]
pub enum InitSpec {
    Dist(InitDist),
    /// `empirical:FILE`: one sample in ms per line (see [`crate::dist::read_samples_ms`]).
    Empirical(PathBuf),
}

impl InitSpec {
    /// Parses `N` (constant ms), `lognormal:P50,P99` (ms) or `empirical:FILE`.
    pub fn parse(spec: &str) -> Result<InitSpec, ConfigError> {
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
            check_init_ms(spec, p99)?;
            return InitDist::lognormal(p50, p99).map(InitSpec::Dist);
        }
        if let Some(path) = spec.strip_prefix("empirical:") {
            return Ok(InitSpec::Empirical(PathBuf::from(path)));
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
        check_init_ms(spec, ms)?;
        Ok(InitSpec::Dist(InitDist::Constant(ms_to_us(ms))))
    }
}

/// Refuses an init time beyond [`crate::dist::MAX_INIT_MS`] instead of clamping it.
fn check_init_ms(spec: &str, ms: f64) -> Result<(), ConfigError> {
    use crate::dist::MAX_INIT_MS;
    if ms > MAX_INIT_MS {
        return Err(ConfigError::field(
            "init",
            format!(
                "{spec:?}: {ms} ms is longer than the longest init time, {MAX_INIT_MS} ms (1 h)"
            ),
        ));
    }
    Ok(())
}

impl InitDist {
    /// A lognormal whose median is `p50_ms` and whose 99th percentile is `p99_ms`.
    pub fn lognormal(p50_ms: f64, p99_ms: f64) -> Result<InitDist, ConfigError> {
        LogNormal::from_p50_p99(p50_ms, p99_ms)
            .map(InitDist::LogNormal)
            .map_err(|why| {
                ConfigError::field("init", format!("lognormal:{p50_ms},{p99_ms}: {why}"))
            })
    }

    /// Parses a spec that needs no file: `N` (constant ms) or `lognormal:P50,P99` (ms).
    /// `empirical:FILE` is refused here; parse it with [`InitSpec::parse`] and read the file.
    pub fn parse(spec: &str) -> Result<InitDist, ConfigError> {
        match InitSpec::parse(spec)? {
            InitSpec::Dist(d) => Ok(d),
            InitSpec::Empirical(_) => Err(ConfigError::field(
                "init",
                format!("{spec:?}: empirical:FILE needs its file read first (InitSpec::parse)"),
            )),
        }
    }

    /// The empirical distribution of measured init samples (ms) read from `source`.
    pub fn empirical(source: &Path, samples_ms: Vec<f64>) -> Result<InitDist, ConfigError> {
        let samples = Quantiles::from_samples(samples_ms).map_err(|why| ConfigError::File {
            path: source.to_path_buf(),
            line: 0,
            reason: format!("init samples: {why}"),
        })?;
        Ok(InitDist::Empirical {
            source: source.to_path_buf(),
            samples,
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
            InitDist::LogNormal(d) => d.sample(rng, &mut None),
            InitDist::Empirical { samples, .. } => samples.sample(rng),
        }
    }

    /// The distribution's mean, milliseconds (for documentation and tests).
    pub fn mean_ms(&self) -> f64 {
        match self {
            InitDist::Constant(us) => *us as f64 / 1e3,
            InitDist::LogNormal(d) => d.mean_ms(),
            InitDist::Empirical { samples, .. } => samples.mean_ms(),
        }
    }

    /// A short description for output, e.g. `lognormal(p50=85ms, p99=135ms)`.
    pub fn describe(&self) -> String {
        match self {
            InitDist::Constant(us) => format!("constant({}ms)", *us as f64 / 1e3),
            InitDist::LogNormal(d) => {
                format!("lognormal(p50={}ms, p99={}ms)", d.p50_ms, d.p99_ms)
            }
            InitDist::Empirical { source, samples } => {
                format!("empirical({}, {} samples)", source.display(), samples.len())
            }
        }
    }
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
            InitDist::LogNormal(d) => {
                let (p50_ms, p99_ms) = (d.p50_ms, d.p99_ms);
                assert!(p50_ms > 50.0 && p50_ms < 150.0);
                assert!(p99_ms > p50_ms);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(InitDist::lambda_default("cobol", "zip", "x86_64", 512).is_err());
    }

    #[test]
    fn empirical_samples_come_from_the_caller() {
        let spec = InitSpec::parse("empirical:inits.csv").unwrap();
        assert!(matches!(&spec, InitSpec::Empirical(p) if p == Path::new("inits.csv")));
        assert!(InitDist::parse("empirical:inits.csv").is_err());
        let d = InitDist::empirical(Path::new("inits.csv"), vec![30.0, 10.0, 20.0]).unwrap();
        assert_eq!(d.mean_ms(), 20.0);
        assert_eq!(d.describe(), "empirical(inits.csv, 3 samples)");
        assert!(InitDist::empirical(Path::new("x"), vec![]).is_err());
    }
}
