//! `summary.md`: the report's tables in Markdown, to paste into a design doc, with the charts
//! as relative links where the page shows them.

use std::fmt::Write;

use super::{Block, Document};
use crate::export::markdown::{cell, table};

pub(crate) fn render(doc: &Document) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", doc.title);
    if !doc.subtitle.is_empty() {
        let _ = writeln!(out, "{}\n", doc.subtitle);
    }
    if !doc.warnings.is_empty() {
        let _ = writeln!(out, "**Warnings**\n");
        for w in &doc.warnings {
            let _ = writeln!(out, "- ⚠ {}", cell(w));
        }
        out.push('\n');
    }
    for (i, b) in doc.blocks.iter().enumerate() {
        let next = doc.blocks.get(i + 1);
        match b {
            Block::Heading(h) => {
                let _ = writeln!(out, "## {h}\n");
            }
            Block::Text(s) => {
                let _ = writeln!(out, "{s}\n");
            }
            Block::Table(t) => table(&mut out, t),
            Block::Chart(c) => {
                let _ = writeln!(out, "- [{}]({})", cell(&c.title), c.file);
                if !matches!(next, Some(Block::Chart(_))) {
                    out.push('\n');
                }
            }
        }
    }
    out
}
