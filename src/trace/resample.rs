//! The block bootstrap of a trace, for sweep replicas that differ in their traffic and not only
//! in their random init times: the trace's time axis is cut into blocks of a fixed length
//! aligned to the trace origin, and a replica is as many blocks, drawn with replacement and laid
//! end to end, each shifted to its slot's time (all functions of a block move together).
//!
//! Assumptions, which the caller should state to the user:
//! - blocks are exchangeable: no trend or growth across the trace (a growing trace resamples
//!   into a flat one);
//! - a block is long enough to hold the dependence that matters (a day for a diurnal trace, so
//!   each slot keeps its time of day; an hour keeps bursts but scrambles the daily cycle);
//! - nothing crosses a seam: an instance kept warm at the end of one block meets the start of an
//!   unrelated one, and a burst cut by a block edge is not continued.
//!
//! A partial last block (the trace does not end on a block boundary) keeps its data: any block,
//! the partial one included, may be drawn into any slot; where the partial block runs out, the
//! slot continues with the same offsets of a whole block drawn uniformly. So each offset within
//! a block is drawn uniformly from the blocks that observed it. The last slot is cut to the
//! partial length, so every replica spans what the trace spans. A replica is built from its rows
//! like any trace, so its origin is its first row's minute (later than the trace's when the first
//! slot starts quietly).

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::{Invocation, Trace, TraceBuilder};
use crate::seed::{self, Purpose};
use crate::time::{MINUTE, Micros, ceil_minute};

/// Why a block length does not fit a trace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResampleError {
    #[error("a block of {} is shorter than a minute", fmt_us(*.block))]
    TooShort {
        /// Microseconds.
        block: Micros,
    },
    #[error(
        "a block of {} is longer than half the trace ({} from its first minute to its last \
         arrival): a bootstrap needs at least two blocks to draw from",
        fmt_us(*.block),
        fmt_us(*.span)
    )]
    TooLong {
        /// Microseconds.
        block: Micros,
        /// Microseconds.
        span: Micros,
    },
}

fn fmt_us(us: Micros) -> String {
    let s = us as f64 / 1e6;
    let (v, unit) = if s >= 86_400.0 {
        (s / 86_400.0, "d")
    } else if s >= 3_600.0 {
        (s / 3_600.0, "h")
    } else if s >= 60.0 {
        (s / 60.0, "min")
    } else {
        (s, "s")
    };
    let v = format!("{v:.3}");
    format!("{} {unit}", v.trim_end_matches('0').trim_end_matches('.'))
}

/// A block bootstrap checked against one trace: the block length and how the trace divides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockBootstrap {
    /// Microseconds.
    block: Micros,
    /// The trace's span: from the origin to its last arrival's minute end, microseconds.
    span: Micros,
}

/// One piece of a replica: `len` µs of the trace from `from`, placed at `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    from: Micros,
    to: Micros,
    len: Micros,
}

impl BlockBootstrap {
    /// Checks `block` (microseconds) against the trace: at least a minute, and at most half the
    /// trace's span (from its origin to the end of its last arrival's minute), so there are at
    /// least two whole blocks.
    pub fn new(trace: &Trace, block: Micros) -> Result<BlockBootstrap, ResampleError> {
        let span = if trace.is_empty() {
            0
        } else {
            ceil_minute(trace.last_arrival() + 1)
        };
        if block < MINUTE {
            return Err(ResampleError::TooShort { block });
        }
        if block.saturating_mul(2) > span {
            return Err(ResampleError::TooLong { block, span });
        }
        Ok(BlockBootstrap { block, span })
    }

    /// The block length, microseconds.
    pub fn block(&self) -> Micros {
        self.block
    }

    /// The span every replica covers, microseconds.
    pub fn span(&self) -> Micros {
        self.span
    }

    /// Blocks in the trace, the partial last one included.
    pub fn blocks(&self) -> u64 {
        self.span.div_ceil(self.block)
    }

    /// The length of the partial last block, microseconds (`None` when the span is a whole
    /// number of blocks).
    pub fn partial(&self) -> Option<Micros> {
        Some(self.span % self.block).filter(|&p| p > 0)
    }

