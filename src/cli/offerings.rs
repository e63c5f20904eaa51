//! `faasplan offerings` (list the shipped offerings) and the `--offering`/`--free-tier` flags that
//! `simulate` uses to price a run.

use faasplan::export::results::offerings::{OfferingRow, Offerings};
use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::Format;
use faasplan::cost::BillOptions;
use faasplan::cost::services::{FrontDoor, Queue, ServiceOptions};
use faasplan::engine::PlatformConfig;
use faasplan::error::ConfigError;
use faasplan::offering::{Offering, OfferingError, shipped};

/// Which offerings to bill a run on.
#[derive(Debug, Clone, Args)]
pub struct OfferingArgs {
    /// Bill the run on an offering: a shipped name (see `faasplan offerings`) or a path to a .toml
    /// file. Its behaviour defaults apply to every platform flag not given. Repeat it to replay the
    /// trace on each and compare them side by side (default: none, no bill).
    #[arg(long = "offering", value_name = "NAME|FILE")]
    pub offerings: Vec<String>,

    /// Deduct the monthly free tiers; they are per account and shared by every function (default:
    /// off).
    #[arg(long)]
    pub free_tier: bool,

    /// Lambda ephemeral storage (/tmp) per function, in MB; the part above 512 MB is billed
    ///.
    #[arg(long, default_value_t = 512, value_name = "MB")]
    pub ephemeral_storage_mb: u32,

    /// Bill the front door every sync request comes through as its own line:
    /// api-gateway-rest, api-gateway-http, function-url or alb (prices:
    /// pricing/services/aws-us-east-1.toml).
    #[arg(long, value_name = "SERVICE", value_parser = parse_front_door)]
    pub front_door: Option<FrontDoor>,

    /// Bill the queue or topic that carries every async and queue-triggered invocation: sqs, sns
    /// or eventbridge.
    #[arg(long, value_name = "SERVICE", value_parser = parse_queue)]
    pub queue: Option<Queue>,

    /// Mean request or message payload, KB (API Gateway HTTP metering, ALB bytes, queue chunks).
    #[arg(long, default_value_t = 1, value_name = "KB", value_parser = clap::value_parser!(u32).range(0..=10_485_760))]
    pub request_kb: u32,

    /// Mean response sent to the internet per served invocation, KB: bills data transfer out
    /// (default 0: none).
    #[arg(long, default_value_t = 0, value_name = "KB", value_parser = clap::value_parser!(u32).range(0..=10_485_760))]
    pub response_kb: u32,

    /// Log volume per execution, KB (Lambda's START, END and REPORT lines included): bills log
    /// ingestion (default 0: none).
    #[arg(long, default_value_t = 0, value_name = "KB", value_parser = clap::value_parser!(u32).range(0..=10_485_760))]
    pub log_kb: u32,

    /// With --front-door alb: listener rules evaluated per request (the first 10 are free).
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub alb_rules: u32,
}

fn parse_front_door(s: &str) -> Result<FrontDoor, String> {
    FrontDoor::parse(s)
        .ok_or_else(|| format!("{s:?}: expected one of {}", FrontDoor::NAMES.join(", ")))
}

fn parse_queue(s: &str) -> Result<Queue, String> {
    Queue::parse(s).ok_or_else(|| format!("{s:?}: expected one of {}", Queue::NAMES.join(", ")))
}

impl OfferingArgs {
    /// `compare`: these offerings without aws-lambda-managed-instances, and whether it was
    /// asked for (it runs as a fleet).
    pub fn split_managed(&self) -> (OfferingArgs, bool) {
        let mut plain = self.clone();
        plain
            .offerings
            .retain(|o| o.trim() != faasplan::servers::managed::NAME);
        let managed = plain.offerings.len() != self.offerings.len();
        (plain, managed)
    }

