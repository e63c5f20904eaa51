//! Server instance types as data (`pricing/servers/*.toml`): vCPUs, memory and hourly price, each
//! with its `source` and `as_of`, plus each catalog's billing rule (per second, minimum per start).
//! The shipped catalogs are embedded in the binary; `--servers FILE` adds a user catalog.
//!
//! The fleet's bill lives here too: a pure function of a [`FleetOutcome`] and a [`ServerType`].

pub mod managed;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::outcome::fleet::FleetOutcome;
use crate::time::{Micros, SECOND};

/// Hours in the billing month ([`crate::time::MONTH_HOURS`]), as a float for rates.
pub const MONTH_HOURS: f64 = crate::time::MONTH_HOURS as f64;

macro_rules! shipped {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../pricing/servers/", $name, ".toml")))),*]
    };
}

/// The shipped catalogs: `pricing/servers/NAME.toml`. A new catalog is a file plus one line here.
const SHIPPED: &[(&str, &str)] = shipped!(
    "aws-ec2-us-east-1",
    "aws-fargate-us-east-1",
    "azure-vm-eastus",
    "gcp-vm-us-central1",
);

// ---- The file format (exactly as written) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    version: u32,
    catalog: CatalogMeta,
    billing: BillingFile,
    #[serde(default)]
    instance: Vec<InstanceFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogMeta {
    provider: String,
    product: String,
    region: String,
    source: String,
    as_of: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BillingFile {
    per_second: bool,
    minimum_s: u64,
    source: String,
    as_of: String,
    #[serde(default)]
    confidence: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InstanceFile {
    name: String,
    vcpu: f64,
    memory_gib: f64,
    usd_per_hour: f64,
    source: String,
    as_of: String,
    #[serde(default)]
    confidence: Option<String>,
    #[serde(default)]
    note: Option<String>,
    /// Burstable types only: the CPU credit model.
    #[serde(default)]
    burst: Option<BurstFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BurstFile {
    /// CPU credits (vCPU-minutes) earned per hour: the baseline × vCPUs × 60.
    credits_per_hour: f64,
    /// Most earned credits the balance holds (24 hours of earning).
    max_credits: f64,
    /// Credits at launch.
    #[serde(default)]
    initial_credits: f64,
    /// "standard" (out of credits: down to the baseline) or "unlimited" (surplus credits billed).
    mode: String,
    /// USD per vCPU-hour of surplus credits, when the type can run unlimited.
    #[serde(default)]
    surplus_usd_per_vcpu_hour: Option<f64>,
    source: String,
    as_of: String,
    #[serde(default)]
    confidence: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

// ---- The validated domain type ----

/// A burstable type's CPU credits (1 credit = 1 vCPU-minute at 100 %).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Burst {
    /// Credits earned per hour; the baseline is `credits_per_hour / 60` vCPUs.
    pub credits_per_hour: f64,
    pub max_credits: f64,
    pub initial_credits: f64,
    /// The provider's default: unlimited (surplus credits billed) or standard (throttled).
    pub unlimited: bool,
    /// USD per vCPU-hour of surplus credits (`None`: the type has no unlimited mode).
    pub surplus_usd_per_vcpu_hour: Option<f64>,
    pub source: String,
    pub as_of: String,
    pub confidence: Option<String>,
}

impl Burst {
    /// The baseline, vCPUs (what the credits earned per hour pay for continuously).
    pub fn baseline_vcpu(&self) -> f64 {
        self.credits_per_hour / 60.0
    }
}

/// One server instance type with its price and billing rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerType {
    pub name: String,
    pub provider: String,
    pub product: String,
    pub region: String,
    pub vcpu: f64,
    pub memory_gib: f64,
    /// On-demand list price, USD per hour.
    pub usd_per_hour: f64,
    /// Billing: per second (else per started hour), with this minimum per instance start, seconds.
    /// `bill_fleet` applies them to each instance's life.
    pub per_second: bool,
    pub minimum_s: u64,
    pub source: String,
    pub as_of: String,
    pub confidence: Option<String>,
    pub note: Option<String>,
    /// The catalog it came from.
    pub catalog: String,
    /// CPU credits of a burstable type (t3, t4g, B-series); `None`: full vCPUs always.
    pub burst: Option<Burst>,
}

impl ServerType {
    /// Seconds billed for one instance up `life_us` microseconds: rounded up to whole seconds
    /// (per-second billing) or whole hours (per started hour), and at least `minimum_s`.
    pub fn billed_seconds(&self, life_us: Micros) -> u64 {
        let step_s: u64 = if self.per_second { 1 } else { 3_600 };
        (life_us.div_ceil(step_s * SECOND) * step_s).max(self.minimum_s)
    }
}

/// The fleet's billed instance-seconds on `server`'s catalogue: each instance's life (launch to
/// termination, or the window's end) billed on its own.
pub fn billed_instance_s(o: &FleetOutcome, server: &ServerType) -> u64 {
    o.lives
        .iter()
        .map(|l| server.billed_seconds(l.length_us()))
        .sum()
}

fn bad(path: &Path, key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::File {
        path: path.to_path_buf(),
        line: 0,
        reason: format!("{key}: {}", reason.into()),
    }
}

/// The 1-based line of `field` in the `i`-th `[[instance]]` table of `text` (in its `[instance.
/// burst]` sub-table when `burst`), else the table's header line, else 0: where a value that
/// parsed but is not valid sits.
fn instance_line(text: &str, i: usize, field: &str, burst: bool) -> u64 {
    let mut seen = 0usize;
    let mut header = 0u64;
    let mut in_burst = false;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            if t == "[[instance]]" {
                if seen == i + 1 {
                    break;
                }
                seen += 1;
                if seen == i + 1 {
                    header = n as u64 + 1;
                }
                in_burst = false;
            } else {
                in_burst = t == "[instance.burst]";
            }
            continue;
        }
        if seen == i + 1
            && in_burst == burst
            && t.split('=').next().is_some_and(|k| k.trim() == field)
        {
            return n as u64 + 1;
        }
    }
    header
}

