//! An offering's behaviour defaults plus the settings a caller overrides, merged into a
//! validated-shape [`PlatformConfig`]. A setting given here wins; else the offering's behaviour
//! default; else the built-in (Lambda-like) one. Errors name the field (`memory_mb`,
//! `cpu.reference`), never a flag: the binary maps fields to its flags.

use std::sync::Arc;

use crate::engine::{
    CpuModel, CpuReference, FixedKeepAlive, InitDist, KeepAliveSpec, MeasuredCurve, PlatformConfig,
    ProvisionedPlan, ScalingRate, Warmup,
};
use crate::error::ConfigError;
use crate::offering::{ColdStart, Offering};
use crate::time::{Micros, SECOND};
use crate::warnings::{Origin, Origins};

/// Where the traced durations were measured, for a CPU-bound model.
#[derive(Debug, Clone, PartialEq)]
pub enum CpuRef {
    /// Each row's memory_mb on the simulated offering.
    Row,
    /// A number of vCPUs, in (0, 1024].
    Vcpu(f64),
    /// A memory size, MB, on the simulated offering or on the named one.
    Memory { mb: u16, offering: Option<String> },
}

/// Durations that scale with CPU: the CPU-bound fraction, the threads it can use and where the
/// durations were measured.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuOverride {
    /// The CPU-bound fraction of each duration, in [0, 1].
    pub bound: f64,
    /// Threads the CPU-bound part can use, 1..=1024.
    pub threads: u32,
    pub reference: CpuRef,
    /// Measured durations by memory (AWS Lambda Power Tuning); when set they replace the
    /// CPU-bound fraction and threads.
    pub measured: Option<crate::trace::power_tuning::PowerTuning>,
    /// Whether the measured curve may be used beyond its sizes (held at the nearest).
    pub extrapolate: bool,
}

/// A keep-alive policy as the caller chooses it: a spec, or `platform`, the policy the
/// offering's file names (`[keep_alive_policy]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyChoice {
    Spec(KeepAliveSpec),
    Platform,
}

impl PolicyChoice {
    /// A spec (`KeepAliveSpec::parse`) or `platform`; errors name `keep_alive_policy`.
    pub fn parse(s: &str) -> Result<PolicyChoice, ConfigError> {
        if s.trim() == "platform" {
            Ok(PolicyChoice::Platform)
        } else {
            KeepAliveSpec::parse(s).map(PolicyChoice::Spec)
        }
    }

    /// As given back: `fixed:600s`, `hybrid:4h:5:99`, `platform`.
    pub fn label(&self) -> String {
        match self {
            PolicyChoice::Spec(s) => s.spec(),
            PolicyChoice::Platform => "platform".to_string(),
        }
    }
}

/// The platform settings a caller gives over an offering's behaviour defaults. `None` keeps the
/// offering's value (or the built-in one without an offering). Built once; a sweep changes the
/// swept fields per grid point without re-parsing anything.
#[derive(Debug, Clone)]
pub struct PlatformOverrides {
    /// Memory of every function, MB; also makes every row run at it (`memory_override`).
    pub memory_mb: Option<u16>,
    pub per_instance_concurrency: Option<u32>,
    /// A fixed provisioned level per function.
    pub provisioned: Option<u32>,
    /// A provisioned level that changes over time (replaces the offering's fixed level).
    pub provisioned_plan: Option<ProvisionedPlan>,
    /// Microseconds.
    pub keep_alive: Option<Micros>,
    /// A keep-alive policy (instead of `keep_alive`, which is `fixed`'s shorthand).
    pub keep_alive_policy: Option<PolicyChoice>,
    /// Microseconds.
    pub max_lifetime: Option<Micros>,
    pub max_concurrency: Option<u32>,
    /// `Some(None)`: no account limit.
    pub account_concurrency: Option<Option<u32>>,
    /// `Some(None)`: no scaling-rate limit.
    pub scaling: Option<Option<ScalingRate>>,
    /// The init-time distribution; else the offering's, or the measured Lambda init for
    /// `runtime`/`package`/`arch` at the memory size.
    pub init: Option<InitDist>,
    pub runtime: String,
    pub package: String,
    /// Default: x86_64, or the Lambda offering's.
    pub arch: Option<String>,
    /// `None`: durations are replayed as traced.
    pub cpu: Option<CpuOverride>,
    /// `Some(None)`: no timeout. Default: the offering's maximum, else 900 s.
    pub timeout: Option<Option<Micros>>,
    /// Microseconds.
    pub queue_max_wait: Micros,
    /// Microseconds.
    pub max_event_age: Micros,
    /// Microseconds.
    pub horizon: Option<Micros>,
    pub warmup: Warmup,
    pub seed: u64,
    /// Settings for some functions only, by name or glob (`*`, `?`), in the order given: the
    /// fields an entry sets replace the run's for its functions (see
    /// [`PlatformConfig::per_function`] for which entry a function gets).
    pub per_function: Vec<FunctionOverride>,
}

