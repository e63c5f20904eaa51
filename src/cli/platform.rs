//! The platform flags shared by every command that runs the engine, and their validation into a
//! [`PlatformConfig`].

use std::sync::Arc;

use clap::Args;

use super::{duration_flag, seconds_flag};
use crate::engine::{FixedKeepAlive, InitDist, PlatformConfig, ScalingRate};
use crate::error::ConfigError;

/// How the simulated platform behaves. Defaults model AWS Lambda.
#[derive(Debug, Clone, Args)]
pub struct PlatformArgs {
    /// Memory per instance for rows without memory_mb, in MB (default: 128).
    #[arg(long, default_value_t = 128, value_name = "MB")]
    pub memory_mb: u16,

    /// Pre-initialised (provisioned) instances per function, used first, never reclaimed (default: 0).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub provisioned: u32,

    /// Keep-alive after an instance's last request, in seconds (default: 600).
    #[arg(long, default_value_t = 600.0, value_name = "SECONDS")]
    pub keep_alive: f64,

    /// Maximum instance lifetime, in seconds; older instances are reclaimed when idle (default: none).
    #[arg(long, value_name = "SECONDS")]
    pub max_lifetime: Option<f64>,

    /// Per-function limit on instances in use (reserved concurrency / max instances) (default: none).
    #[arg(long, value_name = "N")]
    pub max_concurrency: Option<u32>,

    /// Account-wide limit on instances in use, shared by all functions, or `none` (default: 1000).
    #[arg(long, default_value = "1000", value_name = "N|none")]
    pub account_concurrency: String,

    /// Requests one instance serves at once (default: 1, as on Lambda; Cloud Run uses 80).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub per_instance_concurrency: u32,

    /// Cold-start init time: N (ms), lognormal:P50,P99 (ms) or empirical:FILE (default: the measured
    /// Lambda init for --runtime/--package/--arch at the memory size).
    #[arg(long, value_name = "SPEC")]
    pub init_ms: Option<String>,

    /// Runtime whose measured Lambda init durations set the default --init-ms (default: python3.12).
    #[arg(long, default_value = "python3.12")]
    pub runtime: String,

    /// Packaging for the default --init-ms: zip or image (default: zip).
    #[arg(long, default_value = "zip")]
    pub package: String,

    /// Architecture for the default --init-ms: x86_64 or arm64 (default: x86_64).
    #[arg(long, default_value = "x86_64")]
    pub arch: String,

    /// Scaling-rate limit on new instances per function: N/DURATION or none (default: 1000/10s, Lambda).
    #[arg(long, default_value = "1000/10s", value_name = "N/DURATION")]
    pub scaling_rate: String,

    /// Longest a `queue` request waits for capacity before it is throttled, e.g. 900s, 6h (default: 6h).
    #[arg(long, default_value = "6h", value_name = "DURATION")]
    pub queue_max_wait: String,

    /// Maximum event age for `async` retries before dead-lettering, e.g. 6h (default: 6h).
    #[arg(long, default_value = "6h", value_name = "DURATION")]
    pub max_event_age: String,

    /// Window end, e.g. 3600, 90m, 2h; later arrivals are not simulated (default: the end of the
    /// minute of the last completion).
    #[arg(long, value_name = "DURATION")]
    pub horizon: Option<String>,

    /// Seed for all randomness (cold-start samples) (default: 0).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Turns the raw flags into a validated platform configuration.
pub fn platform_config(a: &PlatformArgs) -> Result<PlatformConfig, ConfigError> {
    let init = match &a.init_ms {
        Some(spec) => InitDist::parse(spec)?,
        None => InitDist::lambda_default(&a.runtime, &a.package, &a.arch, a.memory_mb.into())?,
    };
    let mut cfg = PlatformConfig::lambda_defaults(init);
    cfg.memory_mb = a.memory_mb;
    cfg.per_instance_concurrency = a.per_instance_concurrency;
    cfg.provisioned = a.provisioned;
    cfg.keep_alive = Arc::new(FixedKeepAlive(seconds_flag("--keep-alive", a.keep_alive)?));
    cfg.max_lifetime = a
        .max_lifetime
        .map(|s| seconds_flag("--max-lifetime", s))
        .transpose()?;
    if cfg.max_lifetime == Some(0) {
        return Err(ConfigError::invalid(
            "--max-lifetime",
            "must be greater than 0",
        ));
    }
    cfg.max_concurrency = a.max_concurrency;
    cfg.account_concurrency = match a.account_concurrency.trim() {
        "none" | "unlimited" => None,
        s => Some(s.parse().map_err(|_| {
            ConfigError::invalid(
                "--account-concurrency",
                format!("{s:?}: expected a whole number or none"),
            )
        })?),
    };
    if cfg.account_concurrency == Some(0) {
        return Err(ConfigError::invalid(
            "--account-concurrency",
            "must be at least 1 (or none)",
        ));
    }
    cfg.scaling = ScalingRate::parse(&a.scaling_rate)?;
    cfg.queue_max_wait = duration_flag("--queue-max-wait", &a.queue_max_wait)?;
    cfg.retry.max_age = duration_flag("--max-event-age", &a.max_event_age)?;
    cfg.horizon = a
        .horizon
        .as_deref()
        .map(|h| duration_flag("--horizon", h))
        .transpose()?;
    cfg.seed = a.seed;
    Ok(cfg)
}