    /// Loads and validates every `--offering`, in the order given.
    pub fn load(&self) -> anyhow::Result<Vec<Offering>> {
        if !(512..=10_240).contains(&self.ephemeral_storage_mb) {
            return Err(ConfigError::invalid(
                "--ephemeral-storage-mb",
                format!(
                    "{}: must be between 512 and 10240 (MB)",
                    self.ephemeral_storage_mb
                ),
            )
            .into());
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::with_capacity(self.offerings.len());
        for spec in &self.offerings {
            if spec.trim() == faasplan::servers::managed::NAME {
                return Err(ConfigError::invalid(
                    "--offering",
                    format!(
                        "{spec} runs as a fleet of EC2 instances: compare it (--offering or \
                         --fleet) or break even against it (--fleet {spec})"
                    ),
                )
                .into());
            }
            let o = Offering::resolve(spec).context("--offering")?;
            if !seen.insert(o.meta.name.clone()) {
                return Err(ConfigError::invalid(
                    "--offering",
                    format!("{} is given twice", o.meta.name),
                )
                .into());
            }
            out.push(o);
        }
        Ok(out)
    }

    /// The bill's options for a run on `cfg`.
    pub fn bill_options(&self, cfg: &PlatformConfig) -> BillOptions {
        BillOptions {
            free_tier: self.free_tier,
            // With a schedule or target, provisioned concurrency is on whenever the plan holds
            // any: the free tier's exclusion follows the plan's highest level.
            provisioned: cfg.max_provisioned(),
            memory_mb: cfg.memory_mb,
            ephemeral_storage_mb: self.ephemeral_storage_mb,
            services: ServiceOptions {
                front_door: self.front_door,
                queue: self.queue,
                request_kb: self.request_kb,
                response_kb: self.response_kb,
                log_kb: self.log_kb,
                alb_rules: self.alb_rules,
            },
        }
    }
}

/// `faasplan offerings`.
#[derive(Debug, Args)]
pub struct OfferingsArgs {
    /// Output format.
    #[arg(long, default_value = "table", value_parser = super::format_parser())]
    pub format: Format,
}

pub fn run(a: &OfferingsArgs) -> anyhow::Result<ExitCode> {
    let rows = shipped::ALL
        .iter()
        .map(|s| faasplan::offering::parse(s.text, &s.display_path()).map(OfferingRow::from))
        .collect::<Result<Vec<OfferingRow>, OfferingError>>()?;
    super::to_stdout(|w| a.format.write(&Offerings(rows), w))?;
    Ok(ExitCode::SUCCESS)
}

/// `faasplan servers`.
#[derive(Debug, Args)]
pub struct ServersArgs {
    /// Extra server catalogs (TOML, format of pricing/servers/README.md), listed after the
    /// shipped ones. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub servers: Vec<std::path::PathBuf>,

    /// Only the types of this provider (aws, azure, gcp).
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,

    /// Output format.
    #[arg(long, default_value = "table", value_parser = super::format_parser())]
    pub format: Format,
}

/// `faasplan servers`: the server types a `--fleet` can name.
pub fn run_servers(a: &ServersArgs) -> anyhow::Result<ExitCode> {
    use faasplan::export::results::servers::{ServerRow, Servers};
    let mut all = faasplan::servers::shipped()?;
    for path in &a.servers {
        all.extend(faasplan::servers::read_catalog(path)?);
    }
    if let Some(p) = &a.provider {
        let known: BTreeSet<&str> = all.iter().map(|s| s.provider.as_str()).collect();
        if !known.contains(p.as_str()) {
            return Err(ConfigError::invalid(
                "--provider",
                format!(
                    "{p:?}: no server type of that provider (the catalogs have {})",
                    known.into_iter().collect::<Vec<_>>().join(", ")
                ),
            )
            .into());
        }
        all.retain(|s| &s.provider == p);
    }
    let rows = all.iter().map(ServerRow::from).collect();
    super::to_stdout(|w| a.format.write(&Servers(rows), w))?;
    Ok(ExitCode::SUCCESS)
}
