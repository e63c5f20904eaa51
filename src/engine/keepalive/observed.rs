//! `lambda-observed`: Lambda's idle lifetime as outsiders measured it. Each idle period's
//! keep-alive is drawn from a distribution, and no instance outlives a maximum lifetime. The data
//! (with its sources) is `pricing/keep-alive/lambda-observed.toml`, embedded at build time; a test
//! loads it.

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

use super::{AppKeepAlive, KeepAlivePolicy, Learner, Mode, Windows};
use crate::dist::Quantiles;
use crate::time::{MINUTE, Micros};

const SHIPPED: &str = include_str!("../../../pricing/keep-alive/lambda-observed.toml");

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    idle_lifetime: IdleFile,
    max_lifetime: MaxFile,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IdleFile {
    /// (probability, minutes)
    points: Vec<(f64, f64)>,
    source: String,
    as_of: String,
    #[allow(dead_code)]
    confidence: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MaxFile {
    minutes: f64,
    source: String,
    as_of: String,
    #[allow(dead_code)]
    confidence: String,
}

/// A measured idle-lifetime distribution and maximum lifetime.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedLifetime {
    /// Idle lifetime (milliseconds, as [`Quantiles`] holds them).
    pub idle: Quantiles,
    /// Microseconds.
    pub max_lifetime: Micros,
    /// Where the numbers come from.
    pub source: String,
}

impl ObservedLifetime {
    /// Parses a file in the shipped format; the error says what is wrong.
    pub fn parse(text: &str) -> Result<ObservedLifetime, String> {
        let f: File = toml::from_str(text).map_err(|e| e.to_string())?;
        if f.version != 1 {
            return Err(format!("version {}: expected 1", f.version));
        }
        for (what, s) in [
            ("idle_lifetime.source", &f.idle_lifetime.source),
            ("idle_lifetime.as_of", &f.idle_lifetime.as_of),
            ("max_lifetime.source", &f.max_lifetime.source),
            ("max_lifetime.as_of", &f.max_lifetime.as_of),
        ] {
            if s.trim().is_empty() {
                return Err(format!("{what} is empty"));
            }
        }
        let ms: Vec<(f64, f64)> = f
            .idle_lifetime
            .points
            .iter()
            .map(|&(p, min)| (p, min * 60_000.0))
            .collect();
        let idle = Quantiles::new(&ms).map_err(|e| format!("idle_lifetime.points: {e}"))?;
        let m = f.max_lifetime.minutes;
        if !(1.0..=10.0 * 24.0 * 60.0).contains(&m) {
            return Err(format!("max_lifetime.minutes {m}: must be 1 to 14400"));
        }
        Ok(ObservedLifetime {
            idle,
            max_lifetime: (m * MINUTE as f64).round() as Micros,
            source: format!(
                "{} ({}); max lifetime: {} ({})",
                f.idle_lifetime.source,
                f.idle_lifetime.as_of,
                f.max_lifetime.source,
                f.max_lifetime.as_of
            ),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LambdaObserved(pub ObservedLifetime);

impl LambdaObserved {
    /// The shipped data (`pricing/keep-alive/lambda-observed.toml`, checked by a test).
    pub fn shipped() -> LambdaObserved {
        match ObservedLifetime::parse(SHIPPED) {
            Ok(d) => LambdaObserved(d),
            // The embedded file is checked by `the_shipped_lifetimes_load`; this cannot be
            // reached by user input.
            Err(e) => unreachable!("pricing/keep-alive/lambda-observed.toml: {e}"),
        }
    }
}

impl KeepAlivePolicy for LambdaObserved {
    fn app(&self, seed: u64) -> AppKeepAlive {
        AppKeepAlive::Learner(Box::new(ObservedState {
            idle: self.0.idle.clone(),
            rng: Pcg64Mcg::seed_from_u64(seed),
        }))
    }

    fn max_lifetime(&self) -> Option<Micros> {
        Some(self.0.max_lifetime)
    }

    fn longest(&self) -> Micros {
        crate::dist::ms_to_us_clamped(self.0.idle.max_ms())
    }

    fn describe(&self) -> String {
        format!(
            "lambda-observed (idle lifetime {:.0}–{:.0} min, max lifetime {} min)",
            self.0.idle.min_ms() / 60_000.0,
            self.0.idle.max_ms() / 60_000.0,
            self.0.max_lifetime / MINUTE
        )
    }
}

#[derive(Debug)]
struct ObservedState {
    idle: Quantiles,
    rng: Pcg64Mcg,
}

impl Learner for ObservedState {
    fn observe(&mut self, _idle: Micros) {}

    fn decide(&mut self) -> (Windows, Mode) {
        (
            Windows {
                prewarm: 0,
                keep_alive: self.idle.sample(&mut self.rng),
            },
            Mode::Observed,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lifetimes_load() {
        let d = ObservedLifetime::parse(SHIPPED).unwrap();
        assert_eq!(d.max_lifetime, 240 * MINUTE);
        assert_eq!(d.idle.min_ms(), 5.0 * 60_000.0);
        assert!(d.source.contains("mikhail.io"));
    }

    #[test]
    fn draws_follow_the_measured_distribution() {
        // Uniform(5, 15) min: the mean of n draws is within 4 standard errors of 10 min
        // (σ = 10/√12 min).
        let mut a = LambdaObserved::shipped().app(3);
        let n = 10_000;
        let sum: f64 = (0..n).map(|_| a.decide().0.keep_alive as f64).sum();
        let mean_min = sum / n as f64 / MINUTE as f64;
        let se = 10.0 / 12f64.sqrt() / (n as f64).sqrt();
        assert!((mean_min - 10.0).abs() < 4.0 * se, "{mean_min}");
    }

    #[test]
    fn a_bad_file_is_refused_with_the_key() {
        let bad = SHIPPED.replace("minutes = 240", "minutes = 0");
        assert!(
            ObservedLifetime::parse(&bad)
                .unwrap_err()
                .contains("max_lifetime")
        );
        let bad = SHIPPED.replace("[[0.0, 5.0], [1.0, 15.0]]", "[[0.0, 5.0], [0.5, 15.0]]");
        assert!(
            ObservedLifetime::parse(&bad)
                .unwrap_err()
                .contains("idle_lifetime")
        );
    }
}
