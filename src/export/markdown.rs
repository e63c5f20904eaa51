//! `--format markdown`: a result's tables as GitHub-flavoured Markdown, to paste into a design
//! doc or a pull request. The same tables as `--report`'s `summary.md`, without the charts.

use std::fmt::Write as _;
use std::io::Write;

use super::exporter::{Export, Exporter};
use super::page::{Align, Page, Table};

/// The Markdown exporter.
pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn help(&self) -> &'static str {
        "the tables as GitHub-flavoured Markdown"
    }

    fn write(&self, result: &dyn Export, w: &mut dyn Write) -> std::io::Result<()> {
        w.write_all(render(&result.page()).as_bytes())
    }
}

/// Renders a page: its title, subtitle, warnings, tables and notes.
pub fn render(page: &Page) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", page.title);
    if !page.subtitle.is_empty() {
        let _ = writeln!(out, "{}\n", cell(&page.subtitle));
    }
    if !page.warnings.is_empty() {
        let _ = writeln!(out, "**Warnings**\n");
        for w in &page.warnings {
            let _ = writeln!(out, "- ⚠ {}", cell(w));
        }
        out.push('\n');
    }
    for t in &page.tables {
        table(&mut out, t);
    }
    for n in &page.notes {
        let _ = writeln!(out, "{n}\n");
    }
    out
}

/// Escapes the characters that would break a Markdown table cell.
pub(crate) fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

pub(crate) fn table(out: &mut String, t: &Table) {
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
