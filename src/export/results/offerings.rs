//! `faasplan offerings`'s result in every format: the shipped offerings, one row each.

use std::io::Write;

use crate::export::exporter::Export;
use crate::export::page::{Align, Page, Table};
use crate::offering::Offering;

/// One offering of the listing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OfferingRow {
    pub name: String,
    pub provider: String,
    pub product: String,
    pub region: String,
    pub as_of: String,
    pub file: String,
    pub description: String,
}

impl From<Offering> for OfferingRow {
    fn from(o: Offering) -> OfferingRow {
        OfferingRow {
            name: o.meta.name,
            provider: o.meta.provider,
            product: o.meta.product,
            region: o.meta.region,
            as_of: o.meta.provenance.as_of,
            file: o.meta.file,
            description: o.meta.description,
        }
    }
}

/// The listing.
#[derive(Debug, Clone)]
pub struct Offerings(pub Vec<OfferingRow>);

const HINT: &str = "Use one with `faasplan simulate TRACE --offering NAME`, or pass a path to your \
                    own file (format: pricing/README.md).";

impl Export for Offerings {
    fn json(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or(serde_json::Value::Null)
    }

    fn write_csv(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let mut c = ::csv::Writer::from_writer(w);
        for r in &self.0 {
            c.serialize(r)?;
        }
        c.flush()
    }

    fn page(&self) -> Page {
        let mut t = Table::new(
            "Shipped offerings",
            &[
                ("offering", Align::Left),
                ("provider", Align::Left),
                ("region", Align::Left),
                ("as of", Align::Left),
                ("product", Align::Left),
            ],
        );
        for r in &self.0 {
            t.row(vec![
                r.name.clone(),
                r.provider.clone(),
                r.region.clone(),
                r.as_of.clone(),
                r.product.clone(),
            ]);
        }
        Page {
            title: "faasplan offerings".into(),
            tables: vec![t],
            notes: vec![HINT.into()],
            ..Page::default()
        }
    }

    fn write_text(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let rows = &self.0;
        let width = |f: fn(&OfferingRow) -> &str, title: &str| {
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
        writeln!(w, "{HINT}")
    }
}
