//! Turns a [`Workload`] into canonical trace rows: one seeded stream per (function, process), merged
//! in time order, written as CSV by a hand-rolled formatter (the `fmt` machinery is the bottleneck
//! at millions of rows per second).
//!
//! Randomness: arrival process `p` of function `f` draws from
//! `seed::derive(seed, 0, f, GenerateArrivals { process: p })`, the durations of `f` from
//! `seed::derive(seed, 0, f, GenerateDurations)`. Adding a function or a process leaves the others
//! unchanged.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use crate::dist::exp1;
use crate::seed::{self, Purpose};
use crate::time::{Micros, SECOND};
use crate::trace::TraceBuilder;
use crate::workload::spec::{Process, Workload};

/// Arrival times of one process over `[0, horizon)`, in increasing order, microseconds.
#[derive(Debug)]
pub struct ArrivalStream {
    process: Process,
    rng: Pcg64Mcg,
    /// seconds
    horizon: f64,
    /// The time of the last arrival or state change, seconds.
    t: f64,
    state: State,
}

#[derive(Debug)]
enum State {
    Plain,
    /// Thinning segment by segment: `bound` is the highest rate in the segment ending at
    /// `seg_end`, so few candidates are thrown away.
    Diurnal {
        seg_len: f64,
        seg_end: f64,
        bound: f64,
    },
    /// `state` is 0 or 1; `until` when it changes, seconds.
    Mmpp {
        state: usize,
        until: f64,
    },
    /// The next tick, seconds, and the pending burst (latest first).
    Scheduled {
        next_tick: f64,
        burst: Vec<f64>,
    },
}

impl ArrivalStream {
    pub fn new(process: &Process, horizon: Micros, seed: u64) -> ArrivalStream {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let state = match *process {
            Process::Mmpp { sojourn, .. } => {
                // Start in the stationary mix, so the long-run rate holds from time 0.
                let p0 = sojourn[0] / (sojourn[0] + sojourn[1]);
                let state = usize::from(rng.random::<f64>() >= p0);
                let until = exp1(&mut rng) * sojourn[state];
                State::Mmpp { state, until }
            }
            Process::Diurnal { period, .. } => State::Diurnal {
                seg_len: (period / 64.0).min(3600.0),
                seg_end: 0.0,
                bound: 0.0,
            },
            Process::Scheduled { at, .. } => State::Scheduled {
                next_tick: at,
                burst: Vec::new(),
            },
            _ => State::Plain,
        };
        ArrivalStream {
            process: process.clone(),
            rng,
            horizon: horizon as f64 / SECOND as f64,
            t: 0.0,
            state,
        }
    }

    /// The next arrival, seconds.
    fn next_s(&mut self) -> Option<f64> {
        let h = self.horizon;
        let rng = &mut self.rng;
        match (&self.process, &mut self.state) {
            (Process::Poisson { rate }, _) => {
                if *rate <= 0.0 {
                    return None;
                }
                self.t += exp1(rng) / rate;
            }
            (
                p @ Process::Diurnal { .. },
                State::Diurnal {
                    seg_len,
                    seg_end,
                    bound,
                },
            ) => loop {
                // Thinning (Lewis and Shedler) under the segment's highest rate; on crossing the
                // segment's end, restart from there (the exponential is memoryless).
                if self.t >= *seg_end {
                    if *seg_end >= h {
                        return None;
                    }
                    let t0 = *seg_end;
                    *seg_end = t0 + *seg_len;
                    *bound = diurnal_bound(p, t0, *seg_end);
                }
                if *bound <= 0.0 {
                    self.t = *seg_end;
                    continue;
                }
                let next = self.t + exp1(rng) / *bound;
                if next >= *seg_end {
                    self.t = *seg_end;
                    continue;
                }
                self.t = next;
                if rng.random::<f64>() * *bound < p.rate_at(next) {
                    break;
                }
            },
            (
                Process::Spike {
                    base,
                    spike,
                    start,
                    end,
                },
                _,
            ) => {
                // Piecewise-constant rate: draw in the current piece; on crossing its end,
                // restart from there (the exponential is memoryless).
                loop {
                    let (rate, piece_end) = if self.t < *start {
                        (*base, *start)
                    } else if self.t < *end {
                        (*spike, *end)
                    } else {
                        (*base, f64::INFINITY)
                    };
                    let next = if rate > 0.0 {
                        self.t + exp1(rng) / rate
                    } else {
                        f64::INFINITY
                    };
                    if next < piece_end {
                        self.t = next;
                        break;
                    }
                    if piece_end >= h {
                        return None;
                    }
                    self.t = piece_end;
                }
            }
            (Process::Mmpp { rates, sojourn }, State::Mmpp { state, until }) => loop {
                let rate = rates[*state];
                let next = if rate > 0.0 {
                    self.t + exp1(rng) / rate
                } else {
                    f64::INFINITY
                };
                if next < *until {
                    self.t = next;
                    break;
                }
                if *until >= h {
                    return None;
                }
                self.t = *until;
                *state = 1 - *state;
                *until += exp1(rng) * sojourn[*state];
            },
            (
                Process::Scheduled {
                    every,
                    fan_out,
                    within,
                    ..
                },
                State::Scheduled { next_tick, burst },
            ) => {
                if burst.is_empty() {
                    if *next_tick >= h {
                        return None;
                    }
                    let tick = *next_tick;
                    *next_tick += every;
                    burst.extend((0..*fan_out).map(|_| tick + rng.random::<f64>() * within));
                    // Latest first, so `pop` gives them in order.
                    burst.sort_by(|a, b| b.total_cmp(a));
                }
                self.t = burst.pop()?;
            }
            (Process::Diurnal { .. } | Process::Mmpp { .. } | Process::Scheduled { .. }, _) => {
                return None;
            }
        }
        (self.t < h).then_some(self.t)
    }
}

