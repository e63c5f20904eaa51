//! Scaling a trace's traffic by a factor k while keeping its shape, for `breakeven`:
//! - k < 1: thinning, each invocation kept with probability k;
//! - k >= 1: ⌊k⌋ copies of the trace, each shifted by its own random offset in [0, 60 s) so that
//!   copies do not arrive in lockstep, plus one copy thinned with probability k − ⌊k⌋.
//!
//! Thinning a Poisson process gives a Poisson process; superposing shifted copies keeps every
//! minute-scale feature (diurnal shape, bursts) and multiplies the rate by k. Seeded per function.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::{Invocation, Trace, TraceBuilder};
use crate::seed::{self, Purpose};
use crate::time::MINUTE;

/// The most rows a scaled trace may hold (2.4 GB at 24 bytes a row): `breakeven` refuses a
/// `--max-factor` that would pass it before scaling anything.
pub const MAX_SCALED_ROWS: u64 = 100_000_000;

/// Returns `trace` with its traffic multiplied by `k` (> 0), drawn from the run's `seed` and the
/// index of `k` among the factors tried (`factor`), so each factor has its own streams.
pub fn scale(trace: &Trace, k: f64, seed: u64, factor: u32) -> Trace {
    let whole = k.floor() as u64;
    let frac = k - whole as f64;
    let mut b = TraceBuilder::new();
    b.reserve((trace.len() as f64 * k * 1.01) as usize + 16);
    let mut rows: Vec<Invocation> = Vec::new();
    for (f, meta) in trace.functions.iter().enumerate() {
        let mut rng =
            Pcg64Mcg::seed_from_u64(seed::derive(seed, 0, f as u64, Purpose::Scale { factor }));
        let src = trace.function_invocations(f);
        rows.clear();
        for copy in 0..whole {
            // The first copy keeps the original times, so k = 1 returns the trace unchanged.
            let offset = if copy == 0 {
                0
            } else {
                rng.random_range(0..MINUTE)
            };
            rows.extend(src.iter().map(|inv| Invocation {
                arrival: inv.arrival + offset,
                ..*inv
            }));
        }
        if frac > 0.0 {
            let offset = if whole == 0 {
                0
            } else {
                rng.random_range(0..MINUTE)
            };
            for inv in src {
                if rng.random::<f64>() < frac {
                    rows.push(Invocation {
                        arrival: inv.arrival + offset,
                        ..*inv
                    });
                }
            }
        }
        if rows.is_empty() {
            continue; // thinned away entirely: a trace has no empty functions
        }
        rows.sort_by_key(|i| i.arrival);
        let id = b.function_id(&meta.name);
        for inv in &rows {
            b.push(
                inv.arrival as i64,
                id,
                inv.duration,
                inv.memory_mb,
                inv.trigger,
            );
        }
    }
    let mut out = b.finish();
    // Keep the original clock: arrivals stay relative to the same origin.
    out.origin_us = trace.origin_us;
    out.was_sorted = false;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Trigger;

    fn steady(n: u64, gap_us: u64) -> Trace {
        let mut b = TraceBuilder::new();
        let id = b.function_id("f");
        for i in 0..n {
            b.push((i * gap_us) as i64, id, 1_000, 0, Trigger::Sync);
        }
        b.finish()
    }

    #[test]
    fn scaling_multiplies_the_count() {
        let t = steady(100_000, 10_000);
        assert_eq!(scale(&t, 1.0, 1, 0).len(), 100_000);
        assert_eq!(scale(&t, 3.0, 1, 0).len(), 300_000);
        // Thinning: binomial(n, k); 4 standard deviations.
        for k in [0.1, 0.5, 2.5] {
            let n = scale(&t, k, 7, 0).len() as f64;
            let frac = k - k.floor();
            let sd = (1e5 * frac * (1.0 - frac)).sqrt();
            assert!((n - 1e5 * k).abs() <= 4.0 * sd + 1.0, "k={k}: {n}");
        }
    }

    #[test]
    fn scaling_is_seeded() {
        let t = steady(10_000, 10_000);
        assert_eq!(
            scale(&t, 2.5, 3, 0).invocations,
            scale(&t, 2.5, 3, 0).invocations
        );
        assert_ne!(
            scale(&t, 0.5, 3, 0).invocations,
            scale(&t, 0.5, 4, 0).invocations
        );
        // Each factor index draws its own streams.
        assert_ne!(
            scale(&t, 0.5, 3, 0).invocations,
            scale(&t, 0.5, 3, 1).invocations
        );
    }
}
