//! The comparison report (`compare`, or `simulate` with several `--offering`s): the monthly cost
//! of each option as stacked bars of its bill's line items, and p50/p95/p99 latency per option.
//! Build a [`ComparePage`] from the options' bills and latencies (`CompareEntry::from_summary`
//! for a FaaS run, `CompareEntry::from_fleet` for a server fleet), then [`write()`] it.

use super::fmt::upper_first;
use crate::export::page::Page;
use crate::plan::compare::{CompareOption, Comparison};
use plotters::prelude::*;

use super::fmt::{ms, shorten, sig, thousands, usd, usd_tick};
use super::render::{
    self, Area, Axes, Axis, BLUE, DrawError, GREY, INK, LABEL_SIZE, LIGHT_BLUE, PALE_BLUE, RED,
    Swatch, draw_empty, entry, frame, label_right_of, palette,
};
use super::{Align, Document, ReportError, ReportTarget, Table, Written, check_finite};
use crate::export::summary::Summary;
use crate::outcome::fleet::FleetOutcome;
use crate::servers::FleetBill;

/// Latency quantiles of an option, milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyMs {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// One option of a comparison: an offering or a server fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareEntry {
    pub name: String,
    /// `faas` or `fleet`.
    pub kind: String,
    /// The monthly bill by line item: (item, USD per 730-hour month), each >= 0.
    pub cost_items: Vec<(String, f64)>,
    /// Requests in the simulated window (for the cost per million requests).
    pub requests: u64,
    /// The simulated window, seconds.
    pub window_s: f64,
    /// `None` when no request was served.
    pub latency_ms: Option<LatencyMs>,
    /// More table columns: (header, formatted value). Options may have different ones; the
    /// table shows their union, in first-seen order.
    pub columns: Vec<(String, String)>,
}

impl CompareEntry {
    /// The monthly total, USD.
    pub fn monthly_usd(&self) -> f64 {
        self.cost_items.iter().map(|(_, v)| v).sum()
    }

    /// A FaaS run priced on an offering (`summary.cost` set; without it the cost is empty).
    pub fn from_summary(name: impl Into<String>, s: &Summary) -> CompareEntry {
        let cost_items = s.cost.as_ref().map_or_else(Vec::new, |b| {
            b.lines
                .iter()
                .map(|l| (l.item.clone(), l.monthly_usd.max(0.0)))
                .collect()
        });
        let served = s.warm_starts + s.cold_starts;
        let mut e = CompareEntry {
            name: name.into(),
            kind: "faas".into(),
            cost_items,
            requests: s.invocations,
            window_s: s.window_s,
            latency_ms: (served > 0).then_some(LatencyMs {
                p50: s.latency_ms.p50,
                p95: s.latency_ms.p95,
                p99: s.latency_ms.p99,
            }),
            columns: vec![
                (
                    "cold starts".into(),
                    format!(
                        "{} ({} %)",
                        thousands(s.cold_starts),
                        sig(s.cold_start_ratio * 100.0)
                    ),
                ),
                (
                    "throttled / rejected".into(),
                    thousands(s.throttled + s.dead_lettered),
                ),
                (
                    "mean instances".into(),
                    format!("{:.2}", s.concurrency.mean_alive),
                ),
            ],
        };
        if let Some(c) = &s.cpu {
            e.columns
                .push(("CPU".into(), cpu_column(c.utilisation, c.vcpu_per_instance)));
        }
        e
    }

    /// A server fleet and its bill.
    pub fn from_fleet(name: impl Into<String>, o: &FleetOutcome, bill: &FleetBill) -> CompareEntry {
        let q = |p: f64| o.latency.quantile_us(p) as f64 / 1e3;
        let mut e = CompareEntry {
            name: name.into(),
            kind: "fleet".into(),
            cost_items: fleet_cost_items(bill),
            requests: o.invocations,
            window_s: o.window_us as f64 / 1e6,
            latency_ms: (o.served > 0).then(|| LatencyMs {
                p50: q(0.50),
                p95: q(0.95),
                p99: q(0.99),
            }),
            columns: vec![
                ("boot events".into(), thousands(o.boot_events)),
                ("throttled / rejected".into(), thousands(o.rejected)),
                (
                    "mean instances".into(),
                    format!("{:.2}", o.mean_instances()),
                ),
                (
                    "utilisation".into(),
                    format!("{} %", sig(o.utilisation() * 100.0)),
                ),
            ],
        };
        if let Some(u) = o.cpu_utilisation() {
            e.columns.push(("CPU".into(), cpu_column(u, o.vcpus)));
        }
        e
    }
}

