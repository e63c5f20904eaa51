//! The bill in the table format: the itemised bill of one offering, and the side-by-side table of
//! several offerings replaying one trace. Money is rounded here, for display only.

use std::io::Write;

use super::summary::Summary;
use crate::cost::Bill;

/// USD for people: cents from a dollar up, four decimals below (a short window's bill is often a
/// fraction of a cent).
pub fn usd(x: f64) -> String {
    if x == 0.0 || x.abs() >= 1.0 {
        format!("${}", group(x, 2))
    } else {
        format!("${x:.4}")
    }
}

/// A quantity with thousands separators and `decimals` places.
fn group(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}

fn quantity(q: f64) -> String {
    if q >= 1000.0 {
        group(q, 0)
    } else {
        group(q, 3)
    }
}

/// The itemised bill, after the run's summary table.
pub fn write_table(w: &mut dyn Write, b: &Bill) -> std::io::Result<()> {
    writeln!(w)?;
    writeln!(
        w,
        "bill: {} ({}), window {:.1} min; free tier {}",
        b.offering,
        b.region,
        b.window_s / 60.0,
        if b.free_tier_applied {
            "applied"
        } else {
            "not applied"
        }
    )?;
    let rows: Vec<[String; 6]> = b
        .lines
        .iter()
        .map(|l| {
            [
                l.item.clone(),
                quantity(l.quantity),
                l.unit.clone(),
                format!("{}", l.rate_usd),
                usd(l.amount_usd),
                usd(l.monthly_usd),
            ]
        })
        .collect();
    let header = [
        "item",
        "window quantity",
        "unit",
        "USD per unit",
        "window",
        "month (730 h)",
    ]
    .map(String::from);
    let total = [
        "total".to_string(),
        String::new(),
        String::new(),
        String::new(),
        usd(b.window_usd),
        usd(b.monthly_usd),
    ];
    let mut width = [0usize; 6];
    for r in std::iter::once(&header).chain(&rows).chain([&total]) {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |w: &mut dyn Write, r: &[String; 6]| {
        writeln!(
            w,
            "  {:<a$}  {:>b$}  {:<c$}  {:>d$}  {:>e$}  {:>f$}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            a = width[0],
            b = width[1],
            c = width[2],
            d = width[3],
            e = width[4],
            f = width[5]
        )
    };
    line(w, &header)?;
    for r in &rows {
        line(w, r)?;
    }
    line(w, &total)?;
    for n in &b.notes {
        writeln!(w, "  note: {n}")?;
    }
    Ok(())
}

/// One row per offering: cost, cold starts, p99 and throttles of the same trace.
pub fn write_comparison(w: &mut dyn Write, runs: &[Summary]) -> std::io::Result<()> {
    if let Some(first) = runs.first() {
        writeln!(
            w,
            "trace {} ({} rows, {:.1} min window), replayed on {} offerings",
            first.run.trace,
            first.run.trace_rows,
            first.window_s / 60.0,
            runs.len()
        )?;
        writeln!(w)?;
    }
    let header = [
        "offering",
        "window",
        "month (730 h)",
        "cold %",
        "p99 ms",
        "throttled",
        "peak busy",
        "free tier",
    ]
    .map(String::from);
    let rows: Vec<[String; 8]> = runs
        .iter()
        .map(|s| {
            let (name, window, month, free) = match &s.cost {
                Some(b) => (
                    b.offering.clone(),
                    usd(b.window_usd),
                    usd(b.monthly_usd),
                    if b.free_tier_applied { "yes" } else { "no" }.to_string(),
                ),
                None => ("-".into(), "-".into(), "-".into(), "-".into()),
            };
            [
                name,
                window,
                month,
                format!("{:.3}", s.cold_start_ratio * 100.0),
                format!("{:.1}", s.latency_ms.p99),
                s.throttled.to_string(),
                s.concurrency.peak_busy.to_string(),
                free,
            ]
        })
        .collect();
    let mut width = [0usize; 8];
    for r in std::iter::once(&header).chain(&rows) {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    for r in std::iter::once(&header).chain(&rows) {
        let mut cells = Vec::with_capacity(8);
        for (i, c) in r.iter().enumerate() {
            cells.push(if i == 0 {
                format!("{c:<0$}", width[i])
            } else {
                format!("{c:>0$}", width[i])
            });
        }
        writeln!(w, "{}", cells.join("  ").trim_end())?;
    }
    let notes: Vec<String> = runs
        .iter()
        .filter_map(|s| s.cost.as_ref())
        .flat_map(|b| b.notes.iter().map(move |n| format!("{}: {n}", b.offering)))
        .collect();
    if !notes.is_empty() {
        writeln!(w)?;
        for n in notes {
            writeln!(w, "note: {n}")?;
        }
    }
    crate::warnings::write_block(w, &comparison_warnings(runs))
}

/// Every run's warnings, each prefixed with its offering.
pub fn comparison_warnings(runs: &[Summary]) -> Vec<String> {
    runs.iter()
        .flat_map(|s| {
            let name = s.cost.as_ref().map_or("-", |b| b.offering.as_str());
            s.warnings.iter().map(move |w| format!("{name}: {w}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_quantities() {
        assert_eq!(usd(18.733333), "$18.73");
        assert_eq!(usd(1234567.891), "$1,234,567.89");
        assert_eq!(usd(0.00425), "$0.0043");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(quantity(1_500_000.4), "1,500,000");
        assert_eq!(quantity(0.25), "0.250");
    }
}
