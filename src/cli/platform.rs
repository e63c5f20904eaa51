//! The platform flags shared by every command that runs the engine: each parsed once by a clap
//! value parser into a typed value, then turned into the library's [`PlatformOverrides`] (the
//! merge over an offering's behaviour defaults is `faasplan::plan::platform_config`). Library
//! errors name fields; [`FLAG_OF_FIELD`] maps them back to these flags.

use clap::Args;
use faasplan::trace::Trigger;

use faasplan::engine::{
    InitDist, InitSpec, PlatformConfig, ProvisionedPlan, ScalingRate, Schedule, TargetTracking,
    Warmup,
};
use faasplan::error::ConfigError;
use faasplan::offering::Offering;
use faasplan::plan::platform::FunctionOverride;
use faasplan::plan::{CpuOverride, CpuRef, PlatformOverrides, PolicyChoice};
use faasplan::time::{Micros, parse_duration};

/// How the simulated platform behaves. Without `--offering` the defaults model AWS Lambda; with
/// one, that offering's behaviour defaults apply to every flag the user does not give.
#[derive(Debug, Clone, Args)]
pub struct PlatformArgs {
    /// Memory of every function, in MB: given, it overrides the trace's memory_mb (which stays
    /// the CPU the durations were measured at, see --cpu-bound) (default: each row's memory_mb,
    /// else 128 or the offering's default size). `sweep` takes a list: 128,256,512. NAME=MB
    /// items set it for some functions only: api=1024,'img-*'=2048.
    #[arg(long, value_name = "MB", value_parser = parse_list::<u32>)]
    pub memory_mb: Option<List<u32>>,

    /// The CPU-bound fraction F of each traced duration (0 to 1): that part runs faster or slower
    /// with the vCPUs the memory size gets on the platform (Lambda: memory / 1,769 MB, up to 6),
    /// the rest does not change: d = d_ref × (F × min(c_ref, T) / min(c, T) + 1 − F), T =
    /// --cpu-threads (default: none: durations are replayed as traced, whatever the memory).
    /// NAME=F items set it for some functions only (`0.3,resize=0.9`).
    #[arg(long, value_name = "F", value_parser = parse_fractions)]
    pub cpu_bound: Option<Fractions>,

    /// Threads the CPU-bound part can use, for --cpu-bound.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub cpu_threads: u32,

    /// Where the traced durations were measured, for --cpu-bound: `row` (each row's memory_mb on
    /// the simulated offering; a row without one, the size it runs at, which a memory sweep or
    /// a comparison of offerings on different CPUs refuses), N or Nvcpu (N vCPUs), NMB (N MB on the simulated offering) or
    /// NMB@OFFERING (N MB on another offering, e.g. 512MB@aws-lambda-x86: use it to compare
    /// offerings on one measurement).
    #[arg(long, value_name = "REF", default_value = "row", value_parser = parse_cpu_ref)]
    pub cpu_ref: CpuRef,

    /// The output of AWS Lambda Power Tuning (JSON, run with includeOutputResults): its average
    /// duration at each memory size replaces --cpu-bound for every function, interpolated
    /// linearly in 1/vCPU between the measured sizes, relative to where the trace was measured
    /// (--cpu-ref). Sizes beyond the measured ones are refused (see
    /// --power-tuning-extrapolate).
    #[arg(long, value_name = "FILE", conflicts_with = "cpu_bound")]
    pub power_tuning: Option<std::path::PathBuf>,

    /// With --power-tuning: allow sizes beyond the measured ones, holding the nearest measured
    /// duration there (default: refused, exit 2).
    #[arg(long, requires = "power_tuning")]
    pub power_tuning_extrapolate: bool,

    /// Pre-initialised (provisioned) instances per function, used first, never reclaimed
    /// (default: 0, or the offering's, e.g. 1 on Azure Premium). `sweep` takes a list or range:
    /// 0..=100:10. NAME=N items set it for some functions only: api=20,webhook=0 (a name or a
    /// glob with * and ?; an unknown name, or a function two globs match, is an error).
    #[arg(long, value_name = "N", value_parser = parse_list::<u32>)]
    pub provisioned: Option<List<u32>>,

