//! The hybrid histogram policy of "Serverless in the Wild" (Shahrad et al., USENIX ATC 2020,
//! section 4), written from the paper's description:
//!
//! - each application keeps a histogram of its idle times (the time from the end of its last
//!   execution to its next invocation) in 1-minute bins over a range (4 hours by default);
//! - the pre-warm window is the head percentile's bin (5th) minus a 10 % margin; the keep-alive
//!   window runs from there to the tail percentile's bin end (99th) plus a 10 % margin;
//! - the histogram is trusted only when it is representative: the coefficient of variation of its
//!   bin counts is at least 2 (a few tall bins). Otherwise, and before any idle time is seen, the
//!   policy falls back to a standard keep-alive of the whole range and no pre-warm;
//! - an application whose idle times mostly (more than half) fall beyond the range gets a
//!   forecast of its next idle time. The paper fits ARIMA; faasplan uses a documented simpler
//!   forecaster, the mean of the last 5 idle times, and names it so in its output
//!   (`forecast_mean_of_last_5_idle_times`). The windows are the paper's: pre-warm at 85 % of the
//!   forecast, keep loaded for 30 % of it (15 % either side).

use std::collections::VecDeque;

use super::{AppKeepAlive, KeepAlivePolicy, Learner, Mode, Windows, spec_duration};
use crate::time::{MINUTE, Micros, parse_duration};

/// Margin on both windows, percent (the paper's 10 %).
const MARGIN_PCT: u64 = 10;
/// A histogram is representative when the CV of its bin counts is at least this (the paper's 2).
const CV_THRESHOLD: f64 = 2.0;
/// Idle times the forecaster averages.
const FORECAST_WINDOW: usize = 5;
/// The forecast windows: pre-warm at 85 % of the forecast, keep loaded for 30 % of it.
const FORECAST_PREWARM_PCT: u64 = 85;
const FORECAST_KEEP_PCT: u64 = 30;

/// The hybrid policy's parameters; percentiles in hundredths of a percent (so the type is `Ord`
/// and a sweep axis can sort it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HybridParams {
    /// The histogram's range, whole minutes, microseconds.
    pub range: Micros,
    /// Head percentile × 100 (500: the 5th).
    pub head: u32,
    /// Tail percentile × 100 (9900: the 99th).
    pub tail: u32,
}

impl Default for HybridParams {
    fn default() -> Self {
        HybridParams {
            range: 240 * MINUTE,
            head: 500,
            tail: 9900,
        }
    }
}

impl HybridParams {
    /// `None` (plain `hybrid`), `RANGE` or `RANGE:HEAD:TAIL`; the range is whole minutes, at
    /// least one; percentiles in [0, 100], head below tail.
    pub fn parse(rest: Option<&str>) -> Result<HybridParams, String> {
        let mut p = HybridParams::default();
        let Some(rest) = rest else {
            return Ok(p);
        };
        let parts: Vec<&str> = rest.split(':').collect();
        if parts.len() != 1 && parts.len() != 3 {
            return Err("expected hybrid, hybrid:RANGE or hybrid:RANGE:HEAD:TAIL".into());
        }
        p.range = parse_duration(parts[0])
            .filter(|&r| r >= MINUTE && r.is_multiple_of(MINUTE) && r <= 7 * 24 * 60 * MINUTE)
            .ok_or("the range must be whole minutes, from 1m to 7d (e.g. 4h)")?;
        if parts.len() == 3 {
            let pct = |s: &str| -> Result<u32, String> {
                match s.parse::<f64>() {
                    Ok(v) if (0.0..=100.0).contains(&v) => Ok((v * 100.0).round() as u32),
                    _ => Err(format!("percentile {s:?} must be in 0..=100")),
                }
            };
            p.head = pct(parts[1])?;
            p.tail = pct(parts[2])?;
            if p.head >= p.tail {
                return Err("the head percentile must be below the tail percentile".into());
            }
        }
        Ok(p)
    }

