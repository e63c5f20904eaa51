//! The calculator user's quick form: `--rate 50/s --duration-ms lognormal:80,400` (and
//! optionally `--daily-peak 200/s`) instead of a trace. The flags become a one-function workload
//! spec in memory, read by the spec reader like `simulate SPEC.toml`: the same generator, seeds
//! and validation, no file.

use clap::Args;

use faasplan::error::ConfigError;
use faasplan::time::{HOUR, Micros, SECOND};

/// The quick form's flags.
#[derive(Debug, Clone, Args)]
pub struct QuickArgs {
    /// Instead of a trace: one function invoked at this Poisson rate, e.g. 50/s, 3000/min, 2/h
    /// (a bare number is per second). With --daily-peak it is the quietest rate of the day
    /// (at 02:00). Needs --duration-ms.
    #[arg(long, value_name = "RATE", value_parser = parse_rate, requires = "duration_ms")]
    pub rate: Option<f64>,

    /// With --rate: each invocation's duration, N (constant ms), exp:MEAN (exponential, ms) or
    /// lognormal:P50,P99 (ms).
    #[arg(long, value_name = "DIST", value_parser = parse_duration_dist, requires = "rate")]
    pub duration_ms: Option<QuickDuration>,

    /// With --rate: a daily cycle whose busiest rate (at 14:00) is this one, e.g. 200/s; --rate
    /// is then the quietest (at 02:00), as in workloads/api-backend.toml.
    #[arg(long, value_name = "RATE", value_parser = parse_rate, requires = "rate")]
    pub daily_peak: Option<f64>,

    /// With --rate: how long the generated traffic lasts (default 1 day).
    #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = parse_span, requires = "rate")]
    pub rate_span: Micros,
}

/// A `--duration-ms` distribution.
#[derive(Debug, Clone, PartialEq)]
pub enum QuickDuration {
    Constant(f64),
    Exponential(f64),
    Lognormal(f64, f64),
}

/// `50/s`, `3000/min`, `2/h` or `50`: per second.
fn parse_rate(s: &str) -> Result<f64, String> {
    let (n, per) = match s.trim().split_once('/') {
        Some((n, unit)) => {
            let per = match unit.trim() {
                "s" | "sec" | "second" => 1.0,
                "min" | "m" | "minute" => 60.0,
                "h" | "hour" => 3600.0,
                "d" | "day" => 86_400.0,
                other => return Err(format!("{s:?}: unknown unit {other:?} (s, min, h or d)")),
            };
            (n, per)
        }
        None => (s, 1.0),
    };
    let v: f64 = n
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: expected a rate such as 50/s, 3000/min or 2/h"))?;
    let rate = v / per;
    // The spec's own bound: one arrival per microsecond.
    if !(rate.is_finite() && rate > 0.0 && rate <= 1e6) {
        return Err(format!(
            "{s:?}: must be above 0 and at most 1,000,000 per second"
        ));
    }
    Ok(rate)
}

fn parse_span(s: &str) -> Result<Micros, String> {
    match faasplan::time::parse_duration(s) {
        Some(d) if (SECOND..=366 * 24 * HOUR).contains(&d) => Ok(d),
        Some(_) => Err(format!("{s:?}: must be between 1 s and 366 days")),
        None => Err(format!("{s:?}: expected a duration such as 1d, 12h or 30m")),
    }
}

fn number(spec: &str, n: &str) -> Result<f64, String> {
    n.trim()
        .parse()
        .map_err(|_| format!("{spec:?}: {n:?} is not a number of milliseconds"))
}

fn parse_duration_dist(s: &str) -> Result<QuickDuration, String> {
    use faasplan::dist::DurationDist;
    let spec = s.trim();
    let d = if let Some(mean) = spec
        .strip_prefix("exp:")
        .or_else(|| spec.strip_prefix("exponential:"))
    {
        let m = number(spec, mean)?;
        DurationDist::exponential(m).map_err(|e| format!("{spec:?}: {e}"))?;
        QuickDuration::Exponential(m)
    } else if let Some(rest) = spec.strip_prefix("lognormal:") {
        let (a, b) = rest
            .split_once(',')
            .ok_or_else(|| format!("{spec:?}: expected lognormal:P50,P99 (ms)"))?;
        let (p50, p99) = (number(spec, a)?, number(spec, b)?);
        DurationDist::lognormal(p50, p99).map_err(|e| format!("{spec:?}: {e}"))?;
        QuickDuration::Lognormal(p50, p99)
    } else {
        let ms = number(spec, spec)
            .map_err(|_| format!("{spec:?}: expected N (ms), exp:MEAN or lognormal:P50,P99"))?;
        DurationDist::constant(ms).map_err(|e| format!("{spec:?}: {e}"))?;
        QuickDuration::Constant(ms)
    };
    Ok(d)
}