/// [`bad`] at a line.
fn bad_at(path: &Path, line: u64, key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::File {
        path: path.to_path_buf(),
        line,
        reason: format!("{key}: {}", reason.into()),
    }
}

fn nonempty(path: &Path, key: &str, v: &str) -> Result<(), ConfigError> {
    if v.trim().is_empty() {
        Err(bad(path, key, "must not be empty"))
    } else {
        Ok(())
    }
}

/// Parses and validates one catalog file.
pub fn parse_catalog(path: &Path, text: &str) -> Result<Vec<ServerType>, ConfigError> {
    let file: CatalogFile = toml::from_str(text).map_err(|e| ConfigError::File {
        path: path.to_path_buf(),
        line: e
            .span()
            .map_or(0, |s| crate::dist::line_column(text, s.start).0 as u64),
        reason: e.message().to_string(),
    })?;
    if file.version != 1 {
        return Err(bad(
            path,
            "version",
            format!(
                "{} is not supported (this faasplan reads version 1)",
                file.version
            ),
        ));
    }
    let c = &file.catalog;
    for (k, v) in [
        ("catalog.provider", &c.provider),
        ("catalog.product", &c.product),
        ("catalog.region", &c.region),
        ("catalog.source", &c.source),
        ("catalog.as_of", &c.as_of),
        ("billing.source", &file.billing.source),
        ("billing.as_of", &file.billing.as_of),
    ] {
        nonempty(path, k, v)?;
    }
    if file.instance.is_empty() {
        return Err(bad(path, "instance", "the catalog lists no instance types"));
    }
    let catalog = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out: Vec<ServerType> = Vec::new();
    for (i, inst) in file.instance.iter().enumerate() {
        let key = |f: &str| format!("instance[{i}] ({}).{f}", inst.name);
        nonempty(path, &key("name"), &inst.name)?;
        nonempty(path, &key("source"), &inst.source)?;
        nonempty(path, &key("as_of"), &inst.as_of)?;
        for (f, v) in [
            ("vcpu", inst.vcpu),
            ("memory_gib", inst.memory_gib),
            ("usd_per_hour", inst.usd_per_hour),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad_at(
                    path,
                    instance_line(text, i, f, false),
                    &key(f),
                    format!("{v}: must be a positive number"),
                ));
            }
        }
        if out.iter().any(|o| o.name == inst.name) {
            return Err(bad_at(
                path,
                instance_line(text, i, "name", false),
                &key("name"),
                "listed twice",
            ));
        }
        let burst = inst
            .burst
            .as_ref()
            .map(|b| burst(path, &key("burst"), b, inst.vcpu))
            .transpose()
            .map_err(|e| match e {
                // Point at the field of this instance's burst table.
                ConfigError::File {
                    path,
                    line: 0,
                    reason,
                } => {
                    let field = reason
                        .split(':')
                        .next()
                        .and_then(|k| k.rsplit('.').next())
                        .unwrap_or("");
                    ConfigError::File {
                        line: instance_line(text, i, field, true),
                        path,
                        reason,
                    }
                }
                e => e,
            })?;
        out.push(ServerType {
            name: inst.name.clone(),
            provider: c.provider.clone(),
            product: c.product.clone(),
            region: c.region.clone(),
            vcpu: inst.vcpu,
            memory_gib: inst.memory_gib,
            usd_per_hour: inst.usd_per_hour,
            per_second: file.billing.per_second,
            minimum_s: file.billing.minimum_s,
            source: inst.source.clone(),
            as_of: inst.as_of.clone(),
            confidence: inst.confidence.clone(),
            note: inst.note.clone().or_else(|| file.billing.note.clone()),
            catalog: catalog.clone(),
            burst,
        });
    }
    let _ = &file.billing.confidence;
    Ok(out)
}