    /// Provisioned instances by time of day (UTC of the trace's clock), as scheduled scaling
    /// actions set them, e.g. '08:00-20:00=50,else=5'. Billed for the level it holds.
    #[arg(long, value_name = "SCHEDULE", conflicts_with = "provisioned_target", value_parser = |s: &str| lib(Schedule::parse(s)))]
    pub provisioned_schedule: Option<Schedule>,

    /// Target tracking on provisioned-concurrency utilisation, like Application Auto Scaling:
    /// TARGET[@MIN..MAX], e.g. 0.7 or 0.7@2..50 (default range 1..100). Evaluated every minute;
    /// scales out after 3 periods above the target, in after 15 below.
    #[arg(long, value_name = "TARGET[@MIN..MAX]", value_parser = |s: &str| lib(TargetTracking::parse(s)))]
    pub provisioned_target: Option<TargetTracking>,

    /// Keep-alive after an instance's last request: a duration such as 600, 10m, 1h (a bare
    /// number is seconds) (default: 600 s, or the offering's). `sweep` takes a list: 5m,10m.
    #[arg(long, value_name = "DURATION", value_parser = parse_durations)]
    pub keep_alive: Option<List<Micros>>,

    /// Keep-alive and pre-warm policy, per application: fixed:DURATION (what --keep-alive sets),
    /// none (never unload), hybrid[:RANGE[:HEAD:TAIL]] (the "Serverless in the Wild" histogram:
    /// default range 4h, head and tail percentiles 5 and 99), lambda-observed (Lambda's measured
    /// idle lifetime, pricing/keep-alive/), or platform (the one the --offering file names)
    /// (default: fixed at --keep-alive). `sweep` takes a comma-separated list.
    #[arg(long, value_name = "SPEC", conflicts_with = "keep_alive", value_parser = parse_policies)]
    pub keep_alive_policy: Option<List<PolicyChoice>>,

    /// Maximum instance lifetime, e.g. 2h (a bare number is seconds); older instances are
    /// reclaimed when idle (default: none).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub max_lifetime: Option<Micros>,

    /// How the replay starts: `cyclic` replays the end of the trace first so that the instances
    /// alive at the start are those the previous period left (right for whole days); DURATION
    /// (e.g. 30m) simulates from an empty platform but leaves the first DURATION out of every
    /// count, latency and bill; `none` counts the empty platform's start-up transient.
    #[arg(long, value_name = "none|cyclic|DURATION", default_value = "cyclic", value_parser = |s: &str| lib(Warmup::parse(s)))]
    pub warmup: Warmup,

    /// Function timeout: a longer execution is cut there, billed up to it and counted as timed
    /// out (an error for sync requests), e.g. 30s, 15m, or `none` (default: the offering's
    /// maximum; 900 s, Lambda's, without an offering). Above the offering's maximum is an error.
    /// NAME=DURATION items set it for some functions only (`30s,batch=15m`, `'img-*'=2m`).
    #[arg(long, value_name = "DURATION|none", value_parser = parse_timeouts)]
    pub timeout: Option<Timeouts>,

    /// Per-function limit on instances in use (reserved concurrency / max instances) (default:
    /// none, or the offering's max instances). NAME=N items set it for some functions only.
    #[arg(long, value_name = "N", value_parser = parse_list::<u32>)]
    pub max_concurrency: Option<List<u32>>,

    /// Account-wide limit on instances in use, shared by all functions, or `none` (default: 1000
    /// without an offering, else the offering's).
    #[arg(long, value_name = "N|none", value_parser = parse_optional_count)]
    pub account_concurrency: Option<Unlimited<u32>>,

    /// Requests one instance serves at once (default: 1 as on Lambda, or the offering's, e.g. 80 on
    /// Cloud Run).
    #[arg(long, value_name = "N")]
    pub per_instance_concurrency: Option<u32>,

    /// Cold-start init time: N (ms), lognormal:P50,P99 (ms) or empirical:FILE (default: the
    /// offering's, or the measured Lambda init for --runtime/--package/--arch at the memory size).
    #[arg(long, value_name = "SPEC", value_parser = |s: &str| lib(InitSpec::parse(s)))]
    pub init_ms: Option<InitSpec>,