impl QuickArgs {
    /// The run's name in outputs: the flags themselves.
    pub fn name(&self, rate: f64) -> String {
        let mut s = format!("--rate {}/s", sig(rate));
        if let Some(d) = &self.duration_ms {
            s.push_str(&format!(" --duration-ms {}", d.flag()));
        }
        if let Some(p) = self.daily_peak {
            s.push_str(&format!(" --daily-peak {}/s", sig(p)));
        }
        s
    }

    /// The workload spec the flags stand for (TOML), or an error naming the flag.
    pub fn spec(&self, rate: f64) -> Result<String, ConfigError> {
        let d = self.duration_ms.as_ref().ok_or_else(|| {
            ConfigError::invalid("--duration-ms", "--rate needs --duration-ms too")
        })?;
        let dist = match d {
            QuickDuration::Constant(ms) => format!("{{ dist = \"constant\", ms = {ms:?} }}"),
            QuickDuration::Exponential(m) => {
                format!("{{ dist = \"exponential\", mean_ms = {m:?} }}")
            }
            QuickDuration::Lognormal(a, b) => {
                format!("{{ dist = \"lognormal\", p50_ms = {a:?}, p99_ms = {b:?} }}")
            }
        };
        let arrivals = match self.daily_peak {
            None => format!("process = \"poisson\"\nrate_per_s = {rate:?}\n"),
            Some(peak) if peak < rate => {
                return Err(ConfigError::invalid(
                    "--daily-peak",
                    format!(
                        "{}/s is below --rate ({}/s), the quietest rate of the day",
                        sig(peak),
                        sig(rate)
                    ),
                ));
            }
            Some(peak) => format!(
                "process = \"diurnal\"\npeak_per_s = {peak:?}\ntrough_per_s = {rate:?}\n\
                 period = \"24h\"\npeak_at = \"14h\"\n"
            ),
        };
        Ok(format!(
            "# {}\nversion = 1\nduration = \"{}s\"\n\n[[function]]\nname = \"fn\"\n\
             trigger = \"sync\"\nduration_ms = {dist}\n\n[[function.arrivals]]\n{arrivals}",
            self.name(rate),
            self.rate_span / SECOND
        ))
    }
}

impl QuickDuration {
    fn flag(&self) -> String {
        match self {
            QuickDuration::Constant(ms) => sig(*ms),
            QuickDuration::Exponential(m) => format!("exp:{}", sig(*m)),
            QuickDuration::Lognormal(a, b) => format!("lognormal:{},{}", sig(*a), sig(*b)),
        }
    }
}

/// A number as short as it reads (no trailing zeros).
fn sig(v: f64) -> String {
    let s = format!("{v}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_in_any_unit_are_per_second() {
        assert_eq!(parse_rate("50/s"), Ok(50.0));
        assert_eq!(parse_rate("3000/min"), Ok(50.0));
        assert_eq!(parse_rate("7200/h"), Ok(2.0));
        assert_eq!(parse_rate("12.5"), Ok(12.5));
        for bad in ["0/s", "-1", "x/s", "5/fortnight", "2e6/s"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_are_checked_like_a_spec() {
        assert_eq!(
            parse_duration_dist("lognormal:80,400"),
            Ok(QuickDuration::Lognormal(80.0, 400.0))
        );
        assert_eq!(
            parse_duration_dist("exp:25"),
            Ok(QuickDuration::Exponential(25.0))
        );
        assert_eq!(
            parse_duration_dist("100"),
            Ok(QuickDuration::Constant(100.0))
        );
        for bad in ["lognormal:400,80", "lognormal:80", "exp:0", "fast", "-5"] {
            assert!(parse_duration_dist(bad).is_err(), "{bad}");
        }
    }
}