/// The CPU column: utilisation of the vCPUs an instance (or server) has while it is up
/// (instances: while serving).
fn cpu_column(utilisation: f64, vcpus: f64) -> String {
    format!("{} % of {} vCPU", sig(utilisation * 100.0), sig(vcpus))
}

/// A fleet bill as monthly line items. A commitment discount is folded into the instance-hours
/// item (a stacked bar cannot show a negative part).
pub fn fleet_cost_items(bill: &FleetBill) -> Vec<(String, f64)> {
    let item = if bill.discount_pct > 0.0 {
        format!(
            "{} instance-hours, less {} % commitment",
            bill.instance_type,
            sig(bill.discount_pct)
        )
    } else {
        format!("{} instance-hours", bill.instance_type)
    };
    // The window's lines scaled to the month, as the bill's total is.
    let to_month = if bill.window_usd > 0.0 {
        bill.monthly_usd / bill.window_usd
    } else {
        0.0
    };
    let lb: f64 = bill
        .lines
        .iter()
        .filter(|l| l.item.starts_with("load balancer"))
        .map(|l| l.amount_usd * to_month)
        .sum();
    let mut items = vec![(item, (bill.monthly_usd - lb).max(0.0))];
    if lb > 0.0 {
        items.push(("load balancer (ALB)".to_string(), lb));
    }
    items
}

/// Everything the comparison report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparePage {
    /// What was compared, e.g. the trace path; the report's subtitle.
    pub subtitle: String,
    /// In the order to show them (top to bottom).
    pub options: Vec<CompareEntry>,
    /// A p99 bound to draw on the latency chart: (label, ms), e.g. ("SLO p99 ≤ 240 ms", 240).
    pub slo_p99_ms: Option<(String, f64)>,
    /// Sentences shown under the table (the SLO used, caveats).
    pub notes: Vec<String>,
    /// The comparison's warnings, in a box at the top.
    pub warnings: Vec<String>,
}

impl ComparePage {
    /// `simulate --offering A --offering B`: one FaaS option per priced run.
    pub fn from_summaries(trace: &str, runs: &[Summary]) -> ComparePage {
        ComparePage {
            subtitle: trace.to_string(),
            options: runs
                .iter()
                .map(|s| {
                    let name = s
                        .cost
                        .as_ref()
                        .map_or_else(|| "unpriced".to_string(), |b| b.offering.clone());
                    CompareEntry::from_summary(name, s)
                })
                .collect(),
            slo_p99_ms: None,
            notes: vec![
                "Monthly cost: a 730-hour month whose traffic repeats the simulated window.".into(),
            ],
            warnings: crate::export::bill::comparison_warnings(runs),
        }
    }

    fn validate(&self) -> Result<(), ReportError> {
        for o in &self.options {
            let values: Vec<f64> = o.cost_items.iter().map(|(_, v)| *v).collect();
            check_finite("cost.png", &o.name, &values)?;
            if let Some((item, v)) = o.cost_items.iter().find(|(_, v)| *v < 0.0) {
                return Err(ReportError::chart(
                    "cost.png",
                    format!(
                        "{}: line item {item:?} is negative ({v}); stacked bars need parts >= 0",
                        o.name
                    ),
                ));
            }
            if let Some(l) = &o.latency_ms {
                check_finite("latency.png", &o.name, &[l.p50, l.p95, l.p99])?;
            }
        }
        if let Some((_, v)) = &self.slo_p99_ms {
            check_finite("latency.png", "SLO", &[*v])?;
        }
        Ok(())
    }

    /// The page's tables, notes and warnings, for the text exporters (`--format markdown`).
    pub fn page(&self) -> Page {
        Page {
            title: "faasplan compare".into(),
            subtitle: self.subtitle.clone(),
            warnings: self.warnings.clone(),
            tables: vec![self.table()],
            notes: self.notes.clone(),
        }
    }

    fn table(&self) -> Table {
        let mut extra: Vec<String> = Vec::new();
        for o in &self.options {
            for (h, _) in &o.columns {
                if !extra.contains(h) {
                    extra.push(h.clone());
                }
            }
        }
        let mut cols: Vec<(&str, Align)> = vec![
            ("option", Align::Left),
            ("kind", Align::Left),
            ("USD / month", Align::Right),
            ("USD / M requests", Align::Right),
            ("p50 ms", Align::Right),
            ("p95 ms", Align::Right),
            ("p99 ms", Align::Right),
        ];
        cols.extend(extra.iter().map(|h| (h.as_str(), Align::Right)));
        let mut t = Table::new("Options", &cols);
        for o in &self.options {
            let total = o.monthly_usd();
            let per_m = if o.requests == 0 || o.window_s <= 0.0 {
                "–".to_string()
            } else {
                // The window's share of the month's bill per million of the window's requests.
                let window_usd = total * o.window_s / (crate::servers::MONTH_HOURS * 3600.0);
                usd(window_usd / o.requests as f64 * 1e6)
            };
            let mut row = vec![o.name.clone(), o.kind.clone(), usd(total), per_m];
            match &o.latency_ms {
                Some(l) => row.extend([ms(l.p50), ms(l.p95), ms(l.p99)]),
                None => row.extend(["–".to_string(), "–".into(), "–".into()]),
            }
            for h in &extra {
                row.push(
                    o.columns
                        .iter()
                        .find(|(c, _)| c == h)
                        .map_or_else(String::new, |(_, v)| v.clone()),
                );
            }
            t.row(row);
        }
        t
    }
}

