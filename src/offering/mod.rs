//! Offerings as data: one `pricing/*.toml` file per serverless offering, holding its prices (the
//! billing items, their rounding, free tier and volume tiers) and its behaviour defaults (per-instance
//! concurrency, keep-alive, cold starts, scaling, limits). Files are parsed into the plain structs of
//! `file.rs`, then validated once into [`Offering`], which the CLI and [`crate::cost`] trust.
//!
//! The format is documented in `pricing/README.md`. The shipped files are embedded in the binary
//! (see [`shipped`]), so `--offering aws-lambda-x86` works from any directory.

mod file;
mod load;
pub mod shipped;

pub use load::{load_path, parse};

use std::path::PathBuf;

use crate::engine::{InitDist, ScalingRate};
use crate::time::Micros;

/// A problem with an offering file or name. Messages name the file and the key to fix.
#[derive(Debug, thiserror::Error)]
pub enum OfferingError {
    #[error("{path}: cannot read: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// TOML syntax, a wrong type or an unknown key; `message` carries the line and column.
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: {key}: {reason}")]
    Invalid {
        path: String,
        key: String,
        reason: String,
    },
    #[error(
        "unknown offering {name:?}; shipped offerings: {known} (or pass a path to a .toml file)"
    )]
    Unknown { name: String, known: String },
}

/// How sure the number is, as tagged in PRICING-FACTS.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Confidence {
    /// Verified: verbatim in an official page or price file.
    V,
    /// Corroborated by two or more independent secondary sources.
    C,
    /// A single secondary source, or derived.
    S,
    /// Not verified.
    NV,
}

/// Where a value comes from and when it held.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Provenance {
    /// A URL or document name.
    pub source: String,
    /// A date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub as_of: String,
    pub confidence: Confidence,
    pub note: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Meta {
    /// Short name, e.g. `aws-lambda-x86`; `--offering NAME` picks it.
    pub name: String,
    pub provider: String,
    pub product: String,
    pub region: String,
    pub description: String,
    pub provenance: Provenance,
    /// The file it was read from (`pricing/NAME.toml` for shipped offerings).
    pub file: String,
}

/// The cold-start (init) time an offering defaults to.
#[derive(Debug, Clone)]
pub enum ColdStart {
    /// The measured Lambda init table, for `--runtime`/`--package` and this architecture (unless
    /// `--arch` is given).
    LambdaTable {
        arch: String,
    },
    Dist(InitDist),
}

/// A platform's keep-alive policy as its offering file names it, with where that comes from.
#[derive(Debug, Clone)]
pub struct PlatformPolicy {
    pub spec: crate::engine::KeepAliveSpec,
    pub provenance: Provenance,
}

/// Platform behaviour defaults; explicit CLI flags override each of them.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub per_instance_concurrency: u32,
    /// Microseconds.
    pub keep_alive: Micros,
    pub cold_start: ColdStart,
    pub scaling: Option<ScalingRate>,
    /// Per-function instance limit (max instances / reserved concurrency).
    pub max_instances: Option<u32>,
    /// Account-wide limit on instances in use.
    pub account_concurrency: Option<u32>,
    /// Default provisioned / always-ready / minimum instances per function.
    pub provisioned: u32,
    /// What "provisioned" means on this offering, for output.
    pub provisioned_means: String,
    pub provenance: Provenance,
}

/// How much CPU an instance of a given memory size gets.
#[derive(Debug, Clone, PartialEq)]
pub enum CpuRule {
    /// vCPU = memory / `mb_per_vcpu`, at most `max_vcpu` (Lambda: 1,769 MB per vCPU, up to 6).
    PerMemory { mb_per_vcpu: f64, max_vcpu: f64 },
    /// The vCPU of the memory size billed (`[memory]` sizes: Flex, Premium, Cloud Functions 1st
    /// gen).
    Sizes,
    /// The same vCPU whatever the memory (Cloud Run's vCPU setting, an Azure Consumption host).
    Fixed(f64),
}

/// The platform's CPU: the rule, and the speed of one of its vCPUs relative to a reference x86
/// vCPU (`arch_speed`, 1 unless measured otherwise).
#[derive(Debug, Clone)]
pub struct Cpu {
    pub rule: CpuRule,
    pub arch_speed: f64,
    pub provenance: Provenance,
}

/// The platform's function timeout: how long one execution may run.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// The platform's default when the function sets none, microseconds.
    pub default: Micros,
    /// The most a function may set, microseconds; `None`: unbounded.
    pub max: Option<Micros>,
    pub provenance: Provenance,
}

