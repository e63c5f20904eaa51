//! `index.html`: one self-contained page (inline CSS, no script, no network) that shows the
//! charts, referenced relatively, with the same tables as `summary.md`.

use std::fmt::Write;

use super::{Align, Block, Document, HEIGHT, Table, WIDTH};

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A relative file name as a URL path segment (percent-encodes anything unusual).
fn href(file: &str) -> String {
    let mut out = String::new();
    for b in file.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;\
margin:2rem auto;max-width:1240px;padding:0 1rem;color:#222;background:#fff;line-height:1.4}\
h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.3rem;margin-top:2rem;border-bottom:1px solid #ddd}\
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}.sub{color:#555;margin-top:0}\
table{border-collapse:collapse;margin:.3rem 0 1rem;font-size:.92rem}\
th,td{padding:.25rem .7rem;border-bottom:1px solid #e4e4e4;vertical-align:top}\
th{background:#f4f4f4;text-align:left}td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:1.2rem 0 2rem}figure img{width:100%;height:auto;border:1px solid #ddd}\
.note{color:#555;font-size:.9rem}\
.warnings{border:2px solid #c77c00;background:#fff6e5;padding:.5rem 1rem;margin:1rem 0}\
.warnings h2{border:none;margin:.2rem 0;font-size:1.1rem}.warnings ul{margin:.3rem 0}";

fn table(out: &mut String, t: &Table) {
    if !t.title.is_empty() {
        let _ = writeln!(out, "<h3>{}</h3>", esc(&t.title));
    }
    out.push_str("<table>\n");
    let class = |a: &Align| match a {
        Align::Left => "",
        Align::Right => " class=\"r\"",
    };
    if t.columns.iter().any(|(h, _)| !h.is_empty()) {
        out.push_str("<thead><tr>");
        for (h, a) in &t.columns {
            let _ = write!(out, "<th{}>{}</th>", class(a), esc(h));
        }
        out.push_str("</tr></thead>\n");
    }
    out.push_str("<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, (_, a)) in t.columns.iter().enumerate() {
            let c = row.get(i).map_or("", String::as_str);
            let _ = write!(out, "<td{}>{}</td>", class(a), esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    if !t.note.is_empty() {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(&t.note));
    }
}

pub(crate) fn render(doc: &Document) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&doc.title),
        esc(&doc.title)
    );
    if !doc.subtitle.is_empty() {
        let _ = writeln!(out, "<p class=\"sub\">{}</p>", esc(&doc.subtitle));
    }
    if !doc.warnings.is_empty() {
        out.push_str("<div class=\"warnings\" role=\"note\">\n<h2>Warnings</h2>\n<ul>\n");
        for w in &doc.warnings {
            let _ = writeln!(out, "<li>{}</li>", esc(w));
        }
        out.push_str("</ul>\n</div>\n");
    }
    for b in &doc.blocks {
        match b {
            Block::Heading(h) => {
                let _ = writeln!(out, "<h2>{}</h2>", esc(h));
            }
            Block::Text(s) => {
                let _ = writeln!(out, "<p>{}</p>", esc(s));
            }
            Block::Table(t) => table(&mut out, t),
            Block::Chart(c) => {
                // The chart draws its own title; the alt text repeats it for screen readers.
                let _ = writeln!(
                    out,
                    "<figure><img src=\"{}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" alt=\"{}\">\
                     </figure>",
                    href(&c.file),
                    esc(&c.title)
                );
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_links() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
        assert_eq!(href("cost per option.png"), "cost%20per%20option.png");
    }
}