    /// The pieces of replica `replica`: slot by slot, which part of the trace fills it.
    fn pieces(&self, run_seed: u64, replica: u64) -> Vec<Piece> {
        let mut rng =
            Pcg64Mcg::seed_from_u64(seed::derive(run_seed, replica, 0, Purpose::Resample));
        let n = self.blocks();
        let whole = self.span / self.block;
        let len_of = |b: u64| (self.span - b * self.block).min(self.block);
        let mut out = Vec::with_capacity(n as usize + 1);
        for slot in 0..n {
            let slot_len = len_of(slot);
            let b = rng.random_range(0..n);
            let drawn = len_of(b).min(slot_len);
            out.push(Piece {
                from: b * self.block,
                to: slot * self.block,
                len: drawn,
            });
            if drawn < slot_len {
                // The partial block ran out: the same offsets of a whole block go on.
                let w = rng.random_range(0..whole);
                out.push(Piece {
                    from: w * self.block + drawn,
                    to: slot * self.block + drawn,
                    len: slot_len - drawn,
                });
            }
        }
        out
    }

    /// Replica `replica` of `trace`, drawn from `run_seed` (purpose `Resample`). Functions keep
    /// their names and their order; a function no drawn block holds is left out (a trace has no
    /// empty functions). `trace` must be the one this bootstrap was checked against.
    pub fn resample(&self, trace: &Trace, run_seed: u64, replica: u64) -> Trace {
        let pieces = self.pieces(run_seed, replica);
        let mut rows: Vec<Invocation> = Vec::with_capacity(trace.len() + trace.len() / 8);
        for p in &pieces {
            for f in 0..trace.functions.len() {
                let src = trace.function_invocations(f);
                let lo = src.partition_point(|i| i.arrival < p.from);
                let hi = src.partition_point(|i| i.arrival < p.from + p.len);
                rows.extend(src[lo..hi].iter().map(|i| Invocation {
                    arrival: i.arrival - p.from + p.to,
                    ..*i
                }));
            }
        }
        // Time order across functions; stable, so equal arrivals keep function then input order.
        rows.sort_by_key(|i| i.arrival);
        let mut present = vec![false; trace.functions.len()];
        for r in &rows {
            present[r.function as usize] = true;
        }
        let mut b = TraceBuilder::new();
        b.reserve(rows.len());
        let ids: Vec<u32> = trace
            .functions
            .iter()
            .zip(&present)
            .map(|(meta, &p)| {
                if p {
                    b.function_id(&meta.name)
                } else {
                    u32::MAX
                }
            })
            .collect();
        for r in rows {
            b.push(
                trace.origin_us + r.arrival as i64,
                ids[r.function as usize],
                r.duration,
                r.memory_mb,
                r.trigger,
            );
        }
        b.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{HOUR, SECOND};
    use crate::trace::Trigger;

    /// Function "a" arrives once a minute; in hour `h` its durations are `h` ms, so each row says
    /// which block it came from. Function "b" arrives only in hour 2.
    fn hours(n: u64) -> Trace {
        let mut b = TraceBuilder::new();
        let origin = 1_700_000_000 * SECOND as i64 / MINUTE as i64 * MINUTE as i64;
        for m in 0..n * 60 {
            let h = m / 60;
            let a = b.function_id("a");
            b.push(
                origin + (m * MINUTE) as i64,
                a,
                (h + 1) * 1_000,
                0,
                Trigger::Sync,
            );
            if h == 2 {
                let id = b.function_id("b");
                b.push(origin + (m * MINUTE + 7) as i64, id, 5, 128, Trigger::Queue);
            }
        }
        b.finish()
    }

    #[test]
    fn block_length_is_checked() {
        let t = hours(4);
        assert_eq!(
            BlockBootstrap::new(&t, 59 * SECOND),
            Err(ResampleError::TooShort { block: 59 * SECOND })
        );
        assert!(BlockBootstrap::new(&t, 2 * HOUR).is_ok());
        assert_eq!(
            BlockBootstrap::new(&t, 2 * HOUR + MINUTE),
            Err(ResampleError::TooLong {
                block: 2 * HOUR + MINUTE,
                span: 4 * HOUR
            })
        );
        let e = BlockBootstrap::new(&t, 3 * HOUR).unwrap_err().to_string();
        assert!(e.contains("3 h") && e.contains("(4 h from"), "{e}");
    }

    #[test]
    fn a_replica_is_whole_blocks_shifted_to_their_slots() {
        let t = hours(6);
        let bs = BlockBootstrap::new(&t, HOUR).unwrap();
        assert_eq!((bs.blocks(), bs.partial()), (6, None));
        let mut seen_other_order = false;
        for replica in 0..20 {
            let r = bs.resample(&t, 9, replica);
            assert_eq!(r.origin_us, t.origin_us);
            let a = r.function_invocations(0);
            // Every slot holds the 60 rows of one block, in its own times.
            assert_eq!(a.len(), 360);
            for slot in 0..6u64 {
                let rows = &a[slot as usize * 60..(slot as usize + 1) * 60];
                let h = rows[0].duration / 1_000 - 1;
                seen_other_order |= h != slot;
                for (m, i) in rows.iter().enumerate() {
                    assert_eq!(i.arrival, slot * HOUR + m as u64 * MINUTE);
                    assert_eq!(i.duration, (h + 1) * 1_000, "one block per slot");
                }
            }
            // "b" comes along with hour 2, 60 rows per copy, keeping memory and trigger.
            let copies = a.chunks(60).filter(|c| c[0].duration == 3_000).count();
            if copies == 0 {
                assert_eq!(r.functions.len(), 1, "no empty function");
            } else {
                assert_eq!(r.functions[1].name, "b");
                let b = r.function_invocations(1);
                assert_eq!(b.len(), 60 * copies);
                assert!(
                    b.iter()
                        .all(|i| i.memory_mb == 128 && i.trigger == Trigger::Queue)
                );
                assert!(b.iter().all(|i| i.arrival % MINUTE == 7));
            }
            // Reproducible, and replicas differ.
            assert_eq!(bs.resample(&t, 9, replica).invocations, r.invocations);
        }
        assert!(seen_other_order);
        assert_ne!(
            bs.resample(&t, 9, 0).invocations,
            bs.resample(&t, 9, 1).invocations
        );
    }

    #[test]
    fn blocks_are_drawn_uniformly() {
        // 4 blocks, 400 replicas × 4 slots: each block drawn 400 times in expectation, with a
        // binomial(1600, 1/4) spread of sd 17.3; 5 sd either way.
        let t = hours(4);
        let bs = BlockBootstrap::new(&t, HOUR).unwrap();
        let mut counts = [0u32; 4];
        for replica in 0..400 {
            for c in bs
                .resample(&t, 1, replica)
                .function_invocations(0)
                .chunks(60)
            {
                counts[(c[0].duration / 1_000 - 1) as usize] += 1;
            }
        }
        for c in counts {
            assert!((400.0 - f64::from(c)).abs() < 5.0 * 17.33, "{counts:?}");
        }
    }

    #[test]
    fn a_partial_last_block_is_drawn_and_filled_and_the_last_slot_is_cut() {
        // 4.5 hours in blocks of 2 h: blocks 0..2 h, 2..4 h and a partial 4..4.5 h.
        let t = hours(5);
        let mut b = TraceBuilder::new();
        for i in t.function_invocations(0) {
            if i.arrival < 4 * HOUR + 30 * MINUTE {
                let id = b.function_id("a");
                b.push(t.origin_us + i.arrival as i64, id, i.duration, 0, i.trigger);
            }
        }
        let t = b.finish();
        let bs = BlockBootstrap::new(&t, 2 * HOUR).unwrap();
        assert_eq!((bs.blocks(), bs.partial()), (3, Some(30 * MINUTE)));
        let mut partial_in_full_slot = false;
        for replica in 0..50 {
            let r = bs.resample(&t, 4, replica);
            let a = r.function_invocations(0);
            // One row a minute throughout, no gap and no overlap, cut at 4.5 h.
            assert_eq!(a.len(), 270, "replica {replica}");
            for (m, i) in a.iter().enumerate() {
                assert_eq!(i.arrival, m as u64 * MINUTE);
            }
            // Offsets keep their position within the block: a row at offset o within its slot
            // came from offset o within its block (hour parity of the block's hours).
            for i in a {
                let hour_in_block = (i.arrival % (2 * HOUR)) / HOUR;
                let source_hour = i.duration / 1_000 - 1;
                assert_eq!(source_hour % 2, hour_in_block, "offset kept");
            }
            // The partial block (hour 4) drawn into a full slot: its 30 minutes, then a whole
            // block's minutes 30..120.
            for slot in 0..2 {
                let rows = &a[slot * 120..(slot + 1) * 120];
                if rows[0].duration == 5_000 {
                    partial_in_full_slot = true;
                    assert!(rows[..30].iter().all(|i| i.duration == 5_000));
                    assert!(rows[30..].iter().all(|i| i.duration != 5_000));
                }
            }
        }
        assert!(
            partial_in_full_slot,
            "50 replicas never drew the partial block"
        );
    }
}
