//! The result of a command as people read it: tables of formatted cells, warnings and notes.
//! The `table` and `markdown` exporters render a [`Page`]; the `--report` pages (HTML and
//! `summary.md`) show the same tables beside their charts.

/// A result as tables, for the text formats.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// e.g. "faasplan simulate".
    pub title: String,
    /// What produced it, e.g. the trace path.
    pub subtitle: String,
    /// Shown first, one line each.
    pub warnings: Vec<String>,
    pub tables: Vec<Table>,
    /// Sentences shown after the tables (caveats, the recommendation).
    pub notes: Vec<String>,
}

/// How a table cell is aligned: numbers to the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table of formatted cells, written to `summary.md` and `index.html` alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: String,
    /// (header, alignment) per column.
    pub columns: Vec<(String, Align)>,
    /// One `Vec` per row, as many cells as columns.
    pub rows: Vec<Vec<String>>,
    /// A sentence under the table (units, caveats), or empty.
    pub note: String,
}

impl Table {
    pub fn new(title: impl Into<String>, columns: &[(&str, Align)]) -> Table {
        Table {
            title: title.into(),
            columns: columns.iter().map(|&(h, a)| (h.to_string(), a)).collect(),
            rows: Vec::new(),
            note: String::new(),
        }
    }

    /// A two-column (what, value) table.
    pub fn key_value(title: impl Into<String>, rows: Vec<(String, String)>) -> Table {
        let mut t = Table::new(title, &[("", Align::Left), ("", Align::Left)]);
        t.rows = rows.into_iter().map(|(k, v)| vec![k, v]).collect();
        t
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Table {
        self.note = note.into();
        self
    }
}
