//! Every random stream's seed comes from here: `derive(run_seed, replica, function, purpose)`.
//! The words are absorbed one at a time, each through the full SplitMix64 mix, so streams that
//! differ in any word are unrelated (no `a·φ ^ b·φ` coincidences between replicas and functions).

/// SplitMix64's increment (the golden ratio): steps the state before each absorbed word.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
/// The state before any word is absorbed; changing it changes every stream (a version of the
/// derivation, not a seed).
const DOMAIN: u64 = 0x6661_6173_706c_616e; // "faasplan"

/// What a stream is for. Streams of different purposes never coincide, even with the same
/// (seed, replica, function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The seed one sweep replica runs the engine with (`PlatformConfig::seed`); see
    /// [`replica_seed`].
    Replica,
    /// The engine's draws for one function (init times).
    InitTimes,
    /// Per-minute counts expanded into arrivals and durations (Azure 2019), one day of a file.
    ArrivalExpansion { day: u32 },
    /// The block bootstrap: which blocks a replica of a trace is made of.
    Resample,
    /// `generate`: one function's durations.
    GenerateDurations,
    /// `generate`: one arrival process of a function (its index in the spec).
    GenerateArrivals { process: u32 },
    /// `breakeven`: thinning and copy offsets at one traffic factor (its index).
    Scale { factor: u32 },
    /// The engine's keep-alive draws for one function (`lambda-observed`).
    KeepAlive,
    /// `generate --azure-like`: stream 0 draws the population (apps, functions, rates,
    /// durations, memory); stream `1 + d` one function's per-minute counts on day `d`.
    AzureLike { stream: u32 },
}

impl Purpose {
    /// Two words: a tag per variant and the variant's index (0 when it has none).
    fn words(self) -> [u64; 2] {
        match self {
            Purpose::Replica => [1, 0],
            Purpose::InitTimes => [2, 0],
            Purpose::ArrivalExpansion { day } => [3, u64::from(day)],
            Purpose::Resample => [4, 0],
            Purpose::GenerateDurations => [5, 0],
            Purpose::GenerateArrivals { process } => [6, u64::from(process)],
            Purpose::Scale { factor } => [7, u64::from(factor)],
            Purpose::KeepAlive => [8, 0],
            Purpose::AzureLike { stream } => [9, u64::from(stream)],
        }
    }
}

/// SplitMix64's output function (Steele, Lea & Flood 2014): a bijection of `u64` in which every
/// input bit affects every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Absorbs one word: for a fixed state this is a bijection of the word, and the state it
/// starts from is itself a full mix of every earlier word.
fn absorb(state: u64, word: u64) -> u64 {
    mix(state.wrapping_add(GAMMA) ^ word)
}

/// The seed of one random stream: the run's `--seed`, the replica (0 outside sweeps), the
/// function (its index, or a stable hash of its key where indices depend on reading order) and
/// what the stream is for.
pub fn derive(run_seed: u64, replica: u64, function: u64, purpose: Purpose) -> u64 {
    let [tag, index] = purpose.words();
    [run_seed, replica, function, tag, index]
        .into_iter()
        .fold(DOMAIN, absorb)
}

/// The seed replica `r` of a sweep runs with, in place of the run seed, everywhere a single run
/// uses its seed (the engine, per-minute expansions). Replica 0 is the run seed itself, so
/// replica 0 of `sweep --seed S` is the run `simulate --seed S` makes; the others are
/// `derive(S, r, 0, Replica)`.
pub fn replica_seed(run_seed: u64, replica: u64) -> u64 {
    if replica == 0 {
        run_seed
    } else {
        derive(run_seed, replica, 0, Purpose::Replica)
    }
}

/// A stable 64-bit hash of words, by the same absorption as [`derive`] (another domain): the
/// same words give the same hash on every machine and in every version that keeps `DOMAIN`.
/// For shard selection and trace fingerprints, not for randomness.
pub fn hash_words(words: impl IntoIterator<Item = u64>) -> u64 {
    words
        .into_iter()
        .fold(mix(DOMAIN ^ 0x0053_4841_5244), absorb)
}

/// [`hash_words`] of a byte string: its length, then its bytes as little-endian 8-byte words
/// (the last one zero-padded).
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let words = bytes.chunks(8).map(|c| {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        u64::from_le_bytes(w)
    });
    hash_words(std::iter::once(bytes.len() as u64).chain(words))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::{RngExt, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    use super::*;

    const PHI: u64 = 0x9E37_79B9_7F4A_7C15;

    /// The seed and first draw of every (replica, function) stream in a 100 × 100 grid, as the
    /// engine sees them (a replica's seed, then its function's init stream).
    fn grid(run_seed: u64) -> (HashSet<u64>, HashSet<u64>) {
        let mut seeds = HashSet::new();
        let mut draws = HashSet::new();
        for r in 0..100 {
            for f in 0..100 {
                let s = derive(replica_seed(run_seed, r), 0, f, Purpose::InitTimes);
                seeds.insert(s);
                draws.insert(Pcg64Mcg::seed_from_u64(s).random::<u64>());
            }
        }
        (seeds, draws)
    }

    #[test]
    fn a_hundred_replicas_of_a_hundred_functions_get_ten_thousand_distinct_streams() {
        for run_seed in [0, 1, PHI, PHI.wrapping_mul(2), u64::MAX] {
            let (seeds, draws) = grid(run_seed);
            assert_eq!(seeds.len(), 10_000, "seed {run_seed}");
            assert_eq!(draws.len(), 10_000, "seed {run_seed}");
        }
        // The same grid straight through `derive`, replica as a word.
        let direct: HashSet<u64> = (0..100)
            .flat_map(|r| (0..100).map(move |f| derive(7, r, f, Purpose::InitTimes)))
            .collect();
        assert_eq!(direct.len(), 10_000);
    }

    #[test]
    fn old_collision_replica_and_function_no_longer_swap() {
        // The old scheme: replica r of function f shared a stream with replica f + 1 of
        // function r − 1, and seed φ function 1 with seed 2φ function 0.
        assert_ne!(
            derive(PHI, 0, 1, Purpose::InitTimes),
            derive(PHI.wrapping_mul(2), 0, 0, Purpose::InitTimes)
        );
        for r in 1..20u64 {
            // r = f + 1 names the same stream twice.
            for f in (0..20u64).filter(|&f| f + 1 != r) {
                assert_ne!(
                    derive(replica_seed(5, r), 0, f, Purpose::InitTimes),
                    derive(replica_seed(5, f + 1), 0, r - 1, Purpose::InitTimes),
                    "r {r} f {f}"
                );
            }
        }
    }

    #[test]
    fn purposes_and_indices_separate_streams() {
        let all = [
            Purpose::Replica,
            Purpose::InitTimes,
            Purpose::ArrivalExpansion { day: 0 },
            Purpose::ArrivalExpansion { day: 1 },
            Purpose::Resample,
            Purpose::GenerateDurations,
            Purpose::GenerateArrivals { process: 0 },
            Purpose::GenerateArrivals { process: 1 },
            Purpose::Scale { factor: 0 },
            Purpose::Scale { factor: 1 },
            Purpose::KeepAlive,
            Purpose::AzureLike { stream: 0 },
            Purpose::AzureLike { stream: 1 },
        ];
        let seeds: HashSet<u64> = all.iter().map(|&p| derive(3, 0, 0, p)).collect();
        assert_eq!(seeds.len(), all.len());
        assert_eq!(replica_seed(42, 0), 42);
    }
}
