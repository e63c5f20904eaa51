//! The discrete-event model of a FaaS platform. One engine, parameterised by [`PlatformConfig`]:
//! instances with per-instance concurrency, keep-alive, cold starts, provisioned concurrency,
//! function and account concurrency limits, a scaling-rate token bucket, and trigger semantics
//! over the limit. The engine does no I/O and knows nothing about prices.

pub mod coldstart;
mod driver;
pub mod fleet;
mod function;
pub mod keepalive;

use std::sync::Arc;

pub use coldstart::InitDist;
pub(crate) use driver::Runner;
pub use driver::{simulate, simulate_mode};
pub use keepalive::{FixedKeepAlive, KeepAlivePolicy};

use crate::error::ConfigError;
use crate::time::{Micros, SECOND};

/// A scaling-rate limit on new instances, per function: a token bucket that holds up to `burst`
/// tokens and refills one token every `refill_every` microseconds (continuously, not banked
/// beyond `burst`). Lambda today: 1,000 per 10 s, i.e. burst 1,000 and one token every 10 ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingRate {
    pub burst: u32,
    pub refill_every: Micros,
}

impl ScalingRate {
    pub const LAMBDA: ScalingRate = ScalingRate {
        burst: 1_000,
        refill_every: 10_000,
    };

    /// Parses `N/DURATION`, e.g. `1000/10s` (N new instances per DURATION, burst N), or `none`.
    pub fn parse(s: &str) -> Result<Option<ScalingRate>, ConfigError> {
        let s = s.trim();
        if s == "none" || s == "unlimited" {
            return Ok(None);
        }
        let bad = || {
            ConfigError::invalid(
                "--scaling-rate",
                format!("{s:?}: expected N/DURATION such as 1000/10s, or none"),
            )
        };
        let (n, d) = s.split_once('/').ok_or_else(bad)?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        let d = crate::time::parse_duration(d).ok_or_else(bad)?;
        if n == 0 || d == 0 {
            return Err(bad());
        }
        Ok(Some(ScalingRate {
            burst: n,
            refill_every: (d / n as u64).max(1),
        }))
    }
}

/// Retry behaviour for `async` invocations that find no capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncRetry {
    /// First backoff, microseconds (Lambda: 1 s).
    pub initial: Micros,
    /// Backoff cap, microseconds (Lambda: 5 min).
    pub max: Micros,
    /// Maximum event age, microseconds (Lambda: 6 h); after it the event is dead-lettered.
    pub max_age: Micros,
}

impl Default for AsyncRetry {
    fn default() -> Self {
        AsyncRetry {
            initial: SECOND,
            max: 300 * SECOND,
            max_age: 6 * 3600 * SECOND,
        }
    }
}

/// Validated platform parameters. The engine trusts every field.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// Memory for invocations whose trace row has none, MB.
    pub memory_mb: u16,
    /// Requests one instance serves at once (Lambda 1; Cloud Run default 80).
    pub per_instance_concurrency: u32,
    /// Pre-initialised instances per function, used first and never reclaimed.
    pub provisioned: u32,
    pub keep_alive: Arc<dyn KeepAlivePolicy>,
    /// Optional maximum instance lifetime: an instance older than this is reclaimed as soon as it
    /// is idle instead of being kept warm. Does not apply to provisioned instances.
    pub max_lifetime: Option<Micros>,
    /// Per-function limit on instances in use (reserved concurrency / max instances).
    pub max_concurrency: Option<u32>,
    /// Account-wide limit on instances in use, shared by all functions (Lambda default 1,000).
    pub account_concurrency: Option<u32>,
    /// Per-function scaling-rate limit on new instances.
    pub scaling: Option<ScalingRate>,
    pub init: InitDist,
    /// How long a `queue` request may wait for capacity before it is throttled, microseconds.
    pub queue_max_wait: Micros,
    pub retry: AsyncRetry,
    /// Window end; arrivals at or after it are not simulated. `None`: the end of the minute in
    /// which the last event falls.
    pub horizon: Option<Micros>,
    pub seed: u64,
}

impl PlatformConfig {
    /// Lambda-like defaults: 1 request per instance, 10-minute keep-alive... see the CLI for each.
    pub fn lambda_defaults(init: InitDist) -> PlatformConfig {
        PlatformConfig {
            memory_mb: 128,
            per_instance_concurrency: 1,
            provisioned: 0,
            keep_alive: Arc::new(FixedKeepAlive(600 * SECOND)),
            max_lifetime: None,
            max_concurrency: None,
            account_concurrency: Some(1_000),
            scaling: Some(ScalingRate::LAMBDA),
            init,
            queue_max_wait: 6 * 3600 * SECOND,
            retry: AsyncRetry::default(),
            horizon: None,
            seed: 0,
        }
    }

    /// Checks the combination of options; call once before [`simulate`].
    pub fn validate(&self, functions: usize) -> Result<(), ConfigError> {
        if self.per_instance_concurrency == 0 {
            return Err(ConfigError::invalid(
                "--per-instance-concurrency",
                "must be at least 1",
            ));
        }
        if self.memory_mb == 0 {
            return Err(ConfigError::invalid("--memory-mb", "must be at least 1"));
        }
        if let Some(m) = self.max_concurrency
            && m < self.provisioned
        {
            return Err(ConfigError::invalid(
                "--max-concurrency",
                format!(
                    "{m} is below --provisioned {}: provisioned instances count against the function's limit",
                    self.provisioned
                ),
            ));
        }
        if let Some(a) = self.account_concurrency {
            let need = self.provisioned as u64 * functions as u64;
            if need > a as u64 {
                return Err(ConfigError::invalid(
                    "--account-concurrency",
                    format!(
                        "{a} cannot hold --provisioned {} for each of {functions} functions ({need} instances)",
                        self.provisioned
                    ),
                ));
            }
        }
        if self.horizon == Some(0) {
            return Err(ConfigError::invalid("--horizon", "must be greater than 0"));
        }
        Ok(())
    }
}
