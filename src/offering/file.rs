//! The on-disk offering format (`pricing/*.toml`, `version = 1`), exactly as written. Every field
//! is optional here so that validation (in `load.rs`) can name the missing key itself; unknown
//! keys are rejected by serde. Nothing outside `offering` sees these structs.
//!
//! Each group and each price carries its own `source`, `as_of`, `confidence` (V, C, S or NV, as in
//! PRICING-FACTS.md) and `note`. They are spelled out in every struct rather than flattened,
//! because serde cannot combine `flatten` with `deny_unknown_fields`.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferingFile {
    pub version: Option<i64>,
    pub offering: Option<MetaFile>,
    pub behaviour: Option<BehaviourFile>,
    pub memory: Option<MemoryFile>,
    pub timeout: Option<TimeoutFile>,
    pub cpu: Option<CpuFile>,
    pub keep_alive_policy: Option<KeepAlivePolicyFile>,
    #[serde(default)]
    pub prices: Vec<PriceFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuFile {
    pub rule: Option<String>,
    pub mb_per_vcpu: Option<f64>,
    pub max_vcpu: Option<f64>,
    pub vcpu: Option<f64>,
    pub arch_speed: Option<f64>,
    pub source: Option<String>,
    pub as_of: Option<String>,
    pub confidence: Option<String>,
    pub note: Option<String>,
}

/// The platform's keep-alive policy, as data (`--keep-alive-policy platform` uses it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeepAlivePolicyFile {
    pub policy: Option<String>,
    pub source: Option<String>,
    pub as_of: Option<String>,
    pub confidence: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutFile {
    pub default_s: Option<f64>,
    pub max_s: Option<f64>,
    pub source: Option<String>,
    pub as_of: Option<String>,
    pub confidence: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaFile {
    pub name: Option<String>,
    pub provider: Option<String>,
    pub product: Option<String>,
    pub region: Option<String>,
    pub description: Option<String>,
    pub source: Option<String>,
    pub as_of: Option<String>,
    pub confidence: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BehaviourFile {
    pub per_instance_concurrency: Option<i64>,
    pub keep_alive_s: Option<f64>,
    pub cold_start: Option<String>,
    pub scaling_rate: Option<String>,
    pub max_instances: Option<i64>,
    pub account_concurrency: Option<i64>,
    pub provisioned: Option<i64>,
    pub provisioned_means: Option<String>,
    pub source: Option<String>,
    pub as_of: Option<String>,
    pub confidence: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryFile {
    pub rule: Option<String>,
    pub default_mb: Option<i64>,
    pub step_mb: Option<i64>,
    pub min_mb: Option<i64>,
    pub max_mb: Option<i64>,
    pub vcpu: Option<f64>,
    #[serde(default)]
    pub sizes: Vec<SizeFile>,
    pub source: Option<String>,
    pub as_of: Option<String>,
    pub confidence: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeFile {
    pub memory_mb: Option<i64>,
    pub vcpu: Option<f64>,
    pub ghz: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceFile {
    pub item: Option<String>,
    pub meter: Option<String>,
    pub on: Option<String>,
    /// A shorthand string (`"1ms-min-100ms"`) or a table (`{ step_ms = 1, minimum_ms = 100 }`);
    /// `load.rs` tells them apart and names what is wrong.
    pub rounding: Option<toml::Value>,
    pub unit: Option<String>,
    pub rate: Option<f64>,
    pub tiers: Option<Vec<TierFile>>,
    pub free: Option<f64>,
    pub free_with_provisioned: Option<bool>,
    pub include_init: Option<bool>,
    pub round_window_s: Option<f64>,
    pub min_instances: Option<i64>,
    pub included_mb: Option<i64>,
    pub source: Option<String>,
    pub as_of: Option<String>,
    pub confidence: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierFile {
    pub up_to: Option<f64>,
    pub rate: Option<f64>,
}