    /// A function's own trigger, NAME=sync|async|queue (a name or a glob), in place of its rows'
    /// (e.g. a function the trace logs as sync that runs behind a queue); repeat the flag for
    /// more functions.
    #[arg(long, value_name = "NAME=TRIGGER", value_parser = parse_named_trigger)]
    pub trigger_for: Vec<(String, Trigger)>,

    /// A function's own init time, NAME=SPEC (a name or a glob; SPEC as for --init-ms); repeat
    /// the flag for more functions: `--init-ms-for api=lognormal:300,900 --init-ms-for 'img-*'=800`.
    #[arg(long, value_name = "NAME=SPEC", value_parser = parse_named_init)]
    pub init_ms_for: Vec<(String, InitSpec)>,

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
    #[arg(long, value_name = "N/DURATION", value_parser = |s: &str| lib(ScalingRate::parse(s)).map(Unlimited))]
    pub scaling_rate: Option<Unlimited<ScalingRate>>,

    /// Longest a `queue` request waits for capacity before it is throttled, e.g. 900s, 6h.
    #[arg(long, default_value = "6h", value_name = "DURATION", value_parser = parse_duration_arg)]
    pub queue_max_wait: Micros,

    /// Maximum event age for `async` retries before dead-lettering, e.g. 6h.
    #[arg(long, default_value = "6h", value_name = "DURATION", value_parser = parse_duration_arg)]
    pub max_event_age: Micros,

    /// Window end, e.g. 3600, 90m, 2h; later arrivals are not simulated (default: the end of the
    /// minute of the last completion).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub horizon: Option<Micros>,

    /// Seed for all randomness (cold-start samples).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The flag that sets each library field ([`ConfigError::for_flags`] maps field errors with it).
pub const FLAG_OF_FIELD: &[(&str, &str)] = &[
    ("memory_mb", "--memory-mb"),
    ("per_instance_concurrency", "--per-instance-concurrency"),
    ("provisioned", "--provisioned"),
    ("provisioned_plan", "--provisioned"),
    ("provisioned_plan.schedule", "--provisioned-schedule"),
    ("provisioned_plan.target", "--provisioned-target"),
    ("keep_alive", "--keep-alive"),
    ("keep_alive_policy", "--keep-alive-policy"),
    ("max_lifetime", "--max-lifetime"),
    ("max_concurrency", "--max-concurrency"),
    ("account_concurrency", "--account-concurrency"),
    ("scaling", "--scaling-rate"),
    ("init", "--init-ms"),
    ("init.runtime", "--runtime"),
    ("init.package", "--package"),
    ("init.arch", "--arch"),
    ("queue_max_wait", "--queue-max-wait"),
    ("retry", "--max-event-age"),
    ("horizon", "--horizon"),
    ("warmup", "--warmup"),
    ("cpu.bound", "--cpu-bound"),
    ("cpu.threads", "--cpu-threads"),
    ("cpu.reference", "--cpu-ref"),
    ("cpu.measured", "--power-tuning"),
    ("timeout", "--timeout"),
    (
        "per_function",
        "NAME=VALUE (--provisioned, --memory-mb, --max-concurrency, --timeout, --cpu-bound, --init-ms-for)",
    ),
    ("offering", "--offering"),
    ("slo", "--slo"),
];

/// A library error, with its field renamed to the flag that sets it.
pub fn flag_error(e: ConfigError) -> ConfigError {
    // A measured curve asked beyond its sizes: name the flag that allows it.
    let beyond = matches!(&e, ConfigError::Field { field, .. } if *field == MEASURED_RANGE);
    match e.for_flags(FLAG_OF_FIELD) {
        ConfigError::Invalid { flag, reason } if beyond => ConfigError::Invalid {
            flag,
            reason: format!("{reason}: --power-tuning-extrapolate does"),
        },
        e => e,
    }
}

/// The field of a measured curve's range error (`PlatformConfig::validate_for`).
const MEASURED_RANGE: &str = "cpu.measured.range";

/// `cfg` checked against the trace it runs on, with errors named by flag.
pub fn validate_for(
    cfg: &PlatformConfig,
    trace: &(impl faasplan::trace::facts::TraceFacts + ?Sized),
) -> Result<faasplan::engine::ValidConfig, ConfigError> {
    cfg.validate_for(trace).map_err(flag_error)
}

/// A library parse error as a clap value-parser message (clap names the flag itself).
/// `--init-ms`: a distribution, or `empirical:FILE`, whose samples are read here (the engine
/// does no I/O).
/// `--trigger-for NAME=TRIGGER`.
fn parse_named_trigger(s: &str) -> Result<(String, Trigger), String> {
    let (name, t) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected NAME=TRIGGER, e.g. worker=queue"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("{s:?}: the NAME=TRIGGER item has no function name"));
    }
    let trigger = Trigger::parse(t)
        .filter(|_| !t.trim().is_empty())
        .ok_or_else(|| format!("{name}={t}: the trigger must be sync, async or queue"))?;
    Ok((name.to_string(), trigger))
}

