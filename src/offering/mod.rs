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

/// A billing granularity, one of those the engine records (see `outcome::Rounded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Rounding {
    /// As measured.
    None,
    /// Up to 1 ms (Lambda, Azure).
    Ms1,
    /// Up to 100 ms (Cloud Functions 1st gen, Cloud Run).
    Ms100,
    /// Up to 1 ms with a 100 ms minimum (Azure Functions Consumption).
    Ms1Min100,
    /// Up to 100 ms with a 1 s minimum (Azure Functions Flex on-demand).
    Ms100Min1s,
}

impl Rounding {
    pub const NAMES: &'static str = "none, 1ms, 100ms, 1ms-min-100ms, 100ms-min-1s";

    pub fn parse(s: &str) -> Option<Rounding> {
        Some(match s {
            "none" => Rounding::None,
            "1ms" => Rounding::Ms1,
            "100ms" => Rounding::Ms100,
            "1ms-min-100ms" => Rounding::Ms1Min100,
            "100ms-min-1s" => Rounding::Ms100Min1s,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Rounding::None => "none",
            Rounding::Ms1 => "1ms",
            Rounding::Ms100 => "100ms",
            Rounding::Ms1Min100 => "1ms-min-100ms",
            Rounding::Ms100Min1s => "100ms-min-1s",
        }
    }

    /// The sum of `r`'s items under this rounding, microseconds.
    pub fn of(self, r: &crate::outcome::Rounded) -> u64 {
        match self {
            Rounding::None => r.raw_us,
            Rounding::Ms1 => r.ceil_1ms_us,
            Rounding::Ms100 => r.ceil_100ms_us,
            Rounding::Ms1Min100 => r.min_100ms_us,
            Rounding::Ms100Min1s => r.min_1s_us,
        }
    }
}

/// What a price item measures in the outcome. See `pricing/README.md` for each.
#[derive(Debug, Clone, PartialEq)]
pub enum Meter {
    /// Served executions (requests, invocations).
    Requests { on: On },
    /// Billed memory × each execution's time (plus each cold start's init when `include_init`).
    ExecutionMemory {
        on: On,
        rounding: Rounding,
        include_init: bool,
    },
    /// The size's CPU (GHz or vCPU, by unit) × each execution's time.
    ExecutionCpu { on: On, rounding: Rounding },
    /// Instance memory × each instance's active periods (init or serving, until idle).
    ActiveMemory { on: On, rounding: Rounding },
    /// Instance vCPU × active periods.
    ActiveCpu { on: On, rounding: Rounding },
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
        rounding: Rounding,
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
    pub memory: Memory,
    pub timeout: Timeouts,
    pub prices: Vec<Price>,
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