impl Timeouts {
    /// The timeout a replay uses when the user gives none: the platform maximum. A traced
    /// execution that runs longer than the platform's default was configured for it; one longer
    /// than the maximum cannot run there at all. `None`: unbounded.
    pub fn planning_default(&self) -> Option<Micros> {
        self.max
    }
}

/// One billable instance size: memory, vCPU and (Cloud Functions 1st gen) clock.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Size {
    pub memory_mb: u32,
    pub vcpu: f64,
    /// GHz of the size's CPU (Cloud Functions 1st gen bills GHz-seconds).
    pub ghz: Option<f64>,
}

/// How a function's memory (trace column or `--memory-mb`) becomes the billed size.
#[derive(Debug, Clone, PartialEq)]
pub enum MemoryRule {
    /// The function's own memory, rounded up to `step_mb` and clamped to `[min_mb, max_mb]` (Lambda:
    /// configured memory; Azure Consumption: observed memory in 128 MB steps up to 1,536 MB; Cloud
    /// Run: the instance's memory limit). `vcpu` is the instance's CPU for CPU meters.
    Function {
        step_mb: u32,
        min_mb: u32,
        max_mb: u32,
        vcpu: f64,
    },
    /// The smallest listed size whose memory is at least the function's (the largest if none is):
    /// fixed instance sizes (Flex, Premium) or memory tiers (Cloud Functions 1st gen).
    Sizes(Vec<Size>),
}

#[derive(Debug, Clone)]
pub struct Memory {
    pub rule: MemoryRule,
    /// The function memory when neither the trace nor `--memory-mb` gives one, MB.
    pub default_mb: u16,
    pub provenance: Provenance,
}

impl Memory {
    /// The billed size for a function of `mb` megabytes, and whether `mb` was beyond the largest
    /// size the offering has (then the largest is billed).
    pub fn billed(&self, mb: u16) -> (Size, bool) {
        let mb = u32::from(mb);
        match &self.rule {
            MemoryRule::Function {
                step_mb,
                min_mb,
                max_mb,
                vcpu,
            } => {
                let rounded = mb.div_ceil(*step_mb) * step_mb;
                let billed = rounded.clamp(*min_mb, *max_mb);
                (
                    Size {
                        memory_mb: billed,
                        vcpu: *vcpu,
                        ghz: None,
                    },
                    rounded > *max_mb,
                )
            }
            MemoryRule::Sizes(sizes) => match sizes.iter().find(|s| s.memory_mb >= mb) {
                Some(s) => (*s, false),
                // Validation guarantees at least one size.
                None => (sizes.last().copied().unwrap_or(FALLBACK_SIZE), true),
            },
        }
    }

    /// True when billing is per instance of a fixed size, whatever the function's memory.
    pub fn is_fixed_sizes(&self) -> bool {
        matches!(self.rule, MemoryRule::Sizes(_))
    }
}

const FALLBACK_SIZE: Size = Size {
    memory_mb: 128,
    vcpu: 1.0,
    ghz: None,
};

/// Which instances a usage meter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum On {
    OnDemand,
    Provisioned,
    All,
}

impl On {
    pub fn on_demand(self) -> bool {
        matches!(self, On::OnDemand | On::All)
    }
    pub fn provisioned(self) -> bool {
        matches!(self, On::Provisioned | On::All)
    }
}

/// A price item's rounding rule is data: a [`Granularity`] (step and minimum per item), written
/// in a sheet as a shorthand (`1ms`, `100ms-min-1s`) or a table (`{ step_ms = 10, minimum_ms = 50 }`).
pub use crate::outcome::Granularity;

