//! `summary.md`: the report's tables in Markdown, to paste into a design doc, with the charts
//! as relative links where the page shows them.

use std::fmt::Write;

use super::{Align, Block, Document, Table};

/// Escapes the characters that would break a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

fn table(out: &mut String, t: &Table) {
    if !t.title.is_empty() {
        let _ = writeln!(out, "### {}\n", t.title);
    }
    let headers: Vec<String> = t.columns.iter().map(|(h, _)| cell(h)).collect();
    let _ = writeln!(out, "| {} |", headers.join(" | "));
    let rule: Vec<&str> = t
        .columns
        .iter()
        .map(|(_, a)| match a {
            Align::Left => ":---",
            Align::Right => "---:",
        })
        .collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for row in &t.rows {
        let cells: Vec<String> = (0..t.columns.len())
            .map(|i| row.get(i).map_or_else(String::new, |c| cell(c)))
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    if !t.note.is_empty() {
        let _ = writeln!(out, "\n{}", t.note);
    }
    out.push('\n');
}

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
