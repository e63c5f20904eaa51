//! The traces a sweep's replicas replay, fixed before any job runs so that the output does not
//! depend on the thread count: replica `r` runs with seed `seed::replica_seed(seed, r)` (replica
//! 0: the run seed), on the trace as read, on its own expansion of a per-minute trace, and/or on
//! a block bootstrap of it.

use crate::trace::Trace;
use crate::trace::resample::BlockBootstrap;

/// The seed replica `r` runs with (replica 0: the run seed, as `simulate` would use it).
pub fn replica_seed(seed: u64, r: usize) -> u64 {
    crate::seed::replica_seed(seed, r as u64)
}

/// The traces of `replicas` replicas: one shared trace when every replica replays `first` as it
/// is, else one per replica. `first` is replica 0's trace (read with the run seed). With
/// `expand`, each later replica reads its own expansion with `read(replica_seed(seed, r))`, one
/// at a time (resampled before the next is read); with `bootstrap`, each replica's trace is a
/// block bootstrap of its base.
pub fn replica_traces<E>(
    first: Trace,
    replicas: usize,
    seed: u64,
    bootstrap: Option<BlockBootstrap>,
    expand: Option<&mut dyn FnMut(u64) -> Result<Trace, E>>,
) -> Result<Vec<Trace>, E> {
    match (expand, bootstrap) {
        (None, None) => Ok(vec![first]),
        (None, Some(bs)) => Ok((0..replicas)
            .map(|r| bs.resample(&first, seed, r as u64))
            .collect()),
        (Some(read), _) => {
            let mut out = Vec::with_capacity(replicas);
            let mut first = Some(first);
            for r in 0..replicas {
                let base = match first.take() {
                    Some(t) => t,
                    None => read(replica_seed(seed, r))?,
                };
                out.push(match bootstrap {
                    // An expansion may end a minute earlier or later than replica 0's.
                    Some(bs) => BlockBootstrap::new(&base, bs.block())
                        .unwrap_or(bs)
                        .resample(&base, seed, r as u64),
                    None => base,
                });
            }
            Ok(out)
        }
    }
}

/// Replica `r`'s trace among those [`replica_traces`] returned.
pub fn trace_of(traces: &[Trace], r: usize) -> &Trace {
    &traces[if traces.len() > 1 { r } else { 0 }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_zero_runs_with_the_run_seed_and_the_others_differ() {
        assert_eq!(replica_seed(42, 0), 42);
        let seeds: Vec<u64> = (0..5).map(|r| replica_seed(42, r)).collect();
        let mut unique = seeds.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), seeds.len());
    }
}