/// Writes the comparison report into `target`.
pub fn write(page: &ComparePage, target: &ReportTarget) -> Result<Written, ReportError> {
    page.validate()?;
    let mut doc = Document::new("faasplan compare", &page.subtitle);
    doc.warnings = page.warnings.clone();
    doc.heading("Charts");
    doc.chart("cost.png", "Monthly cost per option", |a| {
        draw_cost(a, page)
    });
    doc.chart("latency.png", "Latency per option", |a| {
        draw_latency(a, page)
    });
    doc.heading("Summary");
    doc.table(page.table());
    for n in &page.notes {
        doc.text(n.clone());
    }
    target.write(&doc)
}

/// The category axis: option `i` at the top for `i = 0`.
fn option_axis(page: &ComparePage) -> Axis {
    let n = page.options.len();
    let names: Vec<String> = page.options.iter().map(|o| shorten(&o.name, 40)).collect();
    let mut y = Axis::linear(-0.6..(n as f64 - 0.4), move |v| {
        let r = v.round();
        if r >= 0.0 && (r as usize) < n {
            names[n - 1 - r as usize].clone()
        } else {
            String::new()
        }
    });
    y.ticks = (0..n).map(|i| i as f64).collect();
    y
}

fn row(n: usize, i: usize) -> f64 {
    (n - 1 - i) as f64
}

fn draw_cost(root: &Area, page: &ComparePage) -> Result<(), DrawError> {
    let mut items: Vec<&str> = Vec::new();
    for o in &page.options {
        for (item, _) in &o.cost_items {
            if !items.contains(&item.as_str()) {
                items.push(item);
            }
        }
    }
    let legend: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(i, it)| entry(*it, Swatch::Bar(palette(i))))
        .collect();
    let area = frame(root, "Monthly cost per option", &legend)?;
    let n = page.options.len();
    if n == 0 {
        return draw_empty(&area, "No option to compare.");
    }
    let max = page
        .options
        .iter()
        .map(CompareEntry::monthly_usd)
        .fold(0.0, f64::max);
    // Head room on the right for the totals.
    let x = Axis::zero_to(max.max(1e-6) * 1.22, usd_tick);
    let y = option_axis(page);
    let mut chart = render::chart(
        &area,
        &Axes {
            x: &x,
            y: &y,
            x_desc: "USD per month (730 h)",
            y_desc: "option",
        },
    )?;
    for (i, o) in page.options.iter().enumerate() {
        let yc = row(n, i);
        let mut start = 0.0;
        for (item, v) in &o.cost_items {
            let k = items.iter().position(|it| it == item).unwrap_or(0);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(start, yc - 0.3), (start + v, yc + 0.3)],
                palette(k).filled(),
            )))?;
            start += v;
        }
    }
    let plot = chart.plotting_area();
    let (xr, yr) = plot.get_pixel_range();
    let strip = plot.strip_coord_spec();
    for (i, o) in page.options.iter().enumerate() {
        let p = plot.map_coordinate(&(o.monthly_usd(), row(n, i)));
        label_right_of(
            &strip,
            &usd(o.monthly_usd()),
            (p.0 - xr.start + 10, p.1 - yr.start),
            LABEL_SIZE,
            &INK,
        )?;
    }
    Ok(())
}