/// One function's (or one glob's) own settings; `None` keeps the run's.
#[derive(Debug, Clone, Default)]
pub struct FunctionOverride {
    /// A function name, or a glob with `*` and `?`.
    pub pattern: String,
    pub memory_mb: Option<u16>,
    pub provisioned: Option<u32>,
    pub max_concurrency: Option<u32>,
    /// `Some(None)`: no timeout.
    pub timeout: Option<Option<Micros>>,
    /// The function's own CPU profile (its CPU-bound fraction; the rest as the run's).
    pub cpu: Option<CpuOverride>,
    /// The function's own init-time distribution.
    pub init: Option<InitDist>,
}

impl Default for PlatformOverrides {
    /// Nothing overridden; the command line's defaults for the rest (python3.12 zip init times,
    /// 6 h queue wait and event age, cyclic warm-up, seed 0).
    fn default() -> Self {
        PlatformOverrides {
            memory_mb: None,
            per_instance_concurrency: None,
            provisioned: None,
            provisioned_plan: None,
            keep_alive: None,
            keep_alive_policy: None,
            max_lifetime: None,
            max_concurrency: None,
            account_concurrency: None,
            scaling: None,
            init: None,
            runtime: "python3.12".to_string(),
            package: "zip".to_string(),
            arch: None,
            cpu: None,
            timeout: None,
            queue_max_wait: 6 * 3600 * SECOND,
            max_event_age: 6 * 3600 * SECOND,
            horizon: None,
            warmup: Warmup::Cyclic,
            seed: 0,
            per_function: Vec::new(),
        }
    }
}

