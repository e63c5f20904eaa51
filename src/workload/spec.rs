//! The workload spec (`workloads/*.toml`): the file format, kept apart from the validated
//! [`Workload`] the generator trusts. Errors point at the file, line and column.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::dist::{DurationDist, Quantiles};
use crate::time::{self, Micros, SECOND};
use crate::trace::Trigger;

/// The spec format version this build reads.
pub const VERSION: u32 = 1;
/// Highest rate of any process, per second (one arrival per microsecond).
const MAX_RATE: f64 = 1e6;
/// Longest workload: 366 days.
const MAX_DURATION: Micros = 366 * 24 * time::HOUR;

/// A problem with a spec file.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{path}: cannot read: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {reason}")]
    At {
        path: PathBuf,
        line: usize,
        column: usize,
        reason: String,
    },
}

/// A validated workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Length of the generated trace, microseconds; arrivals fall in `[0, duration)`.
    pub duration: Micros,
    /// The spec's own seed, used when the command line gives none.
    pub seed: Option<u64>,
    /// Added to every timestamp, microseconds (e.g. a Unix epoch start); >= 0.
    pub start_us: i64,
    pub functions: Vec<FunctionSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    pub name: String,
    /// MB; 0 when the spec gives none (the run's `--memory-mb` then applies).
    pub memory_mb: u16,
    pub trigger: Trigger,
    pub durations: DurationDist,
    /// Superposed: the function's arrivals are the union of these processes.
    pub arrivals: Vec<Process>,
}

/// A validated arrival process. Rates are per second, times in seconds from the trace start.
#[derive(Debug, Clone, PartialEq)]
pub enum Process {
    /// Constant rate.
    Poisson { rate: f64 },
    /// `rate(t) = (trough + (peak - trough) * (1 + cos(2 pi (t - peak_at) / period)) / 2) *
    /// weekly[day of t mod 7]`, day 0 being the first day of the trace.
    Diurnal {
        peak: f64,
        trough: f64,
        period: f64,
        peak_at: f64,
        weekly: Option<[f64; 7]>,
    },
    /// Two-state Markov-modulated Poisson process: in state `i` arrivals come at `rates[i]`, and
    /// the state lasts an exponential time with mean `sojourn[i]`.
    Mmpp { rates: [f64; 2], sojourn: [f64; 2] },
    /// `base` rate, except `spike` in `[start, end)`.
    Spike {
        base: f64,
        spike: f64,
        start: f64,
        end: f64,
    },
    /// At `at + k * every` for k = 0, 1, ...: `fan_out` arrivals spread uniformly over `within`
    /// (all at the tick when `within` is 0).
    Scheduled {
        every: f64,
        at: f64,
        fan_out: u32,
        within: f64,
    },
}

impl Process {
    /// The rate at time `t`, per second (for the time-varying processes; the MMPP's is random and
    /// this gives its stationary mean).
    pub fn rate_at(&self, t: f64) -> f64 {
        match *self {
            Process::Poisson { rate } => rate,
            Process::Diurnal {
                peak,
                trough,
                period,
                peak_at,
                weekly,
            } => {
                let phase = std::f64::consts::TAU * (t - peak_at) / period;
                let base = trough + (peak - trough) * (1.0 + phase.cos()) / 2.0;
                let day = (t / 86_400.0).floor().rem_euclid(7.0) as usize;
                base * weekly.map_or(1.0, |w| w[day])
            }
            Process::Mmpp { .. } => self.long_run_rate(),
            Process::Spike {
                base,
                spike,
                start,
                end,
            } => {
                if (start..end).contains(&t) {
                    spike
                } else {
                    base
                }
            }
            Process::Scheduled { .. } => self.long_run_rate(),
        }
    }

