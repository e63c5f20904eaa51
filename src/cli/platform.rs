//! The platform flags shared by every command that runs the engine, and their validation into a
//! [`PlatformConfig`], over an offering's behaviour defaults when one is given.

use std::sync::Arc;

use clap::Args;

use super::{duration_flag, seconds_flag};
use crate::engine::{
    FixedKeepAlive, InitDist, InitSpec, PlatformConfig, ProvisionedPlan, ScalingRate, Schedule,
    TargetTracking, Warmup,
};
use crate::error::ConfigError;
use crate::offering::{ColdStart, Offering};

/// How the simulated platform behaves. Without `--offering` the defaults model AWS Lambda; with
/// one, that offering's behaviour defaults apply to every flag the user does not give.
#[derive(Debug, Clone, Args)]
pub struct PlatformArgs {
    /// Memory of every function, in MB: given, it overrides the trace's memory_mb (which stays
    /// the CPU the durations were measured at, see --cpu-bound) (default: each row's memory_mb,
    /// else 128 or the offering's default size). `sweep` takes a list: 128,256,512.
    #[arg(long, value_name = "MB")]
    pub memory_mb: Option<String>,

    /// The CPU-bound fraction F of each traced duration (0 to 1): that part runs faster or slower
    /// with the vCPUs the memory size gets on the platform (Lambda: memory / 1,769 MB, up to 6),
    /// the rest does not change: d = d_ref × (F × min(c_ref, T) / min(c, T) + 1 − F), T =
    /// --cpu-threads (default: none: durations are replayed as traced, whatever the memory).
    #[arg(long, value_name = "F")]
    pub cpu_bound: Option<f64>,

    /// Threads the CPU-bound part can use, for --cpu-bound.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub cpu_threads: u32,

    /// Where the traced durations were measured, for --cpu-bound: `row` (each row's memory_mb on
    /// the simulated offering), N or Nvcpu (N vCPUs), NMB (N MB on the simulated offering) or
    /// NMB@OFFERING (N MB on another offering, e.g. 512MB@aws-lambda-x86: use it to compare
    /// offerings on one measurement).
    #[arg(long, value_name = "REF", default_value = "row")]
    pub cpu_ref: String,

    /// Pre-initialised (provisioned) instances per function, used first, never reclaimed
    /// (default: 0, or the offering's, e.g. 1 on Azure Premium). `sweep` takes a list or range:
    /// 0..=100:10.
    #[arg(long, value_name = "N")]
    pub provisioned: Option<String>,

    /// Provisioned instances by time of day (UTC of the trace's clock), as scheduled scaling
    /// actions set them, e.g. '08:00-20:00=50,else=5'. Billed for the level it holds.
    #[arg(long, value_name = "SCHEDULE", conflicts_with = "provisioned_target")]
    pub provisioned_schedule: Option<String>,

    /// Target tracking on provisioned-concurrency utilisation, like Application Auto Scaling:
    /// TARGET[@MIN..MAX], e.g. 0.7 or 0.7@2..50 (default range 1..100). Evaluated every minute;
    /// scales out after 3 periods above the target, in after 15 below.
    #[arg(long, value_name = "TARGET[@MIN..MAX]")]
    pub provisioned_target: Option<String>,

    /// Keep-alive after an instance's last request: a duration such as 600, 10m, 1h (a bare
    /// number is seconds) (default: 600 s, or the offering's). `sweep` takes a list: 5m,10m.
    #[arg(long, value_name = "DURATION")]
    pub keep_alive: Option<String>,

    /// Maximum instance lifetime, e.g. 2h (a bare number is seconds); older instances are
    /// reclaimed when idle (default: none).
    #[arg(long, value_name = "DURATION")]
    pub max_lifetime: Option<String>,

    /// How the replay starts: `cyclic` replays the end of the trace first so that the instances
    /// alive at the start are those the previous period left (right for whole days); DURATION
    /// (e.g. 30m) simulates from an empty platform but leaves the first DURATION out of every
    /// count, latency and bill; `none` counts the empty platform's start-up transient.
    #[arg(long, value_name = "none|cyclic|DURATION", default_value = "cyclic")]
    pub warmup: String,

    /// Function timeout: a longer execution is cut there, billed up to it and counted as timed
    /// out (an error for sync requests), e.g. 30s, 15m, or `none` (default: the offering's
    /// maximum; 900 s, Lambda's, without an offering). Above the offering's maximum is an error.
    #[arg(long, value_name = "DURATION|none")]
    pub timeout: Option<String>,

    /// Per-function limit on instances in use (reserved concurrency / max instances) (default:
    /// none, or the offering's max instances).
    #[arg(long, value_name = "N")]
    pub max_concurrency: Option<u32>,