/// The trigger each function of `trace` gets from `--trigger-for` (an exact name wins over
/// globs; a function two globs match, or an item that matches nothing, is an error).
pub fn triggers_for(
    items: &[(String, Trigger)],
    trace: &(impl faasplan::trace::facts::TraceFacts + ?Sized),
) -> Result<Vec<Option<Trigger>>, ConfigError> {
    let names: Vec<&str> = trace.functions().iter().map(|f| f.name.as_str()).collect();
    let is_glob = |p: &str| p.contains(['*', '?']);
    let mut out = vec![None; names.len()];
    for (pattern, _) in items {
        if !names
            .iter()
            .any(|n| faasplan::engine::glob_match(pattern, n))
        {
            return Err(ConfigError::invalid(
                "--trigger-for",
                format!("{pattern:?} matches no function of the trace"),
            ));
        }
    }
    for (f, name) in names.iter().enumerate() {
        if let Some((_, t)) = items.iter().rev().find(|(p, _)| p == name) {
            out[f] = Some(*t);
            continue;
        }
        let globs: Vec<&(String, Trigger)> = items
            .iter()
            .filter(|(p, _)| is_glob(p) && faasplan::engine::glob_match(p, name))
            .collect();
        match globs.as_slice() {
            [] => {}
            [(_, t)] => out[f] = Some(*t),
            [a, b, ..] => {
                return Err(ConfigError::invalid(
                    "--trigger-for",
                    format!("{name:?} matches both {:?} and {:?}", a.0, b.0),
                ));
            }
        }
    }
    Ok(out)
}

/// `--init-ms-for NAME=SPEC`.
fn parse_named_init(s: &str) -> Result<(String, InitSpec), String> {
    let (name, spec) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected NAME=SPEC, e.g. api=lognormal:300,900"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("{s:?}: the NAME=SPEC item has no function name"));
    }
    let spec = lib(InitSpec::parse(spec.trim())).map_err(|e| format!("{name}={spec}: {e}"))?;
    Ok((name.to_string(), spec))
}

fn init_dist(spec: &InitSpec) -> Result<InitDist, ConfigError> {
    match spec {
        InitSpec::Dist(d) => Ok(d.clone()),
        InitSpec::Empirical(path) => {
            InitDist::empirical(path, faasplan::dist::read_samples_ms(path)?)
        }
    }
}

fn lib<T>(r: Result<T, ConfigError>) -> Result<T, String> {
    r.map_err(|e| match e {
        // A file (`empirical:FILE`) keeps its path and line.
        ConfigError::File { .. } => e.to_string(),
        e => e.reason().to_string(),
    })
}

/// A flag value as written and as parsed once: one value, or a list (`sweep` takes lists and
/// ranges; the other commands take one value).
#[derive(Debug, Clone, PartialEq)]
pub struct List<T> {
    pub text: String,
    pub values: Vec<T>,
    /// `NAME=VALUE` items: values for some functions only (a name or a glob).
    pub per_function: Vec<(String, T)>,
}