    /// The long-run mean rate, per second. For the MMPP this is the stationary mix
    /// `(r0 s0 + r1 s1) / (s0 + s1)`.
    pub fn long_run_rate(&self) -> f64 {
        match *self {
            Process::Poisson { rate } => rate,
            Process::Diurnal {
                peak,
                trough,
                weekly,
                ..
            } => (peak + trough) / 2.0 * weekly.map_or(1.0, |w| w.iter().sum::<f64>() / 7.0),
            Process::Mmpp { rates, sojourn } => {
                (rates[0] * sojourn[0] + rates[1] * sojourn[1]) / (sojourn[0] + sojourn[1])
            }
            Process::Spike { base, .. } => base,
            Process::Scheduled { every, fan_out, .. } => f64::from(fan_out) / every,
        }
    }

    /// The expected number of arrivals in `[0, horizon)` seconds.
    pub fn expected_count(&self, horizon: f64) -> f64 {
        match *self {
            Process::Spike {
                base,
                spike,
                start,
                end,
            } => {
                let inside = (end.min(horizon) - start.min(horizon)).max(0.0);
                base * (horizon - inside) + spike * inside
            }
            Process::Scheduled {
                every,
                at,
                fan_out,
                within,
            } => {
                // Whole ticks, plus the part of a last burst cut by the horizon.
                let mut n = 0.0;
                let mut tick = at;
                while tick < horizon {
                    let inside = if within > 0.0 {
                        ((horizon - tick) / within).min(1.0)
                    } else {
                        1.0
                    };
                    n += f64::from(fan_out) * inside;
                    tick += every;
                }
                n
            }
            Process::Diurnal { .. } => {
                // Numerical integral of the rate (fine steps; the rate is smooth within a day).
                let steps = ((horizon / 10.0).ceil() as usize).clamp(1, 10_000_000);
                let h = horizon / steps as f64;
                (0..steps)
                    .map(|i| self.rate_at((i as f64 + 0.5) * h) * h)
                    .sum()
            }
            _ => self.long_run_rate() * horizon,
        }
    }
}