/// Checks a `[instance.burst]` table: positive rates, a baseline below the vCPUs, a known mode,
/// and a surplus price when the default mode is unlimited.
fn burst(path: &Path, key: &str, b: &BurstFile, vcpu: f64) -> Result<Burst, ConfigError> {
    let k = |f: &str| format!("{key}.{f}");
    nonempty(path, &k("source"), &b.source)?;
    nonempty(path, &k("as_of"), &b.as_of)?;
    for (f, v) in [
        ("credits_per_hour", b.credits_per_hour),
        ("max_credits", b.max_credits),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(bad(path, &k(f), format!("{v}: must be a positive number")));
        }
    }
    if b.credits_per_hour / 60.0 >= vcpu {
        return Err(bad(
            path,
            &k("credits_per_hour"),
            format!(
                "{}: a baseline of {} vCPU is not below the type's {vcpu} vCPUs",
                b.credits_per_hour,
                b.credits_per_hour / 60.0
            ),
        ));
    }
    if !(b.initial_credits.is_finite() && b.initial_credits >= 0.0) {
        return Err(bad(path, &k("initial_credits"), "must be 0 or more"));
    }
    let unlimited = match b.mode.as_str() {
        "standard" => false,
        "unlimited" => true,
        other => {
            return Err(bad(
                path,
                &k("mode"),
                format!("{other:?}: expected \"standard\" or \"unlimited\""),
            ));
        }
    };
    if let Some(p) = b.surplus_usd_per_vcpu_hour
        && !(p.is_finite() && p >= 0.0)
    {
        return Err(bad(
            path,
            &k("surplus_usd_per_vcpu_hour"),
            "must be 0 or more",
        ));
    }
    if unlimited && b.surplus_usd_per_vcpu_hour.is_none() {
        return Err(bad(
            path,
            &k("surplus_usd_per_vcpu_hour"),
            "an unlimited type needs the price of its surplus credits",
        ));
    }
    let _ = &b.note;
    Ok(Burst {
        credits_per_hour: b.credits_per_hour,
        max_credits: b.max_credits,
        initial_credits: b.initial_credits,
        unlimited,
        surplus_usd_per_vcpu_hour: b.surplus_usd_per_vcpu_hour,
        source: b.source.clone(),
        as_of: b.as_of.clone(),
        confidence: b.confidence.clone(),
    })
}

/// Every shipped server type, in catalog order.
pub fn shipped() -> Result<Vec<ServerType>, ConfigError> {
    let mut all = Vec::new();
    for (name, text) in SHIPPED {
        let path = PathBuf::from(format!("pricing/servers/{name}.toml"));
        all.extend(parse_catalog(&path, text)?);
    }
    Ok(all)
}

/// The names of the shipped catalogs (for tests that compare them with the folder).
pub fn shipped_catalogs() -> impl Iterator<Item = &'static str> {
    SHIPPED.iter().map(|(n, _)| *n)
}

/// Reads and validates a user catalog file.
pub fn read_catalog(path: &Path) -> Result<Vec<ServerType>, ConfigError> {
    let text =
        crate::dist::read_text(path).map_err(|e| bad(path, "file", format!("cannot read: {e}")))?;
    parse_catalog(path, &text)
}