impl<T: Copy> List<T> {
    /// The value for every function, if the flag gives one beside its `NAME=VALUE` items (which
    /// alone leave the run's default).
    pub fn one_opt(&self, flag: &'static str) -> Result<Option<T>, ConfigError> {
        if self.values.is_empty() && !self.per_function.is_empty() {
            return Ok(None);
        }
        self.one(flag).map(Some)
    }

    /// The one value of a flag that `sweep` also takes as a list.
    pub fn one(&self, flag: &'static str) -> Result<T, ConfigError> {
        let base = self.base_text();
        match self.values.as_slice() {
            [v] if !base.contains(',') && !base.contains("..") => Ok(*v),
            _ => Err(ConfigError::invalid(
                flag,
                format!(
                    "{:?}: expected one value here (lists and ranges are for `faasplan sweep`)",
                    self.text
                ),
            )),
        }
    }
}

impl<T> List<T> {
    /// The text without its `NAME=VALUE` items.
    fn base_text(&self) -> String {
        split_per_function(&self.text).0.join(",")
    }
}

/// Splits a flag's comma-separated items into plain ones and `NAME=VALUE` ones (a range such as
/// `0..=100:10` has `=` too, after `..`).
fn split_per_function(s: &str) -> (Vec<&str>, Vec<(&str, &str)>) {
    let mut plain = Vec::new();
    let mut named = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match item.split_once('=') {
            Some((name, value)) if !name.ends_with("..") => named.push((name.trim(), value.trim())),
            _ => plain.push(item),
        }
    }
    (plain, named)
}

/// `none` or a value: `Unlimited(None)` means no limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unlimited<T>(pub Option<T>);

/// `0..=100:10`, `0,5,10` or one whole number, and `NAME=N` items for some functions only
/// (`api=20,webhook=0`, `'img-*'=2`).
fn parse_list<T: TryFrom<u32>>(s: &str) -> Result<List<T>, String> {
    let (plain, named) = split_per_function(s);
    let convert = |v: u32| T::try_from(v).map_err(|_| format!("{v}: too large"));
    let values = if plain.is_empty() {
        Vec::new()
    } else {
        faasplan::sweep::parse_u32_list("list", &plain.join(","))
            .map_err(|e| e.reason().to_string())?
            .into_iter()
            .map(convert)
            .collect::<Result<_, _>>()?
    };
    let mut per_function = Vec::new();
    for (name, value) in named {
        if name.is_empty() {
            return Err(format!("{s:?}: a NAME=VALUE item has no function name"));
        }
        let v: u32 = value
            .parse()
            .map_err(|_| format!("{name}={value}: expected a whole number"))?;
        per_function.push((name.to_string(), convert(v)?));
    }
    Ok(List {
        text: s.to_string(),
        values,
        per_function,
    })
}