/// Merges `o` over `offering`'s behaviour defaults (or the built-in Lambda-like ones) and checks
/// the settings that do not depend on a trace ([`PlatformConfig::validate`] with one function;
/// [`PlatformConfig::validate_for`] checks the rest before a run).
pub fn platform_config(
    o: &PlatformOverrides,
    offering: Option<&Offering>,
) -> Result<PlatformConfig, ConfigError> {
    let b = offering.map(|o| &o.behaviour);
    let memory_mb = match o.memory_mb {
        Some(mb) => mb,
        None => offering.map_or(128, |o| o.memory.default_mb),
    };
    if memory_mb == 0 {
        return Err(ConfigError::field("memory_mb", "must be at least 1"));
    }
    if let (Some(off), Some(mb)) = (offering, o.memory_mb) {
        check_memory_range(off, mb)?;
    }
    let arch = |default: &str| o.arch.clone().unwrap_or_else(|| default.to_string());
    let init = match (&o.init, b.map(|b| &b.cold_start)) {
        (Some(d), _) => d.clone(),
        (None, Some(ColdStart::Dist(d))) => d.clone(),
        (None, Some(ColdStart::LambdaTable { arch: default })) => {
            lambda_init(&o.runtime, &o.package, &arch(default), memory_mb.into())?
        }
        (None, None) => lambda_init(&o.runtime, &o.package, &arch("x86_64"), memory_mb.into())?,
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
    if let Some(n) = o.per_instance_concurrency {
        cfg.per_instance_concurrency = n;
    }
    if let Some(n) = o.provisioned {
        cfg.provisioned = n;
    }
    if let Some(plan) = &o.provisioned_plan {
        if o.provisioned.is_some() {
            return Err(ConfigError::field(
                "provisioned_plan",
                "give either a fixed provisioned level or a schedule/target, not both",
            ));
        }
        cfg.provisioned_plan = Some(plan.clone());
        cfg.provisioned = 0;
    }
    if let Some(k) = o.keep_alive {
        cfg.keep_alive = Arc::new(FixedKeepAlive(k));
    }
    if let Some(choice) = o.keep_alive_policy {
        if o.keep_alive.is_some() {
            return Err(ConfigError::field(
                "keep_alive_policy",
                "give either a keep-alive or a keep-alive policy, not both",
            ));
        }
        let spec = match choice {
            PolicyChoice::Spec(s) => s,
            PolicyChoice::Platform => offering
                .and_then(|o| o.keep_alive_policy.as_ref())
                .map(|p| p.spec)
                .ok_or_else(|| {
                    ConfigError::field(
                        "keep_alive_policy",
                        "platform: the offering names no keep-alive policy (give an offering \
                         whose file has [keep_alive_policy], or a policy)",
                    )
                })?,
        };
        cfg.keep_alive = spec.policy();
    }
    // A policy may bring a maximum lifetime (lambda-observed); an explicit one wins.
    cfg.max_lifetime = o.max_lifetime.or(cfg.keep_alive.max_lifetime());
    if let Some(m) = o.max_concurrency {
        cfg.max_concurrency = Some(m);
    }
    if let Some(a) = o.account_concurrency {
        cfg.account_concurrency = a;
    }
    if let Some(s) = o.scaling {
        cfg.scaling = s;
    }
    cfg.queue_max_wait = o.queue_max_wait;
    cfg.retry.max_age = o.max_event_age;
    cfg.horizon = o.horizon;
    cfg.memory_override = o.memory_mb.is_some();
    cfg.cpu = o.cpu.as_ref().map(|c| cpu_model(c, offering)).transpose()?;
    cfg.warmup = o.warmup;
    cfg.timeout = timeout(o.timeout, offering)?;
    // The run records what the offering's bill needs (its rounding rules).
    cfg.usage = offering.map(Offering::usage_spec).unwrap_or_default();
    cfg.seed = o.seed;
    cfg.validate(1)?;
    // Each function override is the whole configuration with its fields changed, built the same
    // way (its memory picks its init times and CPU; its level must fit its own limit).
    for f in &o.per_function {
        if f.pattern.trim().is_empty() {
            return Err(ConfigError::field(
                "per_function",
                "a function name is empty",
            ));
        }
        let mut own = o.clone();
        own.per_function = Vec::new();
        if let Some(m) = f.memory_mb {
            own.memory_mb = Some(m);
        }
        if let Some(p) = f.provisioned {
            own.provisioned = Some(p);
            own.provisioned_plan = None;
        }
        if let Some(m) = f.max_concurrency {
            own.max_concurrency = Some(m);
        }
        if let Some(t) = f.timeout {
            own.timeout = Some(t);
        }
        if let Some(c) = &f.cpu {
            own.cpu = Some(c.clone());
        }
        if let Some(i) = &f.init {
            own.init = Some(i.clone());
        }
        let c = platform_config(&own, offering)
            .map_err(|e| ConfigError::field("per_function", format!("{}: {}", f.pattern, e)))?;
        cfg.per_function.push((f.pattern.clone(), Arc::new(c)));
    }
    Ok(cfg)
}

/// Where each setting that can decide an answer came from (the caller, the offering's default,
/// or the built-in one), for the warnings. Mirrors the precedence of [`platform_config`].
pub fn origins(o: &PlatformOverrides, offering: Option<&Offering>) -> Origins {
    let from = |given: bool, offering_has: bool| {
        if given {
            Origin::Flag
        } else {
            match offering {
                Some(off) if offering_has => Origin::Offering(off.meta.name.clone()),
                _ => Origin::BuiltIn,
            }
        }
    };
    let b = offering.map(|o| &o.behaviour);
    Origins {
        account_concurrency: from(
            o.account_concurrency.is_some(),
            b.is_some_and(|b| b.account_concurrency.is_some()),
        ),
        max_concurrency: from(
            o.max_concurrency.is_some(),
            b.is_some_and(|b| b.max_instances.is_some()),
        ),
        scaling_rate: from(o.scaling.is_some(), b.is_some_and(|b| b.scaling.is_some())),
        init_is_lambda_table: o.init.is_none()
            && b.is_none_or(|b| matches!(b.cold_start, ColdStart::LambdaTable { .. })),
    }
}

/// A memory size the offering cannot configure is an error naming its range and source.
fn check_memory_range(o: &Offering, mb: u16) -> Result<(), ConfigError> {
    use crate::offering::MemoryRule;
    let (lo, hi) = match &o.memory.rule {
        MemoryRule::Function { min_mb, max_mb, .. } => (*min_mb, *max_mb),
        MemoryRule::Sizes(sizes) => (1, sizes.last().map_or(u32::MAX, |s| s.memory_mb)),
    };
    if u32::from(mb) < lo || u32::from(mb) > hi {
        return Err(ConfigError::field(
            "memory_mb",
            format!(
                "{mb} MB: {} offers {lo} to {hi} MB ({})",
                o.meta.name, o.memory.provenance.source
            ),
        ));
    }
    Ok(())
}

/// The engine's CPU model for `c` on `offering` (the shipped Lambda file without one).
fn cpu_model(c: &CpuOverride, offering: Option<&Offering>) -> Result<CpuModel, ConfigError> {
    if !(c.bound.is_finite() && (0.0..=1.0).contains(&c.bound)) {
        return Err(ConfigError::field(
            "cpu.bound",
            format!(
                "{}: must be between 0 and 1 (the CPU-bound fraction of a duration)",
                c.bound
            ),
        ));
    }
    if c.threads == 0 || c.threads > 1024 {
        return Err(ConfigError::field(
            "cpu.threads",
            format!("{}: must be between 1 and 1024", c.threads),
        ));
    }
    let builtin;
    let platform = match offering {
        Some(o) => o,
        None => {
            builtin = Offering::resolve("aws-lambda-x86").map_err(|e| {
                ConfigError::field("offering", format!("the built-in Lambda data: {e}"))
            })?;
            &builtin
        }
    };
    let reference = match &c.reference {
        CpuRef::Row => CpuReference::RowMemory(platform.vcpu_rule()),
        CpuRef::Vcpu(v) => {
            if !(v.is_finite() && *v > 0.0 && *v <= 1024.0) {
                return Err(ConfigError::field(
                    "cpu.reference",
                    format!("{v}: vCPUs must be in (0, 1024]"),
                ));
            }
            CpuReference::Vcpu(*v)
        }
        CpuRef::Memory { mb, offering: None } => CpuReference::Vcpu(platform.vcpu(*mb)),
        CpuRef::Memory {
            mb,
            offering: Some(name),
        } => CpuReference::Vcpu(
            Offering::resolve(name.trim())
                .map_err(|e| ConfigError::field("cpu.reference", format!("{mb}MB@{name}: {e}")))?
                .vcpu(*mb),
        ),
    };
    let measured = match &c.measured {
        None => None,
        Some(pt) => {
            // Power Tuning runs on Lambda: its sizes are Lambda memory sizes.
            let lambda = Offering::resolve("aws-lambda-x86").map_err(|e| {
                ConfigError::field("offering", format!("the built-in Lambda data: {e}"))
            })?;
            let mut points: Vec<(f64, f64)> = Vec::with_capacity(pt.stats.len());
            for s in &pt.stats {
                let mb = u16::try_from(s.memory_mb).unwrap_or(u16::MAX);
                let v = lambda.vcpu(mb);
                if points.last().is_some_and(|p| p.0 >= v) {
                    return Err(ConfigError::field(
                        crate::trace::power_tuning::FIELD,
                        format!(
                            "{}: value = {} MB gets no more CPU on Lambda than the size below \
                             it (6 vCPUs at most)",
                            pt.source, s.memory_mb
                        ),
                    ));
                }
                points.push((v, s.average_duration_ms));
            }
            Some(MeasuredCurve {
                source: pt.source.clone(),
                points,
                sizes_mb: pt.stats.iter().map(|s| s.memory_mb).collect(),
                extrapolate: c.extrapolate,
            })
        }
    };
    Ok(CpuModel {
        bound: c.bound,
        threads: f64::from(c.threads),
        platform: platform.vcpu_rule(),
        reference,
        measured,
    })
}

/// The function timeout: the given one, else the offering's maximum, else Lambda's 900 s. A
/// value above the offering's maximum cannot be configured there.
fn timeout(
    given: Option<Option<Micros>>,
    offering: Option<&Offering>,
) -> Result<Option<Micros>, ConfigError> {
    let limits = offering.map(|o| &o.timeout);
    let Some(given) = given else {
        return Ok(match limits {
            Some(t) => t.planning_default(),
            None => Some(900 * SECOND),
        });
    };
    if given == Some(0) {
        return Err(ConfigError::field("timeout", "must be greater than 0"));
    }
    if let (Some(o), Some(max)) = (offering, limits.and_then(|t| t.max)) {
        let over = match given {
            None => true,
            Some(us) => us > max,
        };
        if over {
            let shown = given.map_or("none".to_string(), crate::time::format_duration);
            return Err(ConfigError::field(
                "timeout",
                format!(
                    "{shown}: {} allows at most {} ({})",
                    o.meta.name,
                    crate::time::format_duration(max),
                    o.timeout.provenance.source
                ),
            ));
        }
    }
    Ok(given)
}

/// The measured Lambda init time for `runtime`, `package` and `arch`; when the table has no such
/// row, the error names the part at fault (`init.runtime`, `init.package` or `init.arch`, which
/// the binary maps to `--runtime`, `--package`, `--arch`) and the values the table knows for it.
fn lambda_init(
    runtime: &str,
    package: &str,
    arch: &str,
    memory_mb: u32,
) -> Result<InitDist, ConfigError> {
    InitDist::lambda_default(runtime, package, arch, memory_mb).map_err(|e| {
        let rows: Vec<Vec<&str>> = crate::engine::coldstart::LAMBDA_INIT_TABLE
            .lines()
            .skip(1)
            .map(|l| l.split(',').take(3).collect::<Vec<_>>())
            .filter(|f| f.len() == 3)
            .collect();
        let known = |keep: &dyn Fn(&[&str]) -> bool, col: usize| {
            let set: std::collections::BTreeSet<&str> =
                rows.iter().filter(|f| keep(f)).map(|f| f[col]).collect();
            set.into_iter().collect::<Vec<_>>().join(", ")
        };
        if !rows.iter().any(|f| f[0] == runtime) {
            return e;
        }
        if !rows.iter().any(|f| f[0] == runtime && f[1] == package) {
            return ConfigError::field(
                "init.package",
                format!(
                    "{package:?}: no measured init durations for runtime {runtime:?} with this \
                     package; known: {}",
                    known(&|f| f[0] == runtime, 1)
                ),
            );
        }
        ConfigError::field(
            "init.arch",
            format!(
                "{arch:?}: no measured init durations for runtime {runtime:?}, package {package:?} \
                 on this architecture; known: {}",
                known(&|f| f[0] == runtime && f[1] == package, 2)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::TargetTracking;

    #[test]
    fn a_zero_target_tracking_interval_is_an_error_naming_the_field() {
        let o = PlatformOverrides {
            provisioned_plan: Some(ProvisionedPlan::Target(TargetTracking {
                target: 0.7,
                min: 1,
                max: 10,
                interval: 0,
                scale_out_after: 3,
                scale_in_after: 15,
            })),
            ..PlatformOverrides::default()
        };
        let e = platform_config(&o, None).unwrap_err();
        assert_eq!(e.field_name(), Some("provisioned_plan.target.interval"));
        assert!(e.to_string().contains("must be > 0, got 0"), "{e}");
        assert!(!e.to_string().contains("--"), "names no flag: {e}");
    }

    #[test]
    fn an_offering_fills_in_what_is_not_overridden() {
        let run = Offering::resolve("gcp-cloud-run-request").unwrap();
        let cfg = platform_config(&PlatformOverrides::default(), Some(&run)).unwrap();
        assert_eq!(cfg.per_instance_concurrency, 80);
        let given = PlatformOverrides {
            per_instance_concurrency: Some(1),
            account_concurrency: Some(Some(10)),
            ..PlatformOverrides::default()
        };
        let cfg = platform_config(&given, Some(&run)).unwrap();
        assert_eq!(cfg.per_instance_concurrency, 1);
        assert_eq!(cfg.account_concurrency, Some(10));
    }

    #[test]
    fn a_memory_size_the_offering_cannot_configure_names_the_field() {
        let lambda = Offering::resolve("aws-lambda-x86").unwrap();
        let o = PlatformOverrides {
            memory_mb: Some(64),
            ..PlatformOverrides::default()
        };
        let e = platform_config(&o, Some(&lambda)).unwrap_err();
        assert_eq!(e.field_name(), Some("memory_mb"), "{e}");
    }
}