/// Finds a server type by name among the shipped catalogs and `extra` user catalogs.
pub fn find(name: &str, extra: &[PathBuf]) -> Result<ServerType, ConfigError> {
    let mut all = shipped()?;
    for path in extra {
        all.extend(read_catalog(path)?);
    }
    let hits: Vec<&ServerType> = all.iter().filter(|s| s.name == name).collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(ConfigError::invalid(
            "--fleet",
            format!(
                "unknown instance type {name:?}; known: {}",
                all.iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        many => Err(ConfigError::invalid(
            "--fleet",
            format!(
                "instance type {name:?} is in several catalogs ({}); rename one",
                many.iter()
                    .map(|s| s.catalog.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// One line of a fleet bill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetLine {
    pub item: String,
    pub quantity: f64,
    pub unit: String,
    pub rate: f64,
    pub amount_usd: f64,
}

/// A fleet's bill for the window and for a 730-hour month that repeats the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetBill {
    pub instance_type: String,
    /// Billed instance-hours in the window (after the per-start minimum and rounding).
    pub instance_hours: f64,
    pub usd_per_hour: f64,
    /// Commitment discount applied (savings plan / reserved), percent.
    pub discount_pct: f64,
    pub window_usd: f64,
    pub monthly_usd: f64,
    pub lines: Vec<FleetLine>,
}

/// The fleet's bill: billed instance-seconds (the catalogue's rule, [`billed_instance_s`]) × the
/// hourly price, less the commitment discount. The monthly figure scales the window's usage to 730
/// hours.
pub fn bill_fleet(o: &FleetOutcome, server: &ServerType, discount_pct: f64) -> FleetBill {
    let hours = billed_instance_s(o, server) as f64 / 3600.0;
    let list = hours * server.usd_per_hour;
    let discount = list * discount_pct / 100.0;
    // Surplus CPU credits of burstable types in unlimited mode, at their own rate (no
    // commitment discount: it covers the instance price).
    let surplus_vcpu_h = o.surplus_mvcpu_us as f64 / 1000.0 / 3.6e9;
    let surplus_rate = server
        .burst
        .as_ref()
        .and_then(|b| b.surplus_usd_per_vcpu_hour)
        .unwrap_or(0.0);
    let surplus = surplus_vcpu_h * surplus_rate;
    let window_usd = list - discount + surplus;
    let window_h = o.window_us as f64 / 3.6e9;
    let monthly_usd = if window_h > 0.0 {
        window_usd * MONTH_HOURS / window_h
    } else {
        0.0
    };
    let mut lines = vec![FleetLine {
        item: format!("{} instance-hours", server.name),
        quantity: hours,
        unit: "instance-hour".into(),
        rate: server.usd_per_hour,
        amount_usd: list,
    }];
    if discount_pct > 0.0 {
        lines.push(FleetLine {
            item: "commitment discount".into(),
            quantity: discount_pct,
            unit: "%".into(),
            rate: -list / 100.0,
            amount_usd: -discount,
        });
    }
    if o.surplus_mvcpu_us > 0 {
        lines.push(FleetLine {
            item: "surplus CPU credits (unlimited mode)".into(),
            quantity: surplus_vcpu_h,
            unit: "vCPU-hour".into(),
            rate: surplus_rate,
            amount_usd: surplus,
        });
    }
    FleetBill {
        instance_type: server.name.clone(),
        instance_hours: hours,
        usd_per_hour: server.usd_per_hour,
        discount_pct,
        window_usd,
        monthly_usd,
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_catalog_loads() {
        let all = shipped().unwrap();
        assert!(
            all.iter()
                .any(|s| s.name == "m7g.large" && s.usd_per_hour == 0.0816)
        );
        for s in &all {
            assert!(!s.source.is_empty() && !s.as_of.is_empty(), "{}", s.name);
        }
    }

    #[test]
    fn billed_seconds_follow_the_catalogue_rule() {
        let mut s = shipped().unwrap().remove(0);
        (s.per_second, s.minimum_s) = (true, 60);
        assert_eq!(s.billed_seconds(0), 60);
        assert_eq!(s.billed_seconds(59 * SECOND), 60);
        assert_eq!(s.billed_seconds(90 * SECOND + 1), 91);
        (s.per_second, s.minimum_s) = (false, 0);
        assert_eq!(s.billed_seconds(1), 3_600);
        assert_eq!(s.billed_seconds(3_600 * SECOND), 3_600);
        assert_eq!(s.billed_seconds(61 * 60 * SECOND), 7_200);
        (s.per_second, s.minimum_s) = (false, 7_200);
        assert_eq!(s.billed_seconds(SECOND), 7_200);
        assert_eq!(s.billed_seconds(2 * 3_600 * SECOND + 1), 3 * 3_600);
    }

    #[test]
    fn bad_catalogs_name_the_file_and_key() {
        let p = Path::new("x.toml");
        let good = include_str!("../../pricing/servers/azure-vm-eastus.toml");
        let neg = good.replace("usd_per_hour = 0.0104", "usd_per_hour = -1");
        let e = parse_catalog(p, &neg).unwrap_err().to_string();
        assert!(e.contains("x.toml") && e.contains("usd_per_hour"), "{e}");
        let missing = good.replacen("usd_per_hour = 0.0104\n", "", 1);
        let e = parse_catalog(p, &missing).unwrap_err().to_string();
        assert!(e.contains("usd_per_hour"), "{e}");
        let unknown = good.replacen("vcpu = 1", "vcpus = 1", 1);
        assert!(parse_catalog(p, &unknown).is_err());
    }
}