/// A comma-separated list of keep-alive policies.
fn parse_policies(s: &str) -> Result<List<PolicyChoice>, String> {
    let values = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| PolicyChoice::parse(p).map_err(|e| e.reason().to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if values.is_empty() {
        return Err(format!("{s:?}: no values"));
    }
    Ok(List {
        text: s.to_string(),
        values,
        per_function: Vec::new(),
    })
}

/// One duration (a bare number is seconds).
pub fn parse_duration_arg(s: &str) -> Result<Micros, String> {
    parse_duration(s).ok_or_else(|| format!("{s:?}: expected a duration such as 90, 90s, 15m, 6h"))
}

/// Durations separated by commas (`5m,10m`; a bare number is seconds), sorted, without repeats.
fn parse_durations(s: &str) -> Result<List<Micros>, String> {
    let mut values = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(parse_duration_arg)
        .collect::<Result<Vec<_>, _>>()?;
    if values.is_empty() {
        return Err(format!("{s:?}: no values"));
    }
    if values
        .iter()
        .any(|&us| us > 1_000_000_000_000 * faasplan::time::SECOND)
    {
        return Err(format!("{s:?}: must be a number of seconds >= 0"));
    }
    values.sort_unstable();
    values.dedup();
    Ok(List {
        text: s.to_string(),
        values,
        per_function: Vec::new(),
    })
}

/// A duration or `none`.
fn parse_optional_duration(s: &str) -> Result<Unlimited<Micros>, String> {
    match s.trim() {
        "none" => Ok(Unlimited(None)),
        d => parse_duration_arg(d).map(|us| Unlimited(Some(us))),
    }
}

/// A flag that takes one value for every function and `NAME=VALUE` items for some
/// (`--timeout 30s,batch=15m`, `--cpu-bound 0.2,resize=0.9`).
#[derive(Debug, Clone, PartialEq)]
pub struct PerFunction<T> {
    pub all: Option<T>,
    pub per_function: Vec<(String, T)>,
}

/// `--cpu-bound`.
pub type Fractions = PerFunction<f64>;
/// `--timeout`.
pub type Timeouts = PerFunction<Unlimited<Micros>>;

/// Parses `VALUE`, `NAME=VALUE` items, or both, each value with `one`; `unit` names the value
/// in messages (`DURATION`, `F`).
fn parse_per_function<T>(
    s: &str,
    unit: &str,
    one: impl Fn(&str) -> Result<T, String>,
) -> Result<PerFunction<T>, String> {
    let (plain, named) = split_per_function(s);
    let all = match plain.as_slice() {
        [] => None,
        [v] => Some(one(v)?),
        _ => {
            return Err(format!(
                "{s:?}: one value for every function, plus NAME={unit} items"
            ));
        }
    };
    let mut per_function = Vec::new();
    for (name, value) in named {
        if name.is_empty() {
            return Err(format!("{s:?}: a NAME={unit} item has no function name"));
        }
        let v = one(value).map_err(|e| format!("{name}={value}: {e}"))?;
        per_function.push((name.to_string(), v));
    }
    if all.is_none() && per_function.is_empty() {
        return Err(format!("expected {unit}, or NAME={unit} items"));
    }
    Ok(PerFunction { all, per_function })
}

fn parse_fractions(s: &str) -> Result<Fractions, String> {
    parse_per_function(s, "F", |v| {
        v.parse::<f64>()
            .map_err(|_| format!("{v:?}: expected a number from 0 to 1"))
    })
}

fn parse_timeouts(s: &str) -> Result<Timeouts, String> {
    parse_per_function(s, "DURATION", parse_optional_duration)
}

/// A whole number or `none`.
fn parse_optional_count(s: &str) -> Result<Unlimited<u32>, String> {
    match s.trim() {
        "none" | "unlimited" => Ok(Unlimited(None)),
        n => n
            .parse()
            .map(|n| Unlimited(Some(n)))
            .map_err(|_| format!("{n:?}: expected a whole number or none")),
    }
}

/// A memory size that fits the engine's type.
fn memory_u16(m: u32) -> Result<u16, ConfigError> {
    u16::try_from(m)
        .ok()
        .filter(|&m| m > 0)
        .ok_or_else(|| ConfigError::invalid("--memory-mb", format!("{m}: must be 1..=65535")))
}

/// `row`, `N`/`Nvcpu`, `NMB` or `NMB@OFFERING`.
fn parse_cpu_ref(spec: &str) -> Result<CpuRef, String> {
    let spec = spec.trim();
    if spec == "row" {
        return Ok(CpuRef::Row);
    }
    if let Some(mb) = spec
        .split('@')
        .next()
        .and_then(|m| m.strip_suffix("MB").or_else(|| m.strip_suffix("mb")))
    {
        let mb: u16 = mb
            .trim()
            .parse()
            .ok()
            .filter(|&m| m > 0)
            .ok_or_else(|| format!("{spec:?}: expected a memory size such as 512MB"))?;
        let offering = spec.split_once('@').map(|(_, n)| n.trim().to_string());
        return Ok(CpuRef::Memory { mb, offering });
    }
    let n = spec.strip_suffix("vcpu").unwrap_or(spec);
    let v: f64 = n
        .trim()
        .parse()
        .map_err(|_| format!("{spec:?}: expected row, N or Nvcpu, NMB, or NMB@OFFERING"))?;
    if !(v.is_finite() && v > 0.0 && v <= 1024.0) {
        return Err(format!("{spec:?}: vCPUs must be in (0, 1024]"));
    }
    Ok(CpuRef::Vcpu(v))
}

impl PlatformArgs {
    /// True when durations scale with CPU (--cpu-bound or --power-tuning).
    pub fn cpu_profile(&self) -> bool {
        self.cpu_bound.is_some() || self.power_tuning.is_some()
    }

    /// The typed settings these flags give, for one run: each list-capable flag must hold one
    /// value.
    pub fn overrides(&self) -> Result<PlatformOverrides, ConfigError> {
        let memory_mb = match &self.memory_mb {
            Some(l) => l.one_opt("--memory-mb")?.map(memory_u16).transpose()?,
            None => None,
        };
        let provisioned = match &self.provisioned {
            Some(l) => l.one_opt("--provisioned")?,
            None => None,
        };
        let keep_alive = self
            .keep_alive
            .as_ref()
            .map(|l| l.one("--keep-alive"))
            .transpose()?;
        let policy = self
            .keep_alive_policy
            .as_ref()
            .map(|l| l.one("--keep-alive-policy"))
            .transpose()?;
        let mut o = self.overrides_with(memory_mb, provisioned, keep_alive)?;
        o.keep_alive_policy = policy;
        Ok(o)
    }

    /// As [`Self::overrides`], with the three settings a sweep varies given per grid point.
    pub fn overrides_with(
        &self,
        memory_mb: Option<u16>,
        provisioned: Option<u32>,
        keep_alive: Option<Micros>,
    ) -> Result<PlatformOverrides, ConfigError> {
        let plan = match (&self.provisioned_schedule, &self.provisioned_target) {
            (Some(s), _) => {
                if self.provisioned.is_some() {
                    return Err(ConfigError::invalid(
                        "--provisioned-schedule",
                        "give either --provisioned or a schedule, not both",
                    ));
                }
                Some(ProvisionedPlan::Schedule(s.clone()))
            }
            (None, Some(t)) => {
                if self.provisioned.is_some() {
                    return Err(ConfigError::invalid(
                        "--provisioned-target",
                        "give either --provisioned or a target, not both",
                    ));
                }
                Some(ProvisionedPlan::Target(t.clone()))
            }
            (None, None) => None,
        };
        let measured = self
            .power_tuning
            .as_deref()
            .map(faasplan::trace::power_tuning::PowerTuning::read)
            .transpose()
            .map_err(flag_error)?;
        let cpu = match (self.cpu_bound.as_ref().and_then(|c| c.all), measured) {
            (None, None) => {
                let per_function = self
                    .cpu_bound
                    .as_ref()
                    .is_some_and(|c| !c.per_function.is_empty());
                if self.cpu_ref != CpuRef::Row && !per_function {
                    return Err(ConfigError::invalid(
                        "--cpu-ref",
                        "only means something with --cpu-bound or --power-tuning",
                    ));
                }
                None
            }
            (bound, measured) => Some(CpuOverride {
                bound: bound.unwrap_or(1.0),
                threads: self.cpu_threads,
                reference: self.cpu_ref.clone(),
                measured,
                extrapolate: self.power_tuning_extrapolate,
            }),
        };
        Ok(PlatformOverrides {
            memory_mb,
            per_instance_concurrency: self.per_instance_concurrency,
            provisioned,
            provisioned_plan: plan,
            keep_alive,
            // Set by `overrides` (one policy) or by a sweep's grid point (a list).
            keep_alive_policy: None,
            max_lifetime: self.max_lifetime,
            max_concurrency: match &self.max_concurrency {
                Some(l) => l.one_opt("--max-concurrency")?,
                None => None,
            },
            account_concurrency: self.account_concurrency.map(|u| u.0),
            scaling: self.scaling_rate.map(|u| u.0),
            init: self.init_ms.as_ref().map(init_dist).transpose()?,
            runtime: self.runtime.clone(),
            package: self.package.clone(),
            arch: self.arch.clone(),
            cpu,
            timeout: self.timeout.as_ref().and_then(|t| t.all).map(|u| u.0),
            queue_max_wait: self.queue_max_wait,
            max_event_age: self.max_event_age,
            horizon: self.horizon,
            warmup: self.warmup,
            seed: self.seed,
            per_function: self.per_function()?,
        })
    }

    /// The `NAME=VALUE` items of --memory-mb, --provisioned, --max-concurrency, --timeout and
    /// --cpu-bound, one entry per
    /// name or glob in the order first given. An exact name takes the fields it does not set
    /// from the globs that match it (of two setting one field, the later), so `--memory-mb
    /// '*=512' --provisioned api=20` gives api both.
    fn per_function(&self) -> Result<Vec<FunctionOverride>, ConfigError> {
        let mut out: Vec<FunctionOverride> = Vec::new();
        let mut entry = |name: &str| -> usize {
            match out.iter().position(|e| e.pattern == name) {
                Some(i) => i,
                None => {
                    out.push(FunctionOverride {
                        pattern: name.to_string(),
                        ..FunctionOverride::default()
                    });
                    out.len() - 1
                }
            }
        };
        let mut memory = Vec::new();
        if let Some(l) = &self.memory_mb {
            for (n, v) in &l.per_function {
                memory.push((entry(n), memory_u16(*v)?));
            }
        }
        let mut provisioned = Vec::new();
        if let Some(l) = &self.provisioned {
            for (n, v) in &l.per_function {
                provisioned.push((entry(n), *v));
            }
        }
        let mut max = Vec::new();
        if let Some(l) = &self.max_concurrency {
            for (n, v) in &l.per_function {
                max.push((entry(n), *v));
            }
        }
        let mut timeouts = Vec::new();
        if let Some(t) = &self.timeout {
            for (n, v) in &t.per_function {
                timeouts.push((entry(n), v.0));
            }
        }
        let mut inits = Vec::new();
        for (n, spec) in &self.init_ms_for {
            inits.push((entry(n), init_dist(spec)?));
        }
        let mut cpus = Vec::new();
        if let Some(c) = &self.cpu_bound {
            for (n, f) in &c.per_function {
                cpus.push((
                    entry(n),
                    CpuOverride {
                        bound: *f,
                        threads: self.cpu_threads,
                        reference: self.cpu_ref.clone(),
                        measured: None,
                        extrapolate: false,
                    },
                ));
            }
        }
        for (i, v) in memory {
            out[i].memory_mb = Some(v);
        }
        for (i, v) in provisioned {
            out[i].provisioned = Some(v);
        }
        for (i, v) in max {
            out[i].max_concurrency = Some(v);
        }
        for (i, v) in timeouts {
            out[i].timeout = Some(v);
        }
        for (i, c) in cpus {
            out[i].cpu = Some(c);
        }
        for (i, d) in inits {
            out[i].init = Some(d);
        }
        let is_glob = |p: &str| p.contains(['*', '?']);
        let globs: Vec<FunctionOverride> = out
            .iter()
            .filter(|e| is_glob(&e.pattern))
            .cloned()
            .collect();
        for e in out.iter_mut().filter(|e| !is_glob(&e.pattern)) {
            for g in globs
                .iter()
                .rev()
                .filter(|g| faasplan::engine::glob_match(&g.pattern, &e.pattern))
            {
                e.memory_mb = e.memory_mb.or(g.memory_mb);
                e.provisioned = e.provisioned.or(g.provisioned);
                e.max_concurrency = e.max_concurrency.or(g.max_concurrency);
                e.timeout = e.timeout.or(g.timeout);
                e.cpu = e.cpu.take().or_else(|| g.cpu.clone());
                e.init = e.init.take().or_else(|| g.init.clone());
            }
        }
        Ok(out)
    }
}

/// The platform these flags describe over `offering`'s behaviour defaults, with library errors
/// named by flag.
pub fn platform_config_for(
    a: &PlatformArgs,
    offering: Option<&Offering>,
) -> Result<PlatformConfig, ConfigError> {
    faasplan::plan::platform_config(&a.overrides()?, offering).map_err(flag_error)
}