/// The highest rate of a diurnal process in `[t0, t1]` (shorter than a day and than a period):
/// the peak if one falls inside, else the higher end; times the higher weekly factor of the (at
/// most two) days touched. A hair above, so rounding never makes the rate exceed it.
fn diurnal_bound(p: &Process, t0: f64, t1: f64) -> f64 {
    let Process::Diurnal {
        peak,
        trough,
        period,
        peak_at,
        weekly,
    } = *p
    else {
        return 0.0;
    };
    let base = |t: f64| {
        trough
            + (peak - trough) * (1.0 + (std::f64::consts::TAU * (t - peak_at) / period).cos()) / 2.0
    };
    let next_peak = peak_at + ((t0 - peak_at) / period).ceil() * period;
    let b = if next_peak <= t1 {
        peak
    } else {
        base(t0).max(base(t1))
    };
    let day = |t: f64| (t / 86_400.0).floor().rem_euclid(7.0) as usize;
    let w = weekly.map_or(1.0, |w| w[day(t0)].max(w[day(t1)]));
    b * w * (1.0 + 1e-9)
}

impl Iterator for ArrivalStream {
    type Item = Micros;

    fn next(&mut self) -> Option<Micros> {
        self.next_s().map(|t| (t * SECOND as f64) as Micros)
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Generated {
    /// Data rows written (invocations).
    pub rows: u64,
    /// Rows per function, in spec order.
    pub per_function: Vec<u64>,
    /// The seed used.
    pub seed: u64,
}

/// Calls `row(arrival, function, duration)` for every invocation of the workload, in time order
/// (equal times in spec order of function and process): `arrival` in the spec's clock
/// (`start` + offset), microseconds; `function` the index in `wl.functions`; `duration`
/// microseconds. The one generator [`generate`] and [`build`] share, so that a spec replayed in
/// memory and its CSV hold the same rows.
pub fn each_row<E>(
    wl: &Workload,
    seed: u64,
    mut row: impl FnMut(u64, usize, Micros) -> Result<(), E>,
) -> Result<(), E> {
    let mut rngs: Vec<(Pcg64Mcg, Option<f64>)> = (0..wl.functions.len())
        .map(|i| {
            let s = seed::derive(seed, 0, i as u64, Purpose::GenerateDurations);
            (Pcg64Mcg::seed_from_u64(s), None)
        })
        .collect();
    let mut streams: Vec<(usize, ArrivalStream)> = Vec::new();
    for (i, f) in wl.functions.iter().enumerate() {
        for (p, process) in f.arrivals.iter().enumerate() {
            let s = seed::derive(
                seed,
                0,
                i as u64,
                Purpose::GenerateArrivals { process: p as u32 },
            );
            streams.push((i, ArrivalStream::new(process, wl.duration, s)));
        }
    }
    let mut heap: BinaryHeap<Reverse<(Micros, usize)>> = BinaryHeap::new();
    for (k, (_, s)) in streams.iter_mut().enumerate() {
        if let Some(t) = s.next() {
            heap.push(Reverse((t, k)));
        }
    }
    let start = wl.start_us as u64;
    while let Some(mut top) = heap.peek_mut() {
        let Reverse((t, k)) = *top;
        let fi = streams[k].0;
        let (rng, spare) = &mut rngs[fi];
        let d = wl.functions[fi].durations.sample_cached(rng, spare);
        row(start + t, fi, d)?;
        match streams[k].1.next() {
            Some(next) => *top = Reverse((next, k)),
            None => {
                std::collections::binary_heap::PeekMut::pop(top);
            }
        }
    }
    Ok(())
}

/// Writes the workload as a canonical trace CSV (header, then rows in time order; equal times in
/// spec order of function and process).
pub fn generate<W: Write + ?Sized>(out: &mut W, wl: &Workload, seed: u64) -> io::Result<Generated> {
    // Per function: its name, and `,memory,trigger\n` or `,,trigger\n`.
    let funcs: Vec<(&[u8], Vec<u8>)> = wl
        .functions
        .iter()
        .map(|f| {
            let memory = if f.memory_mb == 0 {
                String::new()
            } else {
                f.memory_mb.to_string()
            };
            (
                f.name.as_bytes(),
                format!(",{memory},{}\n", f.trigger).into_bytes(),
            )
        })
        .collect();
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 17);
    buf.extend_from_slice(b"timestamp_ms,function,duration_ms,memory_mb,trigger\n");
    let mut stats = Generated {
        rows: 0,
        per_function: vec![0; funcs.len()],
        seed,
    };
    each_row::<io::Error>(wl, seed, |t, fi, d| {
        let (name, tail) = &funcs[fi];
        write_ms(&mut buf, t);
        buf.push(b',');
        buf.extend_from_slice(name);
        buf.push(b',');
        write_ms(&mut buf, d);
        buf.extend_from_slice(tail);
        stats.rows += 1;
        stats.per_function[fi] += 1;
        if buf.len() >= 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
        Ok(())
    })?;
    out.write_all(&buf)?;
    Ok(stats)
}

/// Adds the workload's invocations to `sink`, the rows [`generate`] would write, as the
/// canonical reader would read them back (functions numbered in order of first appearance);
/// stops before the row that would make more than `max`.
pub fn build(
    wl: &Workload,
    seed: u64,
    max: u64,
    sink: &mut TraceBuilder,
) -> Result<Generated, TooMany> {
    let mut ids: Vec<Option<u32>> = vec![None; wl.functions.len()];
    let mut stats = Generated {
        rows: 0,
        per_function: vec![0; wl.functions.len()],
        seed,
    };
    each_row(wl, seed, |t, fi, d| {
        if stats.rows == max {
            return Err(TooMany);
        }
        let f = &wl.functions[fi];
        let id = *ids[fi].get_or_insert_with(|| sink.function_id(&f.name));
        // Below 2^63: the spec's start and duration are bounded (spec::MAX_DURATION).
        sink.push(t as i64, id, d, f.memory_mb, f.trigger);
        stats.rows += 1;
        stats.per_function[fi] += 1;
        Ok(())
    })?;
    Ok(stats)
}

/// [`build`] stopped at its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooMany;

/// Appends microseconds as milliseconds with three decimals (`1234.005`).
#[inline]
fn write_ms(buf: &mut Vec<u8>, us: Micros) {
    write_u64(buf, us / 1000);
    let frac = us % 1000;
    buf.extend_from_slice(&[
        b'.',
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
}

#[inline]
fn write_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_milliseconds() {
        let mut b = Vec::new();
        for us in [0, 5, 1_000, 1_234_567, u64::MAX / 2] {
            b.clear();
            write_ms(&mut b, us);
            let s = String::from_utf8(b.clone()).unwrap_or_default();
            assert_eq!(s, format!("{}.{:03}", us / 1000, us % 1000));
        }
    }

    #[test]
    fn scheduled_fan_out_is_ordered_and_cut_at_the_horizon() {
        let p = Process::Scheduled {
            every: 60.0,
            at: 30.0,
            fan_out: 5,
            within: 10.0,
        };
        let ts: Vec<Micros> = ArrivalStream::new(&p, 125 * SECOND, 1).collect();
        assert_eq!(ts.len(), 10); // ticks at 30 s and 90 s
        assert!(ts.is_sorted());
        assert!(
            ts[..5]
                .iter()
                .all(|&t| (30 * SECOND..40 * SECOND).contains(&t))
        );
        let exact = Process::Scheduled {
            every: 60.0,
            at: 0.0,
            fan_out: 1,
            within: 0.0,
        };
        let ts: Vec<Micros> = ArrivalStream::new(&exact, 180 * SECOND, 1).collect();
        assert_eq!(ts, vec![0, 60 * SECOND, 120 * SECOND]);
    }
}