    /// Account-wide limit on instances in use, shared by all functions, or `none` (default: 1000
    /// without an offering, else the offering's).
    #[arg(long, value_name = "N|none")]
    pub account_concurrency: Option<String>,

    /// Requests one instance serves at once (default: 1 as on Lambda, or the offering's, e.g. 80 on
    /// Cloud Run).
    #[arg(long, value_name = "N")]
    pub per_instance_concurrency: Option<u32>,

    /// Cold-start init time: N (ms), lognormal:P50,P99 (ms) or empirical:FILE (default: the
    /// offering's, or the measured Lambda init for --runtime/--package/--arch at the memory size).
    #[arg(long, value_name = "SPEC")]
    pub init_ms: Option<String>,

    /// Runtime whose measured Lambda init durations set the default --init-ms.
    #[arg(long, default_value = "python3.12")]
    pub runtime: String,

    /// Packaging for the default --init-ms: zip or image.
    #[arg(long, default_value = "zip")]
    pub package: String,

    /// Architecture for the default --init-ms: x86_64 or arm64 (default: x86_64, or the Lambda
    /// offering's).
    #[arg(long)]
    pub arch: Option<String>,

    /// Scaling-rate limit on new instances per function: N/DURATION or none (default: 1000/10s as
    /// on Lambda, or the offering's).
    #[arg(long, value_name = "N/DURATION")]
    pub scaling_rate: Option<String>,

    /// Longest a `queue` request waits for capacity before it is throttled, e.g. 900s, 6h.
    #[arg(long, default_value = "6h", value_name = "DURATION")]
    pub queue_max_wait: String,

    /// Maximum event age for `async` retries before dead-lettering, e.g. 6h.
    #[arg(long, default_value = "6h", value_name = "DURATION")]
    pub max_event_age: String,

    /// Window end, e.g. 3600, 90m, 2h; later arrivals are not simulated (default: the end of the
    /// minute of the last completion).
    #[arg(long, value_name = "DURATION")]
    pub horizon: Option<String>,