/// Parses the shorthand: `none`, or `STEP` or `STEP-min-MINIMUM`, each a whole number of `us`,
/// `ms` or `s` (`1ms`, `100ms`, `1ms-min-100ms`, `100ms-min-1s`, `10ms-min-50ms`).
pub fn parse_granularity(s: &str) -> Option<Granularity> {
    fn dur(s: &str) -> Option<u64> {
        let (digits, scale) = if let Some(d) = s.strip_suffix("ms") {
            (d, 1_000)
        } else if let Some(d) = s.strip_suffix("us") {
            (d, 1)
        } else if let Some(d) = s.strip_suffix('s') {
            (d, 1_000_000)
        } else {
            return None;
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u64>().ok()?.checked_mul(scale)
    }
    let s = s.trim();
    if s == "none" {
        return Some(Granularity::EXACT);
    }
    let (step, minimum) = match s.split_once("-min-") {
        Some((step, min)) => (dur(step)?, dur(min)?),
        None => (dur(s)?, 0),
    };
    Granularity::new(step, minimum)
}

/// What a price item measures in the outcome. See `pricing/README.md` for each.
#[derive(Debug, Clone, PartialEq)]
pub enum Meter {
    /// Served executions (requests, invocations).
    Requests { on: On },
    /// Billed memory × each execution's time (plus each cold start's init when `include_init`).
    ExecutionMemory {
        on: On,
        rounding: Granularity,
        include_init: bool,
    },
    /// The size's CPU (GHz or vCPU, by unit) × each execution's time.
    ExecutionCpu { on: On, rounding: Granularity },
    /// Instance memory × each instance's active periods (init or serving, until idle).
    ActiveMemory { on: On, rounding: Granularity },
    /// Instance vCPU × active periods.
    ActiveCpu { on: On, rounding: Granularity },
    /// Instance memory × the idle time of provisioned (minimum) instances.
    IdleProvisionedMemory,
    /// Instance vCPU × the idle time of provisioned (minimum) instances.
    IdleProvisionedCpu,
    /// The configured provisioned level over time (as the engine recorded it: a fixed count × the
    /// window, or a schedule / target tracking) × memory, the window rounded up to `round_window`.
    ProvisionedMemory { round_window: Micros },
    /// Instance memory × every instance's lifetime, with at least `min_instances` alive.
    LifetimeMemory { min_instances: u32 },
    /// Instance vCPU × every instance's lifetime, with at least `min_instances` alive.
    LifetimeCpu { min_instances: u32 },
    /// Configured ephemeral storage above `included_mb` × billed execution and init time.
    EphemeralStorage {
        included_mb: u32,
        rounding: Granularity,
    },
}

/// A billing unit. Quantities are computed in the base unit of the dimension and scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Unit {
    Request,
    MillionRequests,
    GbSecond,
    GibSecond,
    GbHour,
    GibHour,
    VcpuSecond,
    VcpuHour,
    GhzSecond,
}

/// What a unit measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Count,
    MemoryTime,
    CpuTime,
    ClockTime,
}

impl Unit {
    pub const NAMES: &'static str =
        "request, 1M requests, GB-s, GiB-s, GB-h, GiB-h, vCPU-s, vCPU-h, GHz-s";

    pub fn parse(s: &str) -> Option<Unit> {
        Some(match s {
            "request" => Unit::Request,
            "1M requests" => Unit::MillionRequests,
            "GB-s" => Unit::GbSecond,
            "GiB-s" => Unit::GibSecond,
            "GB-h" => Unit::GbHour,
            "GiB-h" => Unit::GibHour,
            "vCPU-s" => Unit::VcpuSecond,
            "vCPU-h" => Unit::VcpuHour,
            "GHz-s" => Unit::GhzSecond,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Unit::Request => "request",
            Unit::MillionRequests => "1M requests",
            Unit::GbSecond => "GB-s",
            Unit::GibSecond => "GiB-s",
            Unit::GbHour => "GB-h",
            Unit::GibHour => "GiB-h",
            Unit::VcpuSecond => "vCPU-s",
            Unit::VcpuHour => "vCPU-h",
            Unit::GhzSecond => "GHz-s",
        }
    }

    pub fn dimension(self) -> Dimension {
        match self {
            Unit::Request | Unit::MillionRequests => Dimension::Count,
            Unit::GbSecond | Unit::GibSecond | Unit::GbHour | Unit::GibHour => {
                Dimension::MemoryTime
            }
            Unit::VcpuSecond | Unit::VcpuHour => Dimension::CpuTime,
            Unit::GhzSecond => Dimension::ClockTime,
        }
    }

    /// Units per base unit (requests, GB-s with 1 GB = 1,024 MB, vCPU-s, GHz-s).
    pub fn per_base(self) -> f64 {
        match self {
            Unit::MillionRequests => 1e-6,
            Unit::GbHour | Unit::GibHour | Unit::VcpuHour => 1.0 / 3600.0,
            _ => 1.0,
        }
    }
}

/// One step of a volume-tiered rate: `rate` USD per unit up to `up_to` units a month (`None`: no
/// upper bound). Tiers are ascending and the last has no bound.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Tier {
    pub up_to: Option<f64>,
    pub rate: f64,
}

