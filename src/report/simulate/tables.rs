//! The simulate report's summary tables (also the Markdown export of `simulate`).

use super::TOP_FUNCTIONS;
use crate::export::summary::{Percentiles, Summary};
use crate::outcome::Outcome;
use crate::report::fmt::{fixed, ms, percent, sig, thousands, usd};
use crate::report::{Align, Table};

/// `31.0 min`, `36.0 h`, `7.0 days`.
fn window(seconds: f64) -> String {
    let min = seconds / 60.0;
    if min <= 180.0 {
        format!("{} min", fixed(min, 1))
    } else if min <= 3.0 * 1440.0 {
        format!("{} h", fixed(min / 60.0, 1))
    } else {
        format!("{} days", fixed(min / 1440.0, 1))
    }
}

fn count_ratio(n: u64, of: u64) -> String {
    let r = if of == 0 { 0.0 } else { n as f64 / of as f64 };
    format!("{} ({})", thousands(n), percent(r))
}

fn latency_row(name: &str, count: u64, p: &Percentiles) -> Vec<String> {
    let cells = [p.mean, p.p50, p.p95, p.p99, p.p999, p.max];
    let mut row = vec![name.to_string(), thousands(count)];
    if count == 0 {
        row.extend(cells.iter().map(|_| "–".to_string()));
    } else {
        row.extend(cells.iter().map(|&v| ms(v)));
    }
    row
}