    /// Seed for all randomness (cold-start samples).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Parses one value of a flag that `sweep` also takes as a list.
fn one<T: std::str::FromStr>(flag: &'static str, s: &str) -> Result<T, ConfigError> {
    s.trim().parse().map_err(|_| {
        ConfigError::invalid(
            flag,
            format!("{s:?}: expected one number here (lists and ranges are for `faasplan sweep`)"),
        )
    })
}

/// Parses `TARGET[@MIN..MAX]` for `--provisioned-target`.
fn parse_target(s: &str) -> Result<TargetTracking, ConfigError> {
    let bad = || {
        ConfigError::invalid(
            "--provisioned-target",
            format!("{s:?}: expected TARGET[@MIN..MAX], e.g. 0.7 or 0.7@2..50"),
        )
    };
    let (target, range) = match s.split_once('@') {
        Some((t, r)) => (t, Some(r)),
        None => (s, None),
    };
    let target: f64 = target.trim().parse().map_err(|_| bad())?;
    let (min, max) = match range {
        Some(r) => {
            let (a, b) = r.split_once("..").ok_or_else(bad)?;
            (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            )
        }
        None => (1, 100),
    };
    Ok(TargetTracking {
        target,
        min,
        max,
        interval: 60 * crate::time::SECOND,
        scale_out_after: 3,
        scale_in_after: 15,
    })
}

/// Turns the raw flags into a validated platform configuration with the built-in (Lambda-like)
/// defaults.
pub fn platform_config(a: &PlatformArgs) -> Result<PlatformConfig, ConfigError> {
    platform_config_for(a, None)
}

/// Turns the raw flags into a validated platform configuration. A flag the user gave wins; else
/// the offering's behaviour default; else the built-in (Lambda-like) default.
pub fn platform_config_for(
    a: &PlatformArgs,
    offering: Option<&Offering>,
) -> Result<PlatformConfig, ConfigError> {
    let b = offering.map(|o| &o.behaviour);
    let memory_mb = match &a.memory_mb {
        Some(s) => one::<u16>("--memory-mb", s)?,
        None => offering.map_or(128, |o| o.memory.default_mb),
    };
    if memory_mb == 0 {
        return Err(ConfigError::invalid("--memory-mb", "must be at least 1"));
    }
    if let (Some(o), Some(_)) = (offering, &a.memory_mb) {
        check_memory_range(o, memory_mb)?;
    }
    let arch = |default: &str| a.arch.clone().unwrap_or_else(|| default.to_string());
    let init = match (&a.init_ms, b.map(|b| &b.cold_start)) {
        (Some(spec), _) => match InitSpec::parse(spec)? {
            InitSpec::Dist(d) => d,
            InitSpec::Empirical(path) => {
                InitDist::empirical(&path, crate::dist::read_samples_ms(&path)?)?
            }
        },
        (None, Some(ColdStart::Dist(d))) => d.clone(),
        (None, Some(ColdStart::LambdaTable { arch: default })) => {
            InitDist::lambda_default(&a.runtime, &a.package, &arch(default), memory_mb.into())?
        }
        (None, None) => {
            InitDist::lambda_default(&a.runtime, &a.package, &arch("x86_64"), memory_mb.into())?
        }
    };
    let mut cfg = PlatformConfig::lambda_defaults(init);
    cfg.memory_mb = memory_mb;
    if let Some(b) = b {
        cfg.per_instance_concurrency = b.per_instance_concurrency;
        cfg.provisioned = b.provisioned;
        cfg.keep_alive = Arc::new(FixedKeepAlive(b.keep_alive));
        cfg.max_concurrency = b.max_instances;
        cfg.account_concurrency = b.account_concurrency;
        cfg.scaling = b.scaling;
    }
    if let Some(n) = a.per_instance_concurrency {
        cfg.per_instance_concurrency = n;
    }
    if let Some(n) = &a.provisioned {
        cfg.provisioned = one("--provisioned", n)?;
    }
    if let Some(s) = &a.provisioned_schedule {
        cfg.provisioned_plan = Some(ProvisionedPlan::Schedule(Schedule::parse(s)?));
        if a.provisioned.is_some() {
            return Err(ConfigError::invalid(
                "--provisioned-schedule",
                "give either --provisioned or a schedule, not both",
            ));
        }
        cfg.provisioned = 0;
    }
    if let Some(s) = &a.provisioned_target {
        cfg.provisioned_plan = Some(ProvisionedPlan::Target(parse_target(s)?));
        if a.provisioned.is_some() {
            return Err(ConfigError::invalid(
                "--provisioned-target",
                "give either --provisioned or a target, not both",
            ));
        }
        cfg.provisioned = 0;
    }
    if let Some(s) = &a.keep_alive {
        cfg.keep_alive = Arc::new(FixedKeepAlive(keep_alive_flag(s)?));
    }
    cfg.max_lifetime = a
        .max_lifetime
        .as_deref()
        .map(|s| duration_flag("--max-lifetime", s))
        .transpose()?;
    if cfg.max_lifetime == Some(0) {
        return Err(ConfigError::invalid(
            "--max-lifetime",
            "must be greater than 0",
        ));
    }
    if let Some(m) = a.max_concurrency {
        cfg.max_concurrency = Some(m);
    }
    if let Some(s) = &a.account_concurrency {
        cfg.account_concurrency = match s.trim() {
            "none" | "unlimited" => None,
            s => Some(s.parse().map_err(|_| {
                ConfigError::invalid(
                    "--account-concurrency",
                    format!("{s:?}: expected a whole number or none"),
                )
            })?),
        };
    }
    if cfg.account_concurrency == Some(0) {
        return Err(ConfigError::invalid(
            "--account-concurrency",
            "must be at least 1 (or none)",
        ));
    }
    if let Some(s) = &a.scaling_rate {
        cfg.scaling = ScalingRate::parse(s)?;
    }
    cfg.queue_max_wait = duration_flag("--queue-max-wait", &a.queue_max_wait)?;
    cfg.retry.max_age = duration_flag("--max-event-age", &a.max_event_age)?;
    cfg.horizon = a
        .horizon
        .as_deref()
        .map(|h| duration_flag("--horizon", h))
        .transpose()?;
    cfg.memory_override = a.memory_mb.is_some();
    cfg.cpu = cpu_model(a, offering)?;
    cfg.warmup = Warmup::parse(&a.warmup)?;
    cfg.timeout = timeout(a.timeout.as_deref(), offering)?;
    cfg.seed = a.seed;
    Ok(cfg)
}

/// A `--memory-mb` the offering cannot configure is an error naming its range and source.
fn check_memory_range(o: &Offering, mb: u16) -> Result<(), ConfigError> {
    use crate::offering::MemoryRule;
    let (lo, hi) = match &o.memory.rule {
        MemoryRule::Function { min_mb, max_mb, .. } => (*min_mb, *max_mb),
        MemoryRule::Sizes(sizes) => (1, sizes.last().map_or(u32::MAX, |s| s.memory_mb)),
    };
    if u32::from(mb) < lo || u32::from(mb) > hi {
        return Err(ConfigError::invalid(
            "--memory-mb",
            format!(
                "{mb} MB: {} offers {lo} to {hi} MB ({})",
                o.meta.name, o.memory.provenance.source
            ),
        ));
    }
    Ok(())
}

/// The built-in platform when no offering is given: its CPU rule, from the shipped Lambda file.
fn default_offering() -> Result<Offering, ConfigError> {
    Offering::resolve("aws-lambda-x86")
        .map_err(|e| ConfigError::invalid("--offering", format!("the built-in Lambda data: {e}")))
}

/// `--cpu-bound`, `--cpu-threads` and `--cpu-ref` as the engine's CPU model.
fn cpu_model(
    a: &PlatformArgs,
    offering: Option<&Offering>,
) -> Result<Option<crate::engine::CpuModel>, ConfigError> {
    use crate::engine::{CpuModel, CpuReference};
    let Some(bound) = a.cpu_bound else {
        if a.cpu_ref.trim() != "row" {
            return Err(ConfigError::invalid(
                "--cpu-ref",
                "only means something with --cpu-bound",
            ));
        }
        return Ok(None);
    };
    if !(bound.is_finite() && (0.0..=1.0).contains(&bound)) {
        return Err(ConfigError::invalid(
            "--cpu-bound",
            format!("{bound}: must be between 0 and 1 (the CPU-bound fraction of a duration)"),
        ));
    }
    if a.cpu_threads == 0 || a.cpu_threads > 1024 {
        return Err(ConfigError::invalid(
            "--cpu-threads",
            format!("{}: must be between 1 and 1024", a.cpu_threads),
        ));
    }
    let builtin;
    let platform = match offering {
        Some(o) => o,
        None => {
            builtin = default_offering()?;
            &builtin
        }
    };
    let bad = |why: String| ConfigError::invalid("--cpu-ref", why);
    let spec = a.cpu_ref.trim();
    let reference =
        if spec == "row" {
            CpuReference::RowMemory(platform.vcpu_rule())
        } else if let Some(mb) = spec
            .split('@')
            .next()
            .and_then(|m| m.strip_suffix("MB").or_else(|| m.strip_suffix("mb")))
        {
            let mb: u16 =
                mb.trim().parse().ok().filter(|&m| m > 0).ok_or_else(|| {
                    bad(format!("{spec:?}: expected a memory size such as 512MB"))
                })?;
            let vcpu = match spec.split_once('@') {
                None => platform.vcpu(mb),
                Some((_, name)) => Offering::resolve(name.trim())
                    .map_err(|e| bad(format!("{spec:?}: {e}")))?
                    .vcpu(mb),
            };
            CpuReference::Vcpu(vcpu)
        } else {
            let n = spec.strip_suffix("vcpu").unwrap_or(spec);
            let v: f64 = n.trim().parse().map_err(|_| {
                bad(format!(
                    "{spec:?}: expected row, N or Nvcpu, NMB, or NMB@OFFERING"
                ))
            })?;
            if !(v.is_finite() && v > 0.0 && v <= 1024.0) {
                return Err(bad(format!("{spec:?}: vCPUs must be in (0, 1024]")));
            }
            CpuReference::Vcpu(v)
        };
    Ok(Some(CpuModel {
        bound,
        threads: f64::from(a.cpu_threads),
        platform: platform.vcpu_rule(),
        reference,
    }))
}

/// `--keep-alive`: one duration (a bare number is seconds).
pub(crate) fn keep_alive_flag(s: &str) -> Result<crate::time::Micros, ConfigError> {
    if s.contains(',') || s.contains("..") {
        return Err(ConfigError::invalid(
            "--keep-alive",
            format!("{s:?}: expected one duration here (lists are for `faasplan sweep`)"),
        ));
    }
    let us = duration_flag("--keep-alive", s)?;
    seconds_flag("--keep-alive", us as f64 / 1e6)?;
    Ok(us)
}

/// The function timeout: `--timeout`, else the offering's maximum, else Lambda's 900 s. A value
/// above the offering's maximum cannot be configured there.
fn timeout(
    flag: Option<&str>,
    offering: Option<&Offering>,
) -> Result<Option<crate::time::Micros>, ConfigError> {
    let limits = offering.map(|o| &o.timeout);
    let given = match flag.map(str::trim) {
        None => {
            return Ok(match limits {
                Some(t) => t.planning_default(),
                None => Some(900 * crate::time::SECOND),
            });
        }
        Some("none") => None,
        Some(s) => match duration_flag("--timeout", s)? {
            0 => return Err(ConfigError::invalid("--timeout", "must be greater than 0")),
            us => Some(us),
        },
    };
    if let (Some(o), Some(max)) = (offering, limits.and_then(|t| t.max)) {
        let over = match given {
            None => true,
            Some(us) => us > max,
        };
        if over {
            return Err(ConfigError::invalid(
                "--timeout",
                format!(
                    "{}: {} allows at most {} ({})",
                    flag.unwrap_or_default().trim(),
                    o.meta.name,
                    crate::time::format_duration(max),
                    o.timeout.provenance.source
                ),
            ));
        }
    }
    Ok(given)
}