/// One billing item of an offering.
#[derive(Debug, Clone)]
pub struct Price {
    /// The item's name, e.g. `duration`.
    pub item: String,
    pub meter: Meter,
    pub unit: Unit,
    /// At least one; a flat rate is one unbounded tier. USD per unit.
    pub tiers: Vec<Tier>,
    /// Free units a month (applied with `--free-tier`).
    pub free: f64,
    /// False when the free tier does not apply once provisioned instances are configured (Lambda).
    pub free_with_provisioned: bool,
    pub provenance: Provenance,
}

impl Price {
    /// The cost of `q` units in a month, over the tiers, USD.
    pub fn tiered_cost(&self, q: f64) -> f64 {
        let mut cost = 0.0;
        let mut lower = 0.0;
        for t in &self.tiers {
            let upper = t.up_to.unwrap_or(f64::INFINITY);
            if q > lower {
                cost += (q.min(upper) - lower) * t.rate;
            }
            if q <= upper {
                break;
            }
            lower = upper;
        }
        cost
    }

    /// The rate of the first tier, USD per unit.
    pub fn base_rate(&self) -> f64 {
        self.tiers.first().map_or(0.0, |t| t.rate)
    }
}

/// A validated offering: metadata, behaviour defaults, the memory rule and the prices.
#[derive(Debug, Clone)]
pub struct Offering {
    pub meta: Meta,
    pub behaviour: Behaviour,
    /// The platform's own keep-alive policy, when the file names one (`[keep_alive_policy]`).
    pub keep_alive_policy: Option<PlatformPolicy>,
    pub memory: Memory,
    pub timeout: Timeouts,
    pub cpu: Cpu,
    pub prices: Vec<Price>,
}

impl Offering {
    /// The granularities this sheet bills by: what a run must record to be billed on it.
    pub fn usage_spec(&self) -> crate::outcome::UsageSpec {
        crate::outcome::UsageSpec::new(self.prices.iter().filter_map(|p| match p.meter {
            Meter::ExecutionMemory { rounding, .. }
            | Meter::ExecutionCpu { rounding, .. }
            | Meter::ActiveMemory { rounding, .. }
            | Meter::ActiveCpu { rounding, .. }
            | Meter::EphemeralStorage { rounding, .. } => Some(rounding),
            Meter::Requests { .. }
            | Meter::IdleProvisionedMemory
            | Meter::IdleProvisionedCpu
            | Meter::ProvisionedMemory { .. }
            | Meter::LifetimeMemory { .. }
            | Meter::LifetimeCpu { .. } => None,
        }))
    }

    /// The platform's vCPUs by memory, for the engine's CPU model.
    pub fn vcpu_rule(&self) -> crate::engine::VcpuRule {
        use crate::engine::VcpuRule;
        let speed = self.cpu.arch_speed;
        match (&self.cpu.rule, &self.memory.rule) {
            (
                CpuRule::PerMemory {
                    mb_per_vcpu,
                    max_vcpu,
                },
                _,
            ) => VcpuRule::PerMemory {
                mb_per_vcpu: *mb_per_vcpu,
                max_vcpu: *max_vcpu,
                speed,
            },
            (CpuRule::Sizes, MemoryRule::Sizes(sizes)) => VcpuRule::Sizes {
                sizes: sizes.iter().map(|s| (s.memory_mb, s.vcpu)).collect(),
                speed,
            },
            // Validation pairs "sizes" with sized memory; a function-memory offering has one vCPU.
            (CpuRule::Sizes, MemoryRule::Function { vcpu, .. }) => VcpuRule::Fixed(vcpu * speed),
            (CpuRule::Fixed(v), _) => VcpuRule::Fixed(v * speed),
        }
    }

    /// vCPUs of an instance for a function of `memory_mb`, in reference-vCPU units.
    pub fn vcpu(&self, memory_mb: u16) -> f64 {
        self.vcpu_rule().vcpu(memory_mb)
    }
}

impl Offering {
    /// Resolves `--offering` values: a shipped name (`aws-lambda-x86`) or a path to a `.toml` file.
    pub fn resolve(spec: &str) -> Result<Offering, OfferingError> {
        let looks_like_path = spec.ends_with(".toml")
            || spec.contains('/')
            || spec.contains(std::path::MAIN_SEPARATOR);
        if looks_like_path {
            return load_path(std::path::Path::new(spec));
        }
        match shipped::find(spec) {
            Some(text) => parse(text.text, &text.display_path()),
            None => Err(OfferingError::Unknown {
                name: spec.to_string(),
                known: shipped::names().join(", "),
            }),
        }
    }
}