    pub fn spec(&self) -> String {
        format!(
            "hybrid:{}:{}:{}",
            spec_duration(self.range),
            f64::from(self.head) / 100.0,
            f64::from(self.tail) / 100.0
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HybridHistogram(pub HybridParams);

impl KeepAlivePolicy for HybridHistogram {
    fn app(&self, _seed: u64) -> AppKeepAlive {
        AppKeepAlive::Learner(Box::new(HybridState::new(self.0)))
    }

    fn longest(&self) -> Micros {
        self.0.range + self.0.range * MARGIN_PCT / 100
    }

    fn describe(&self) -> String {
        format!(
            "hybrid histogram, range {}, head p{} tail p{}",
            spec_duration(self.0.range),
            f64::from(self.0.head) / 100.0,
            f64::from(self.0.tail) / 100.0
        )
    }
}

/// One application's histogram and its cached decision.
#[derive(Debug, Clone)]
pub struct HybridState {
    p: HybridParams,
    /// Idle times per 1-minute bin.
    bins: Vec<u64>,
    /// Idle times in range (the bins' sum), and Σ bin², for the CV.
    in_range: u64,
    sum_sq: u128,
    /// Idle times at or beyond the range.
    out_of_range: u64,
    /// The last few idle times, any length (the forecaster's input).
    recent: VecDeque<Micros>,
    /// The decision for the histogram as it is, until the next observation.
    cached: Option<(Windows, Mode)>,
}

impl HybridState {
    pub fn new(p: HybridParams) -> HybridState {
        HybridState {
            p,
            bins: vec![0; (p.range / MINUTE) as usize],
            in_range: 0,
            sum_sq: 0,
            out_of_range: 0,
            recent: VecDeque::with_capacity(FORECAST_WINDOW),
            cached: None,
        }
    }

    /// The CV (standard deviation / mean) of the bin counts; 0 for an empty histogram.
    pub fn cv(&self) -> f64 {
        if self.in_range == 0 {
            return 0.0;
        }
        let n = self.bins.len() as f64;
        let mean = self.in_range as f64 / n;
        let var = (self.sum_sq as f64 / n - mean * mean).max(0.0);
        var.sqrt() / mean
    }

    /// The bins holding the `lo`-th and `hi`-th percentiles (hundredths, `lo` ≤ `hi`) of the
    /// in-range idle times, in one pass: each the first bin whose cumulative count reaches
    /// ⌈pct × n⌉ (at least 1).
    fn percentile_bins(&self, lo: u32, hi: u32) -> (usize, usize) {
        let rank = |pct: u32| {
            (u128::from(self.in_range) * u128::from(pct))
                .div_ceil(10_000)
                .max(1) as u64
        };
        let (lo_rank, hi_rank) = (rank(lo), rank(hi));
        let last = self.bins.len() - 1;
        let mut lo_bin = None;
        let mut cum = 0;
        for (i, &b) in self.bins.iter().enumerate() {
            cum += b;
            if cum >= lo_rank && lo_bin.is_none() {
                lo_bin = Some(i);
            }
            if cum >= hi_rank {
                return (lo_bin.unwrap_or(i), i);
            }
        }
        (lo_bin.unwrap_or(last), last)
    }

    fn compute(&self) -> (Windows, Mode) {
        let fallback = (
            Windows {
                prewarm: 0,
                keep_alive: self.p.range,
            },
            Mode::Fallback,
        );
        let seen = self.in_range + self.out_of_range;
        if seen == 0 {
            return fallback;
        }
        if self.out_of_range * 2 > seen {
            let mean = self.recent.iter().sum::<Micros>() / self.recent.len().max(1) as Micros;
            return (
                Windows {
                    prewarm: mean / 100 * FORECAST_PREWARM_PCT,
                    keep_alive: mean / 100 * FORECAST_KEEP_PCT,
                },
                Mode::Forecast,
            );
        }
        if self.cv() < CV_THRESHOLD {
            return fallback;
        }
        let (head, tail) = self.percentile_bins(self.p.head, self.p.tail);
        let head = head as Micros * MINUTE;
        let tail = (tail as Micros + 1) * MINUTE;
        let prewarm = head / 100 * (100 - MARGIN_PCT);
        let end = tail / 100 * (100 + MARGIN_PCT);
        (
            Windows {
                prewarm,
                keep_alive: end - prewarm,
            },
            Mode::Histogram,
        )
    }
}

impl Learner for HybridState {
    fn observe(&mut self, idle: Micros) {
        self.cached = None;
        if self.recent.len() == FORECAST_WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(idle);
        let bin = (idle / MINUTE) as usize;
        match self.bins.get_mut(bin) {
            Some(b) => {
                self.sum_sq += 2 * u128::from(*b) + 1;
                *b += 1;
                self.in_range += 1;
            }
            None => self.out_of_range += 1,
        }
    }

    fn decide(&mut self) -> (Windows, Mode) {
        if let Some(d) = self.cached {
            return d;
        }
        let d = self.compute();
        self.cached = Some(d);
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;
    use rand::{RngExt, SeedableRng};

    fn state() -> HybridState {
        HybridState::new(HybridParams::default())
    }

    #[test]
    fn a_30_minute_period_learns_a_pre_warm_just_under_30_minutes() {
        let mut s = state();
        // Before any idle time: the standard keep-alive of the whole range.
        assert_eq!(
            s.decide(),
            (
                Windows {
                    prewarm: 0,
                    keep_alive: 240 * MINUTE
                },
                Mode::Fallback
            )
        );
        // Idle 29 min 59 s each time: bin 29. Head edge 29 min − 10 % = 26.1 min; tail edge
        // 30 min + 10 % = 33 min; keep-alive 33 − 26.1 = 6.9 min.
        for _ in 0..10 {
            s.observe(30 * MINUTE - SECOND);
        }
        let (w, mode) = s.decide();
        assert_eq!(mode, Mode::Histogram);
        assert_eq!(w.prewarm, 1_566 * SECOND);
        assert_eq!(w.keep_alive, 414 * SECOND);
        // One bin of 240 holds everything: CV = √239.
        assert!((s.cv() - 239f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn percentiles_pick_the_head_and_tail_bins() {
        let mut s = state();
        // 100 idle times: 5 in bin 2, 90 in bin 10, 5 in bin 20. The 5th percentile (rank 5) is
        // bin 2; the 99th (rank 99) is bin 20.
        for (bin, n) in [(2, 5), (10, 90), (20, 5)] {
            for _ in 0..n {
                s.observe(bin * MINUTE + SECOND);
            }
        }
        let (w, mode) = s.decide();
        assert_eq!(mode, Mode::Histogram);
        assert_eq!(w.prewarm, 2 * MINUTE * 9 / 10);
        assert_eq!(w.prewarm + w.keep_alive, 21 * MINUTE * 11 / 10);
    }

    #[test]
    fn uniformly_random_idle_times_stay_on_the_fallback() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let mut s = state();
        // Uniform over the range: each bin's count is about Poisson(n/240), so the CV is about
        // √(240/n): 0.55 at n = 800, far below 2. Counted from n = 200 (CV ≈ 1.1).
        for i in 0..1_000 {
            s.observe(rng.random_range(0..240 * MINUTE));
            if i >= 200 {
                assert_eq!(s.decide().1, Mode::Fallback, "after {i}: cv {}", s.cv());
            }
        }
    }

    #[test]
    fn idle_times_beyond_the_range_use_the_forecaster() {
        let mut s = HybridState::new(HybridParams {
            range: 60 * MINUTE,
            ..HybridParams::default()
        });
        // Idle 5 h, 6 h, 7 h: all beyond a 1-hour range. The mean is 6 h: pre-warm at 85 %
        // (5.1 h), keep loaded 30 % (1.8 h).
        for h in [5, 6, 7] {
            s.observe(h * 60 * MINUTE);
        }
        let (w, mode) = s.decide();
        assert_eq!(mode, Mode::Forecast);
        assert_eq!(w.prewarm, 306 * MINUTE);
        assert_eq!(w.keep_alive, 108 * MINUTE);
        // Mostly in range again (4 of 7): back to the histogram.
        for _ in 0..4 {
            s.observe(10 * MINUTE);
        }
        assert_eq!(s.decide().1, Mode::Histogram);
    }
}
