//! `faasplan offerings` (list the shipped offerings) and the `--offering`/`--free-tier` flags that
//! `simulate` uses to price a run.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::Format;
use faasplan::cost::BillOptions;
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
}

impl OfferingArgs {
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
        }
    }
}

/// `faasplan offerings`.
#[derive(Debug, Args)]
pub struct OfferingsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// One row of the listing.
#[derive(Debug, serde::Serialize)]
struct Row {
    name: String,
    provider: String,
    product: String,
    region: String,
    as_of: String,
    file: String,
    description: String,
}

pub fn run(a: &OfferingsArgs) -> anyhow::Result<ExitCode> {
    let rows = shipped::ALL
        .iter()
        .map(|s| {
            let o = faasplan::offering::parse(s.text, &s.display_path())?;
            Ok(Row {
                name: o.meta.name,
                provider: o.meta.provider,
                product: o.meta.product,
                region: o.meta.region,
                as_of: o.meta.provenance.as_of,
                file: o.meta.file,
                description: o.meta.description,
            })
        })
        .collect::<Result<Vec<Row>, OfferingError>>()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write(&mut out, &rows, a.format)
        .and_then(|()| out.flush())
        .context("cannot write to stdout")?;
    Ok(ExitCode::SUCCESS)
}

fn write(w: &mut dyn Write, rows: &[Row], format: Format) -> std::io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *w, rows)?;
            writeln!(w)
        }
        Format::Csv => {
            let mut c = ::csv::Writer::from_writer(w);
            for r in rows {
                c.serialize(r)?;
            }
            c.flush()
        }
        Format::Table => {
            let width = |f: fn(&Row) -> &str, title: &str| {
                rows.iter()
                    .map(|r| f(r).chars().count())
                    .chain([title.len()])
                    .max()
                    .unwrap_or(0)
            };
            let (n, p, r, d) = (
                width(|r| &r.name, "offering"),
                width(|r| &r.provider, "provider"),
                width(|r| &r.region, "region"),
                width(|r| &r.as_of, "as of"),
            );
            writeln!(
                w,
                "{:<n$}  {:<p$}  {:<r$}  {:<d$}  product",
                "offering", "provider", "region", "as of"
            )?;
            for row in rows {
                writeln!(
                    w,
                    "{:<n$}  {:<p$}  {:<r$}  {:<d$}  {}",
                    row.name, row.provider, row.region, row.as_of, row.product
                )?;
            }
            writeln!(w)?;
            writeln!(
                w,
                "Use one with `faasplan simulate TRACE --offering NAME`, or pass a path to your own \
                 file (format: pricing/README.md)."
            )
        }
    }
}
