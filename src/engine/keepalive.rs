//! Keep-alive policies: how long an idle on-demand instance stays warm before it is reclaimed.
//!
//! The engine keeps idle instances in a deque ordered by the time they went idle and reclaims from
//! the front, so a policy must give non-decreasing expiry times (`idle_since + keep_alive`) for
//! non-decreasing `idle_since` within one function. [`FixedKeepAlive`] does. A histogram policy in
//! the manner of "Serverless in the Wild" (Shahrad et al., ATC 2020) fits behind the same trait as
//! long as its window changes only at coarse steps.

use crate::time::Micros;

pub trait KeepAlivePolicy: Send + Sync + std::fmt::Debug {
    /// How long an instance that became idle at `idle_since` stays warm, microseconds.
    fn keep_alive(&self, idle_since: Micros) -> Micros;

    /// The longest keep-alive the policy gives, microseconds: how far back the instances alive at
    /// a moment can have been last used (the `cyclic` warm-up replays at least this much).
    fn longest(&self) -> Micros {
        self.keep_alive(0)
    }

    /// A short description for output.
    fn describe(&self) -> String;
}

/// The same keep-alive for every idle period (Lambda: about 10 minutes, measured; see
/// `pricing/README.md`, behaviour sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedKeepAlive(pub Micros);

impl KeepAlivePolicy for FixedKeepAlive {
    fn keep_alive(&self, _idle_since: Micros) -> Micros {
        self.0
    }

    fn describe(&self) -> String {
        format!("fixed {} s", self.0 as f64 / 1e6)
    }
}
