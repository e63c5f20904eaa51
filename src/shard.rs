//! Shards: a deterministic part of a run's work, so that N machines (a Slurm array, a Kubernetes
//! Indexed Job) each run one part and `faasplan merge` puts the parts back together exactly.
//!
//! - A `simulate` shard holds the applications (or lone functions) whose stable name hash falls
//!   in it: the functions of one application always share a shard, since a learning keep-alive
//!   policy couples them. See [`Shard::holds`].
//! - A `sweep` shard holds every N-th (point, replica) job, in grid order.
//!
//! The partial file each shard writes is `crate::partial`.

use std::fmt;
use std::str::FromStr;

use crate::seed;

/// The most shards a run may be cut into.
pub const MAX_SHARDS: u32 = 100_000;

/// Shard `index` of `count` (0-based: `0/4` .. `3/4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// Why a shard spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("expected I/N (shard I of N, 0-based: 0/4 .. 3/4)")]
    Form,
    #[error("the shard count must be at least 1")]
    NoShards,
    #[error("the shard count must be at most {MAX_SHARDS}")]
    TooMany,
    #[error("shard {index} is out of range: the shards of {count} are 0/{count} .. {last}/{count}", last = count - 1)]
    OutOfRange { index: u32, count: u32 },
}

impl Shard {
    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::NoShards);
        }
        if count > MAX_SHARDS {
            return Err(ShardError::TooMany);
        }
        if index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }

    /// The whole run as one shard.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    pub fn index(self) -> u32 {
        self.index
    }

    pub fn count(self) -> u32 {
        self.count
    }

    /// The shard that holds the unit (an application, or a function alone in its own) named
    /// `key`: a stable hash of the name, so a shard's part depends neither on the order of the
    /// trace's rows nor on the machine.
    pub fn of_key(key: &str, count: u32) -> u32 {
        (seed::hash_bytes(key.as_bytes()) % u64::from(count.max(1))) as u32
    }

    /// The key of an application: every function of it is in one shard.
    pub fn app_key(app: &str) -> String {
        format!("app:{app}")
    }

    /// The key of a function alone in its own application (never equal to an app's key).
    pub fn function_key(name: &str) -> String {
        format!("function:{name}")
    }

    /// True when this shard holds the unit named `key`.
    pub fn holds(self, key: &str) -> bool {
        Shard::of_key(key, self.count) == self.index
    }

    /// True when this shard holds job `job` of a list (every `count`-th, from `index`).
    pub fn holds_job(self, job: usize) -> bool {
        job % self.count as usize == self.index as usize
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let (i, n) = s.split_once('/').ok_or(ShardError::Form)?;
        let num = |t: &str| -> Result<u32, ShardError> {
            let t = t.trim();
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ShardError::Form);
            }
            // Too many digits for a u32 is out of range, not a bad form.
            Ok(t.parse::<u32>().unwrap_or(u32::MAX))
        };
        Shard::new(num(i)?, num(n)?)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_are_refused() {
        assert_eq!("1/4".parse(), Shard::new(1, 4));
        assert_eq!("0/1".parse(), Ok(Shard::WHOLE));
        assert_eq!(
            "5/4".parse::<Shard>(),
            Err(ShardError::OutOfRange { index: 5, count: 4 })
        );
        assert_eq!(
            "4/4".parse::<Shard>(),
            Err(ShardError::OutOfRange { index: 4, count: 4 })
        );
        assert_eq!("0/0".parse::<Shard>(), Err(ShardError::NoShards));
        for bad in ["a/b", "1", "", "/4", "1/", "-1/4", "1/4/5", "1.0/4", "+1/4"] {
            assert_eq!(bad.parse::<Shard>(), Err(ShardError::Form), "{bad}");
        }
        assert_eq!("0/100001".parse::<Shard>(), Err(ShardError::TooMany));
        assert!(matches!(
            "99999999999/4".parse::<Shard>(),
            Err(ShardError::OutOfRange { .. })
        ));
        assert_eq!(Shard::new(3, 4).unwrap().to_string(), "3/4");
    }

    #[test]
    fn every_key_and_job_falls_in_exactly_one_shard() {
        let shards: Vec<Shard> = (0..4).map(|i| Shard::new(i, 4).unwrap()).collect();
        let mut per = [0usize; 4];
        for k in 0..1000 {
            let key = format!("function-{k}");
            let holders: Vec<_> = shards.iter().filter(|s| s.holds(&key)).collect();
            assert_eq!(holders.len(), 1, "{key}");
            per[holders[0].index() as usize] += 1;
            let jobs = shards.iter().filter(|s| s.holds_job(k)).count();
            assert_eq!(jobs, 1);
        }
        // A fair hash: each shard holds 250 ± 4σ (σ = √(1000·¼·¾) ≈ 13.7) of 1000 keys.
        for n in per {
            assert!((195..=305).contains(&n), "{per:?}");
        }
    }

    #[test]
    fn the_hash_is_stable() {
        // A change here moves functions between shards: partials of older versions would not
        // merge with newer ones (the partial's version check refuses them anyway).
        assert_eq!(
            Shard::of_key("api", 1_000_000),
            Shard::of_key("api", 1_000_000)
        );
        assert_ne!(seed::hash_bytes(b"api"), seed::hash_bytes(b"api\0"));
        assert_ne!(seed::hash_bytes(b""), seed::hash_bytes(b"\0"));
    }
}