fn draw_latency(root: &Area, page: &ComparePage) -> Result<(), DrawError> {
    let mut legend = vec![
        entry("p50", Swatch::Bar(PALE_BLUE)),
        entry("p95", Swatch::Bar(LIGHT_BLUE)),
        entry("p99 (labelled)", Swatch::Bar(BLUE)),
    ];
    if let Some((label, _)) = &page.slo_p99_ms {
        legend.push(entry(label.clone(), Swatch::Dashed(RED)));
    }
    let area = frame(root, "Latency per option", &legend)?;
    let n = page.options.len();
    let max = page
        .options
        .iter()
        .filter_map(|o| o.latency_ms.map(|l| l.p99.max(l.p95).max(l.p50)))
        .chain(page.slo_p99_ms.iter().map(|s| s.1))
        .fold(0.0, f64::max);
    if n == 0 || max <= 0.0 {
        return draw_empty(
            &area,
            "No option served a request: there is no latency to plot.",
        );
    }
    let x = Axis::zero_to(max * 1.2, super::fmt::tick);
    let y = option_axis(page);
    let mut chart = render::chart(
        &area,
        &Axes {
            x: &x,
            y: &y,
            x_desc: "latency (ms)",
            y_desc: "option",
        },
    )?;
    let colours = [PALE_BLUE, LIGHT_BLUE, BLUE];
    for (i, o) in page.options.iter().enumerate() {
        let Some(l) = o.latency_ms else { continue };
        let yc = row(n, i);
        for (k, v) in [l.p50, l.p95, l.p99].into_iter().enumerate() {
            // p50 on top, p99 at the bottom of the option's band.
            let top = yc + 0.36 - k as f64 * 0.24;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, top - 0.22), (v, top)],
                colours[k].filled(),
            )))?;
        }
    }
    if let Some((_, v)) = &page.slo_p99_ms {
        chart.draw_series(DashedLineSeries::new(
            vec![(*v, y.range.start), (*v, y.range.end)],
            12,
            8,
            RED.stroke_width(3),
        ))?;
    }
    let plot = chart.plotting_area();
    let (xr, yr) = plot.get_pixel_range();
    let strip = plot.strip_coord_spec();
    for (i, o) in page.options.iter().enumerate() {
        let yc = row(n, i);
        let (at, label, colour) = match o.latency_ms {
            Some(l) => (
                (l.p99, yc + 0.36 - 2.0 * 0.24 - 0.11),
                format!("p99 {} ms", ms(l.p99)),
                INK,
            ),
            None => ((0.0, yc), "no request served".to_string(), GREY),
        };
        let p = plot.map_coordinate(&at);
        label_right_of(
            &strip,
            &label,
            (p.0 - xr.start + 10, p.1 - yr.start),
            LABEL_SIZE,
            &colour,
        )?;
    }
    Ok(())
}
/// "ok", or "misses p99<=300ms (is 912)".
pub(crate) fn feasibility(feasible: bool, failed: &[String]) -> String {
    if feasible {
        "ok".into()
    } else {
        format!("misses {}", failed.join(", "))
    }
}

/// `faasplan compare`'s options as a report page. The fleet SLO's p99 bound is not in the
/// comparison; set `slo_p99_ms` to draw it.
impl From<&Comparison> for ComparePage {
    fn from(c: &Comparison) -> ComparePage {
        let options = c
            .options
            .iter()
            .map(|o| match o {
                CompareOption::Faas(f) => {
                    let mut e = CompareEntry::from_summary(f.name.clone(), &f.summary);
                    e.columns
                        .push(("SLO".into(), feasibility(f.feasible, &f.failed)));
                    e
                }
                CompareOption::Fleet(f) => {
                    let mut e = CompareEntry {
                        name: f.name.clone(),
                        kind: "fleet".into(),
                        cost_items: fleet_cost_items(&f.cost),
                        requests: f.invocations,
                        window_s: f.window_s,
                        latency_ms: (f.served > 0).then_some(LatencyMs {
                            p50: f.latency_ms.p50,
                            p95: f.latency_ms.p95,
                            p99: f.latency_ms.p99,
                        }),
                        columns: vec![
                            ("boot events".into(), thousands(f.boot_events)),
                            ("throttled / rejected".into(), thousands(f.rejected)),
                            ("mean instances".into(), format!("{:.2}", f.instances.mean)),
                            (
                                "utilisation".into(),
                                format!("{} %", sig(f.utilisation * 100.0)),
                            ),
                            ("sizing".into(), f.sizing.clone()),
                            ("SLO".into(), feasibility(f.feasible, &f.failed)),
                        ],
                    };
                    if let Some(c) = &f.cpu {
                        e.columns.push((
                            "CPU".into(),
                            cpu_column(c.utilisation, c.vcpus_per_instance),
                        ));
                    }
                    e
                }
            })
            .collect();
        let mut notes = vec![
            format!("{}.", upper_first(&c.recommendation)),
            "Monthly cost: a 730-hour month whose traffic repeats the simulated window.".into(),
        ];
        if !c.slo.is_empty() {
            notes.push(format!("Every option must meet: {}.", c.slo.join(", ")));
        }
        if let Some(slo) = &c.fleet_slo {
            notes.push(format!(
                "Fleets must meet (and fleets without a count are sized for): {slo}."
            ));
        }
        notes.extend(c.notes.iter().cloned());
        ComparePage {
            subtitle: c.trace.clone(),
            options,
            slo_p99_ms: None,
            notes,
            warnings: c.warnings.clone(),
        }
    }
}
