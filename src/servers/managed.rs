//! AWS Lambda Managed Instances as data (`pricing/managed/aws-lambda-managed-instances.toml`):
//! the fleet it runs as (instances of an EC2 type, multi-concurrent slots per vCPU by runtime, a
//! minimum size, a scale-out pace) and its bill (the EC2 instance price, commitments applying,
//! plus a management fee on the on-demand price and a per-request charge).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{FleetBill, FleetLine, ServerType};
use crate::error::ConfigError;
use crate::outcome::fleet::FleetOutcome;
use crate::time::{Micros, SECOND};

/// The name `--offering` and `--fleet` know it by.
pub const NAME: &str = "aws-lambda-managed-instances";

const SHIPPED: &str = include_str!("../../pricing/managed/aws-lambda-managed-instances.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    offering: OfferingFile,
    pricing: PricingFile,
    scaling: ScalingFile,
    concurrency: ConcurrencyFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferingFile {
    name: String,
    provider: String,
    region: String,
    catalog: String,
    source: String,
    as_of: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PricingFile {
    management_fee_pct: f64,
    request_usd_per_million: f64,
    source: String,
    as_of: String,
    confidence: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScalingFile {
    min_instances: u32,
    doubling_s: u64,
    target_utilisation: f64,
    boot_s: u64,
    source: String,
    as_of: String,
    confidence: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConcurrencyFile {
    python: u32,
    nodejs: u32,
    dotnet: u32,
    java: u32,
    default_runtime: String,
    source: String,
    as_of: String,
    confidence: String,
    #[serde(default)]
    note: Option<String>,
}

/// The validated offering.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManagedInstances {
    /// The server catalog its instance types come from.
    pub catalog: String,
    /// Percent of the EC2 on-demand price.
    pub management_fee_pct: f64,
    /// USD per million requests.
    pub request_usd_per_million: f64,
    pub min_instances: u32,
    /// Capacity at most doubles per this long, microseconds.
    pub doubling: Micros,
    /// Target utilisation of the scaler, (0, 1].
    pub target_utilisation: f64,
    /// Launch to serving, microseconds.
    pub boot: Micros,
    /// Default concurrent requests per vCPU by runtime.
    pub per_vcpu: Vec<(String, u32)>,
    pub default_runtime: String,
    /// One line on where the numbers come from.
    pub source: String,
}

fn bad(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::File {
        path: Path::new("pricing/managed/aws-lambda-managed-instances.toml").to_path_buf(),
        line: 0,
        reason: format!("{key}: {}", reason.into()),
    }
}

/// Parses and checks the offering file's text.
pub fn parse(text: &str) -> Result<ManagedInstances, ConfigError> {
    let f: File = toml::from_str(text).map_err(|e| bad("file", e.message()))?;
    if f.version != 1 {
        return Err(bad("version", format!("{} is not supported", f.version)));
    }
    for (k, v) in [
        ("offering.name", &f.offering.name),
        ("offering.provider", &f.offering.provider),
        ("offering.region", &f.offering.region),
        ("offering.catalog", &f.offering.catalog),
        ("offering.source", &f.offering.source),
        ("offering.as_of", &f.offering.as_of),
        ("pricing.source", &f.pricing.source),
        ("pricing.as_of", &f.pricing.as_of),
        ("pricing.confidence", &f.pricing.confidence),
        ("scaling.source", &f.scaling.source),
        ("scaling.as_of", &f.scaling.as_of),
        ("scaling.confidence", &f.scaling.confidence),
        ("concurrency.source", &f.concurrency.source),
        ("concurrency.as_of", &f.concurrency.as_of),
        ("concurrency.confidence", &f.concurrency.confidence),
    ] {
        if v.trim().is_empty() {
            return Err(bad(k, "must not be empty"));
        }
    }
    if f.offering.name != NAME {
        return Err(bad("offering.name", format!("must be {NAME:?}")));
    }
    let p = &f.pricing;
    if !(p.management_fee_pct.is_finite() && p.management_fee_pct >= 0.0) {
        return Err(bad("pricing.management_fee_pct", "must be 0 or more"));
    }
    if !(p.request_usd_per_million.is_finite() && p.request_usd_per_million >= 0.0) {
        return Err(bad("pricing.request_usd_per_million", "must be 0 or more"));
    }
    let s = &f.scaling;
    if s.min_instances == 0 || s.doubling_s == 0 {
        return Err(bad(
            "scaling",
            "min_instances and doubling_s must be at least 1",
        ));
    }
    if !(s.target_utilisation > 0.0 && s.target_utilisation <= 1.0) {
        return Err(bad("scaling.target_utilisation", "must be in (0, 1]"));
    }
    let c = &f.concurrency;
    let per_vcpu: Vec<(String, u32)> = [
        ("python", c.python),
        ("nodejs", c.nodejs),
        ("dotnet", c.dotnet),
        ("java", c.java),
    ]
    .into_iter()
    .map(|(r, n)| (r.to_string(), n))
    .collect();
    if per_vcpu.iter().any(|(_, n)| *n == 0) {
        return Err(bad(
            "concurrency",
            "every runtime needs at least 1 per vCPU",
        ));
    }
    if !per_vcpu.iter().any(|(r, _)| *r == c.default_runtime) {
        return Err(bad(
            "concurrency.default_runtime",
            format!("{:?} is not one of the runtimes listed", c.default_runtime),
        ));
    }
    let _ = (&p.note, &s.note, &c.note);
    Ok(ManagedInstances {
        catalog: f.offering.catalog.clone(),
        management_fee_pct: p.management_fee_pct,
        request_usd_per_million: p.request_usd_per_million,
        min_instances: s.min_instances,
        doubling: s.doubling_s * SECOND,
        target_utilisation: s.target_utilisation,
        boot: s.boot_s * SECOND,
        per_vcpu,
        default_runtime: c.default_runtime.clone(),
        source: format!("{} ({})", f.offering.source, f.offering.as_of),
    })
}

/// The shipped offering.
pub fn shipped() -> Result<ManagedInstances, ConfigError> {
    parse(SHIPPED)
}

impl ManagedInstances {
    /// Concurrent requests per vCPU for `runtime` (the default runtime's without one).
    pub fn per_vcpu(&self, runtime: Option<&str>) -> Result<u32, ConfigError> {
        let r = runtime.unwrap_or(&self.default_runtime);
        self.per_vcpu
            .iter()
            .find(|(n, _)| n == r)
            .map(|(_, c)| *c)
            .ok_or_else(|| {
                ConfigError::invalid(
                    "--fleet",
                    format!(
                        "runtime={r:?}: Lambda Managed Instances runs {}",
                        self.per_vcpu
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }

    /// The bill: the instance lines of [`super::bill_fleet`] (commitment discount included),
    /// plus the management fee on the on-demand price of the same instance-hours and the
    /// per-request charge on the requests served.
    pub fn bill(&self, o: &FleetOutcome, server: &ServerType, discount_pct: f64) -> FleetBill {
        let mut b = super::bill_fleet(o, server, discount_pct);
        let fee_rate = server.usd_per_hour * self.management_fee_pct / 100.0;
        let fee = b.instance_hours * fee_rate;
        let per_request = self.request_usd_per_million / 1e6;
        let requests = o.served as f64 * per_request;
        b.lines.push(FleetLine {
            item: format!(
                "management fee ({} % of on-demand)",
                self.management_fee_pct
            ),
            quantity: b.instance_hours,
            unit: "instance-hour".into(),
            rate: fee_rate,
            amount_usd: fee,
        });
        b.lines.push(FleetLine {
            item: "requests".into(),
            quantity: o.served as f64,
            unit: "request".into(),
            rate: per_request,
            amount_usd: requests,
        });
        let extra = fee + requests;
        let window_h = o.window_us as f64 / 3.6e9;
        if window_h > 0.0 {
            b.monthly_usd += extra * super::MONTH_HOURS / window_h;
        }
        b.window_usd += extra;
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_loads_with_its_documented_values() {
        let m = shipped().unwrap();
        assert_eq!(m.catalog, "aws-ec2-us-east-1");
        assert_eq!(
            (m.management_fee_pct, m.request_usd_per_million),
            (15.0, 0.20)
        );
        assert_eq!((m.min_instances, m.doubling), (3, 300 * SECOND));
        assert_eq!(m.per_vcpu(Some("python")).unwrap(), 16);
        assert_eq!(m.per_vcpu(Some("nodejs")).unwrap(), 64);
        assert_eq!(m.per_vcpu(None).unwrap(), 16);
        assert!(m.per_vcpu(Some("cobol")).is_err());
    }

    #[test]
    fn a_bad_file_names_the_key() {
        let bad = SHIPPED.replace("min_instances = 3", "min_instances = 0");
        let e = parse(&bad).unwrap_err().to_string();
        assert!(
            e.contains("aws-lambda-managed-instances.toml") && e.contains("min_instances"),
            "{e}"
        );
        let bad = SHIPPED.replace("default_runtime = \"python\"", "default_runtime = \"ruby\"");
        assert!(
            parse(&bad)
                .unwrap_err()
                .to_string()
                .contains("default_runtime")
        );
    }
}