// ---- the file format ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    version: Spanned<u32>,
    duration: Spanned<String>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    start_ms: Option<Spanned<f64>>,
    #[serde(rename = "function", default)]
    functions: Vec<Spanned<FunctionFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FunctionFile {
    name: Spanned<String>,
    #[serde(default)]
    memory_mb: Option<Spanned<u32>>,
    #[serde(default)]
    trigger: Option<Spanned<String>>,
    duration_ms: Spanned<DurationFile>,
    #[serde(default)]
    arrivals: Vec<Spanned<ProcessFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
enum DurationFile {
    Constant {
        ms: f64,
    },
    Exponential {
        mean_ms: f64,
    },
    Lognormal {
        p50_ms: f64,
        p99_ms: f64,
    },
    /// `(probability, ms)` points of a piecewise-linear inverse CDF.
    Empirical {
        percentiles: Vec<(f64, f64)>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(tag = "process", rename_all = "lowercase", deny_unknown_fields)]
enum ProcessFile {
    Poisson {
        rate_per_s: f64,
    },
    Diurnal {
        peak_per_s: f64,
        trough_per_s: f64,
        #[serde(default)]
        period: Option<String>,
        #[serde(default)]
        peak_at: Option<String>,
        #[serde(default)]
        weekly: Option<Vec<f64>>,
    },
    Mmpp {
        rates_per_s: [f64; 2],
        mean_sojourn: [String; 2],
    },
    Spike {
        base_per_s: f64,
        spike_per_s: f64,
        start: String,
        duration: String,
    },
    Scheduled {
        every: String,
        #[serde(default)]
        at: Option<String>,
        #[serde(default)]
        fan_out: Option<u32>,
        #[serde(default)]
        fan_out_within: Option<String>,
    },
}

/// Reads and validates the spec at `path`.
pub fn load(path: &Path) -> Result<Workload, SpecError> {
    let text = crate::dist::read_text(path).map_err(|error| SpecError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    parse(&text, path)
}

/// Parses and validates a spec; `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Workload, SpecError> {
    let at = |span: Range<usize>, reason: String| {
        let (line, column) = crate::dist::line_column(text, span.start);
        SpecError::At {
            path: path.to_path_buf(),
            line,
            column,
            reason,
        }
    };
    let file: SpecFile = toml::from_str(text).map_err(|e| {
        let reason = e.message().trim().to_string();
        at(e.span().unwrap_or(0..0), reason)
    })?;
    if *file.version.get_ref() != VERSION {
        return Err(at(
            file.version.span(),
            format!(
                "version {}: this faasplan reads spec version {VERSION}",
                file.version.get_ref()
            ),
        ));
    }
    let duration = time::parse_duration(file.duration.get_ref())
        .filter(|&d| d > 0 && d <= MAX_DURATION)
        .ok_or_else(|| {
            at(
                file.duration.span(),
                format!(
                    "duration {:?}: expected a length such as 90m, 24h or 7d (more than 0, at \
                     most 366 days)",
                    file.duration.get_ref()
                ),
            )
        })?;
    let start_us = match &file.start_ms {
        None => 0,
        Some(s) => {
            let ms = *s.get_ref();
            if !(ms.is_finite() && (0.0..=9e12).contains(&ms)) {
                return Err(at(
                    s.span(),
                    format!("start_ms {ms}: must be a number of ms from 0 to 9e12"),
                ));
            }
            (ms * 1e3).round() as i64
        }
    };
    if file.functions.is_empty() {
        return Err(at(
            0..0,
            "no functions: add at least one [[function]] table".into(),
        ));
    }
    let mut functions: Vec<FunctionSpec> = Vec::with_capacity(file.functions.len());
    // Names seen so far: a set, so a spec with 100 k functions is checked in linear time (a scan
    // of the earlier functions per function was quadratic: issue 14, D9).
    let mut names: std::collections::HashSet<String> =
        std::collections::HashSet::with_capacity(file.functions.len());
    for f in &file.functions {
        let f = f.get_ref();
        let name = f.name.get_ref().trim().to_string();
        if name.is_empty() || name.contains([',', '"', '\n', '\r']) {
            return Err(at(
                f.name.span(),
                format!(
                    "function name {name:?}: must not be empty or hold a comma, quote or newline"
                ),
            ));
        }
        if !names.insert(name.clone()) {
            return Err(at(
                f.name.span(),
                format!("function name {name:?} is used twice"),
            ));
        }
        let memory_mb = match &f.memory_mb {
            None => 0,
            Some(m) => {
                let v = *m.get_ref();
                if !(1..=65535).contains(&v) {
                    return Err(at(
                        m.span(),
                        format!("memory_mb {v}: must be from 1 to 65535"),
                    ));
                }
                v as u16
            }
        };
        let trigger = match &f.trigger {
            None => Trigger::Sync,
            Some(t) => Trigger::parse(t.get_ref()).ok_or_else(|| {
                at(
                    t.span(),
                    format!("trigger {:?}: must be sync, async or queue", t.get_ref()),
                )
            })?,
        };
        let durations = duration_dist(f.duration_ms.get_ref())
            .map_err(|why| at(f.duration_ms.span(), format!("duration_ms: {why}")))?;
        if f.arrivals.is_empty() {
            return Err(at(
                f.name.span(),
                format!("function {name:?} has no arrivals: add an [[function.arrivals]] table"),
            ));
        }
        let mut arrivals = Vec::new();
        for p in &f.arrivals {
            arrivals.push(
                process(p.get_ref()).map_err(|why| at(p.span(), format!("arrivals: {why}")))?,
            );
        }
        functions.push(FunctionSpec {
            name,
            memory_mb,
            trigger,
            durations,
            arrivals,
        });
    }
    Ok(Workload {
        duration,
        seed: file.seed,
        start_us,
        functions,
    })
}

fn duration_dist(d: &DurationFile) -> Result<DurationDist, String> {
    match d {
        DurationFile::Constant { ms } => DurationDist::constant(*ms),
        DurationFile::Exponential { mean_ms } => DurationDist::exponential(*mean_ms),
        DurationFile::Lognormal { p50_ms, p99_ms } => DurationDist::lognormal(*p50_ms, *p99_ms),
        DurationFile::Empirical { percentiles } => {
            Quantiles::new(percentiles).map(DurationDist::Empirical)
        }
    }
}

fn rate(name: &str, v: f64) -> Result<f64, String> {
    if !v.is_finite() || !(0.0..=MAX_RATE).contains(&v) {
        return Err(format!(
            "{name} = {v}: must be a rate per second from 0 to 1000000"
        ));
    }
    Ok(v)
}

/// A duration in seconds; `positive` refuses 0.
fn span_s(name: &str, s: &str, positive: bool) -> Result<f64, String> {
    match time::parse_duration(s) {
        Some(us) if us <= MAX_DURATION && (us > 0 || !positive) => Ok(us as f64 / SECOND as f64),
        _ => Err(format!(
            "{name} = {s:?}: expected a duration such as 250ms, 90s, 15m, 24h or 7d{}",
            if positive { ", more than 0" } else { "" }
        )),
    }
}

fn process(p: &ProcessFile) -> Result<Process, String> {
    Ok(match p {
        ProcessFile::Poisson { rate_per_s } => Process::Poisson {
            rate: rate("rate_per_s", *rate_per_s)?,
        },
        ProcessFile::Diurnal {
            peak_per_s,
            trough_per_s,
            period,
            peak_at,
            weekly,
        } => {
            let peak = rate("peak_per_s", *peak_per_s)?;
            let trough = rate("trough_per_s", *trough_per_s)?;
            if trough > peak {
                return Err(format!(
                    "trough_per_s = {trough} is above peak_per_s = {peak}"
                ));
            }
            let period = span_s("period", period.as_deref().unwrap_or("24h"), true)?;
            if period < 60.0 {
                // The generator steps through the period in 64 segments; a shorter cycle is not
                // diurnal and would only make it crawl.
                return Err(format!("period = {period} s: must be at least 1m"));
            }
            let peak_at = span_s("peak_at", peak_at.as_deref().unwrap_or("0s"), false)?;
            let weekly = match weekly {
                None => None,
                Some(w) => {
                    let Ok(w) = <[f64; 7]>::try_from(w.as_slice()) else {
                        return Err(format!(
                            "weekly: needs 7 factors (day 0 to day 6), found {}",
                            w.len()
                        ));
                    };
                    if w.iter().any(|f| !f.is_finite() || !(0.0..=1e3).contains(f)) {
                        return Err("weekly: factors must be finite and from 0 to 1000".into());
                    }
                    if w.iter().all(|&f| f == 0.0) {
                        return Err("weekly: at least one factor must be above 0".into());
                    }
                    Some(w)
                }
            };
            if peak * weekly.map_or(1.0, |w| w.iter().cloned().fold(0.0, f64::max)) > MAX_RATE {
                return Err("peak_per_s times the largest weekly factor is above 1000000".into());
            }
            Process::Diurnal {
                peak,
                trough,
                period,
                peak_at,
                weekly,
            }
        }
        ProcessFile::Mmpp {
            rates_per_s,
            mean_sojourn,
        } => {
            let sojourn = [
                span_s("mean_sojourn[0]", &mean_sojourn[0], true)?,
                span_s("mean_sojourn[1]", &mean_sojourn[1], true)?,
            ];
            if sojourn.iter().any(|&s| s < 0.1) {
                // Each state change costs a step; shorter stays would make generation crawl.
                return Err("mean_sojourn: each must be at least 100ms".into());
            }
            Process::Mmpp {
                rates: [
                    rate("rates_per_s[0]", rates_per_s[0])?,
                    rate("rates_per_s[1]", rates_per_s[1])?,
                ],
                sojourn,
            }
        }
        ProcessFile::Spike {
            base_per_s,
            spike_per_s,
            start,
            duration,
        } => {
            let start = span_s("start", start, false)?;
            Process::Spike {
                base: rate("base_per_s", *base_per_s)?,
                spike: rate("spike_per_s", *spike_per_s)?,
                start,
                end: start + span_s("duration", duration, true)?,
            }
        }
        ProcessFile::Scheduled {
            every,
            at,
            fan_out,
            fan_out_within,
        } => {
            let every = span_s("every", every, true)?;
            let at = span_s("at", at.as_deref().unwrap_or("0s"), false)?;
            let fan_out = fan_out.unwrap_or(1);
            if !(1..=10_000_000).contains(&fan_out) {
                return Err(format!("fan_out = {fan_out}: must be from 1 to 10000000"));
            }
            let within = span_s(
                "fan_out_within",
                fan_out_within.as_deref().unwrap_or("0s"),
                false,
            )?;
            if within > every {
                return Err(format!(
                    "fan_out_within ({within} s) is longer than every ({every} s): bursts would \
                     overlap"
                ));
            }
            if f64::from(fan_out) / every.max(within) > MAX_RATE * 60.0 {
                return Err("fan_out per period is too high".into());
            }
            Process::Scheduled {
                every,
                at,
                fan_out,
                within,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse(text, Path::new("w.toml")) {
            Ok(w) => panic!("expected an error, got {w:?}"),
            Err(e) => e.to_string(),
        }
    }

    const OK: &str = r#"
version = 1
duration = "1h"

[[function]]
name = "api"
memory_mb = 512
trigger = "sync"
duration_ms = { dist = "lognormal", p50_ms = 80, p99_ms = 400 }

[[function.arrivals]]
process = "poisson"
rate_per_s = 5

[[function.arrivals]]
process = "spike"
base_per_s = 0
spike_per_s = 100
start = "10m"
duration = "30s"
"#;

    #[test]
    fn a_valid_spec() {
        let w = match parse(OK, Path::new("w.toml")) {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(w.duration, time::HOUR);
        assert_eq!(w.functions.len(), 1);
        let f = &w.functions[0];
        assert_eq!((f.memory_mb, f.trigger), (512, Trigger::Sync));
        assert_eq!(f.arrivals.len(), 2);
        assert_eq!(
            f.arrivals[1],
            Process::Spike {
                base: 0.0,
                spike: 100.0,
                start: 600.0,
                end: 630.0
            }
        );
        assert_eq!(f.arrivals[1].expected_count(3600.0), 3000.0);
    }

    #[test]
    fn errors_point_at_the_place() {
        assert_eq!(
            err(&OK.replace("p99_ms = 400", "p99_ms = 40")),
            "w.toml:9:15: duration_ms: need 0 < p50_ms < p99_ms, got p50_ms = 80, p99_ms = 40"
        );
        assert_eq!(
            err(&OK.replace("duration = \"1h\"", "duration = \"soon\"")),
            "w.toml:3:12: duration \"soon\": expected a length such as 90m, 24h or 7d (more \
             than 0, at most 366 days)"
        );
        let e = err(&OK.replace("rate_per_s = 5", "rate_per_sec = 5"));
        assert!(e.starts_with("w.toml:11:1: "), "{e}");
        assert!(e.contains("rate_per_sec"), "{e}");
        let e = err(&OK.replace("trigger = \"sync\"", "trigger = \"http\""));
        assert_eq!(
            e,
            "w.toml:8:11: trigger \"http\": must be sync, async or queue"
        );
        let e = err(&OK.replace("version = 1", "version = 2"));
        assert_eq!(
            e,
            "w.toml:2:11: version 2: this faasplan reads spec version 1"
        );
    }

    #[test]
    fn mmpp_long_run_rate_is_the_stationary_mix() {
        let p = Process::Mmpp {
            rates: [1.0, 21.0],
            sojourn: [30.0, 10.0],
        };
        assert_eq!(p.long_run_rate(), (30.0 + 210.0) / 40.0);
    }
}