pub(super) fn tables(outcome: &Outcome, s: &Summary) -> Vec<Table> {
    let r = &s.run;
    let functions = s.functions.len();
    let mut run = vec![
        (
            "trace".to_string(),
            format!(
                "{} ({} rows{}, {} function{}, {} window)",
                r.trace,
                thousands(r.trace_rows),
                if r.rows_skipped > 0 {
                    format!(", {} skipped", thousands(r.rows_skipped))
                } else {
                    String::new()
                },
                thousands(functions as u64),
                if functions == 1 { "" } else { "s" },
                window(s.window_s),
            ),
        ),
        (
            "memory".to_string(),
            if r.memory_sizes_mb.len() > 1 {
                let sizes: Vec<String> = r.memory_sizes_mb.iter().map(|m| m.to_string()).collect();
                format!("{} MB", sizes.join(", "))
            } else {
                format!(
                    "{} MB",
                    r.memory_sizes_mb.first().copied().unwrap_or(r.memory_mb)
                )
            },
        ),
        (
            "per-instance concurrency".into(),
            r.per_instance_concurrency.to_string(),
        ),
        ("provisioned per function".into(), r.provisioned.to_string()),
        ("keep-alive".into(), r.keep_alive.clone()),
        ("init".into(), r.init.clone()),
        ("seed".into(), r.seed.to_string()),
    ];
    if let Some(bill) = &s.cost {
        run.push((
            "offering".into(),
            format!("{} ({}, {})", bill.offering, bill.provider, bill.region),
        ));
    }
    let mut out = vec![Table::key_value("Run", run)];

    let c = &s.concurrency;
    let mut results = vec![
        ("requests".to_string(), thousands(s.invocations)),
        (
            "cold starts".into(),
            count_ratio(s.cold_starts, s.invocations),
        ),
        ("throttled".into(), count_ratio(s.throttled, s.invocations)),
        ("dead-lettered".into(), thousands(s.dead_lettered)),
        ("instances started".into(), thousands(s.instances_started)),
        (
            "peak busy instances".into(),
            thousands(u64::from(c.peak_busy)),
        ),
        ("mean busy instances".into(), fixed(c.mean_busy, 2)),
        ("mean alive instances".into(), fixed(c.mean_alive, 2)),
    ];
    if let Some(bill) = &s.cost {
        results.push(("monthly cost".into(), usd(bill.monthly_usd)));
    }
    out.push(Table::key_value("Results", results));

    let mut lat = Table::new(
        "Latency (ms)",
        &[
            ("requests", Align::Left),
            ("count", Align::Right),
            ("mean", Align::Right),
            ("p50", Align::Right),
            ("p95", Align::Right),
            ("p99", Align::Right),
            ("p99.9", Align::Right),
            ("max", Align::Right),
        ],
    );
    lat.row(latency_row("all", outcome.latency.count(), &s.latency_ms));
    let warm = Percentiles::from_latency(&outcome.latency_warm);
    let cold = Percentiles::from_latency(&outcome.latency_cold);
    lat.row(latency_row(
        "warm starts",
        outcome.latency_warm.count(),
        &warm,
    ));
    lat.row(latency_row(
        "cold starts",
        outcome.latency_cold.count(),
        &cold,
    ));
    lat.row(latency_row("init wait", outcome.init.count(), &s.init_ms));
    out.push(lat.with_note(
        "End-to-end latency of served requests (wait, init and duration); init wait is the part \
         of a cold start spent initialising.",
    ));

    let i = &s.instance_seconds;
    let mut inst = Table::new(
        "Instance-seconds",
        &[
            ("", Align::Left),
            ("busy", Align::Right),
            ("idle", Align::Right),
            ("init", Align::Right),
        ],
    );
    inst.row(vec![
        "on-demand".into(),
        fixed(i.on_demand_busy, 0),
        fixed(i.on_demand_idle, 0),
        fixed(i.on_demand_init, 0),
    ]);
    inst.row(vec![
        "provisioned".into(),
        fixed(i.provisioned_busy, 0),
        fixed(i.provisioned_idle, 0),
        "–".into(),
    ]);
    out.push(inst);

    if let Some(bill) = &s.cost {
        let mut t = Table::new(
            format!("Bill: {}", bill.offering),
            &[
                ("item", Align::Left),
                ("monthly quantity", Align::Right),
                ("unit", Align::Left),
                ("rate (USD)", Align::Right),
                ("USD / month", Align::Right),
            ],
        );
        for l in &bill.lines {
            t.row(vec![
                l.item.clone(),
                sig(l.monthly_quantity),
                l.unit.clone(),
                sig(l.rate_usd),
                usd(l.monthly_usd),
            ]);
        }
        t.row(vec![
            "total".into(),
            String::new(),
            String::new(),
            String::new(),
            usd(bill.monthly_usd),
        ]);
        let mut note = "A 730-hour month whose traffic repeats the simulated window.".to_string();
        for n in &bill.notes {
            note.push(' ');
            note.push_str(n);
            if !n.ends_with('.') {
                note.push('.');
            }
        }
        out.push(t.with_note(note));
    }

    if functions > 1 {
        let mut t = Table::new(
            "Functions with the most cold starts",
            &[
                ("function", Align::Left),
                ("requests", Align::Right),
                ("cold starts", Align::Right),
                ("cold-start ratio", Align::Right),
                ("throttled", Align::Right),
                ("peak busy", Align::Right),
            ],
        );
        let mut fs: Vec<_> = s.functions.iter().collect();
        fs.sort_by(|a, b| {
            b.cold_starts
                .cmp(&a.cold_starts)
                .then(b.invocations.cmp(&a.invocations))
                .then(a.name.cmp(&b.name))
        });
        for f in fs.iter().take(TOP_FUNCTIONS) {
            t.row(vec![
                f.name.clone(),
                thousands(f.invocations),
                thousands(f.cold_starts),
                percent(f.cold_start_ratio),
                thousands(f.throttled),
                f.peak_busy.to_string(),
            ]);
        }
        if functions > TOP_FUNCTIONS {
            t.note = format!(
                "{} more functions not shown; `--format json` lists every function.",
                functions - TOP_FUNCTIONS
            );
        }
        out.push(t);
    }
    out
}

/// The itemised bill as a table (the Markdown export of `simulate --offering`).
pub fn bill_table(b: &crate::cost::Bill) -> Table {
    let mut t = Table::new(
        format!(
            "Bill: {} ({}), free tier {}",
            b.offering,
            b.region,
            if b.free_tier_applied {
                "applied"
            } else {
                "not applied"
            }
        ),
        &[
            ("item", Align::Left),
            ("window quantity", Align::Right),
            ("unit", Align::Left),
            ("USD per unit", Align::Right),
            ("window", Align::Right),
            ("month (730 h)", Align::Right),
        ],
    );
    for l in &b.lines {
        t.row(vec![
            l.item.clone(),
            sig(l.quantity),
            l.unit.clone(),
            format!("{}", l.rate_usd),
            usd(l.amount_usd),
            usd(l.monthly_usd),
        ]);
    }
    t.row(vec![
        "total".into(),
        String::new(),
        String::new(),
        String::new(),
        usd(b.window_usd),
        usd(b.monthly_usd),
    ]);
    t.with_note(b.notes.join(" "))
}
