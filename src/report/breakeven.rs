//! The `breakeven` report: monthly cost against request rate for the FaaS offering and the server
//! fleet on log axes, with the crossing marked and labelled, and p99 latency against request rate.
//! The points and the crossing come from the breakeven command; nothing is interpolated here.

use super::fmt::upper_first;
use crate::export::page::Page;
use crate::plan::breakeven::Breakeven;
use plotters::prelude::*;

use super::fmt::{fixed, ms, sig, tick, usd, usd_tick};
use super::render::{
    self, Area, Axes, Axis, BLUE, DrawError, LABEL_SIZE, LabelPlacer, Marker, ORANGE, RED, Swatch,
    draw_empty, draw_marker, entry, frame, place_label,
};
use super::{Align, Document, ReportError, ReportTarget, Table, Written, check_finite};

/// One traffic factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakevenPoint {
    /// The traffic scale factor.
    pub k: f64,
    /// Mean request rate of the scaled trace, requests per second.
    pub requests_per_s: f64,
    /// USD per 730-hour month.
    pub faas_monthly_usd: f64,
    /// USD per 730-hour month.
    pub fleet_monthly_usd: f64,
    /// p99 latency, ms (`None` when nothing was served).
    pub faas_p99_ms: Option<f64>,
    pub fleet_p99_ms: Option<f64>,
    /// Whether each option meets its SLO here; an infeasible one is never the cheaper.
    pub faas_feasible: bool,
    pub fleet_feasible: bool,
}

/// Where the cost curves cross.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakevenCrossing {
    pub k: f64,
    /// Requests per second.
    pub requests_per_s: f64,
    /// USD per month, both sides.
    pub monthly_usd: f64,
}

/// Everything the breakeven report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakevenPage {
    /// The trace, e.g. its path; the report's subtitle.
    pub subtitle: String,
    /// The FaaS offering's name.
    pub faas: String,
    /// The fleet's name (its spec).
    pub fleet: String,
    /// By increasing `k`.
    pub points: Vec<BreakevenPoint>,
    pub crossing: Option<BreakevenCrossing>,
    /// Sentences shown under the table (the verdict when there is no crossing, the SLO used).
    pub notes: Vec<String>,
    /// The breakeven's warnings, in a box at the top.
    pub warnings: Vec<String>,
}

impl BreakevenPage {
    fn validate(&self) -> Result<(), ReportError> {
        for (i, p) in self.points.iter().enumerate() {
            let what = format!("point {i}");
            check_finite(
                "breakeven.png",
                &what,
                &[
                    p.k,
                    p.requests_per_s,
                    p.faas_monthly_usd,
                    p.fleet_monthly_usd,
                ],
            )?;
            let p99: Vec<f64> = p
                .faas_p99_ms
                .iter()
                .chain(&p.fleet_p99_ms)
                .copied()
                .collect();
            check_finite("latency.png", &what, &p99)?;
        }
        if let Some(c) = &self.crossing {
            check_finite(
                "breakeven.png",
                "crossing",
                &[c.k, c.requests_per_s, c.monthly_usd],
            )?;
        }
        Ok(())
    }

    /// The page's tables, notes and warnings, for the text exporters (`--format markdown`).
    pub fn page(&self) -> Page {
        let mut notes = vec![self.crossing_text()];
        notes.extend(self.notes.iter().cloned());
        Page {
            title: "faasplan breakeven".into(),
            subtitle: self.subtitle.clone(),
            warnings: self.warnings.clone(),
            tables: vec![self.table()],
            notes,
        }
    }

    fn table(&self) -> Table {
        let mut t = Table::new(
            "Cost and latency by traffic",
            &[
                ("k", Align::Right),
                ("requests/s", Align::Right),
                ("FaaS USD / month", Align::Right),
                ("fleet USD / month", Align::Right),
                ("FaaS p99 ms", Align::Right),
                ("fleet p99 ms", Align::Right),
                ("cheaper", Align::Left),
            ],
        );
        let opt = |v: Option<f64>| v.map_or_else(|| "–".to_string(), ms);
        for p in &self.points {
            let cheaper = match (p.faas_feasible, p.fleet_feasible) {
                (false, false) => "neither meets its SLO",
                (true, false) => "FaaS (the fleet misses its SLO)",
                (false, true) => "fleet (FaaS misses its SLO)",
                _ if p.faas_monthly_usd < p.fleet_monthly_usd => "FaaS",
                _ if p.fleet_monthly_usd < p.faas_monthly_usd => "fleet",
                _ => "equal",
            };
            t.row(vec![
                sig(p.k),
                sig(p.requests_per_s),
                usd(p.faas_monthly_usd),
                usd(p.fleet_monthly_usd),
                opt(p.faas_p99_ms),
                opt(p.fleet_p99_ms),
                cheaper.into(),
            ]);
        }
        t.note = format!("FaaS: {}. Fleet: {}.", self.faas, self.fleet);
        t
    }

    fn crossing_text(&self) -> String {
        match &self.crossing {
            Some(c) => format!(
                "The monthly costs cross at about {} requests/s (k = {}×), {} per month.",
                sig(c.requests_per_s),
                sig(c.k),
                usd(c.monthly_usd)
            ),
            None => "The monthly costs do not cross in the range of traffic simulated.".into(),
        }
    }
}

/// Writes the breakeven report into `target`.
pub fn write(page: &BreakevenPage, target: &ReportTarget) -> Result<Written, ReportError> {
    page.validate()?;
    let mut doc = Document::new("faasplan breakeven", &page.subtitle);
    doc.warnings = page.warnings.clone();
    doc.text(page.crossing_text());
    doc.heading("Charts");
    doc.chart("breakeven.png", "Monthly cost against request rate", |a| {
        draw_cost(a, page)
    });
    if page
        .points
        .iter()
        .any(|p| p.faas_p99_ms.is_some() || p.fleet_p99_ms.is_some())
    {
        doc.chart("latency.png", "p99 latency against request rate", |a| {
            draw_latency(a, page)
        });
    }
    doc.heading("Summary");
    doc.table(page.table());
    for n in &page.notes {
        doc.text(n.clone());
    }
    let hidden = page
        .points
        .iter()
        .filter(|p| p.faas_monthly_usd <= 0.0 || p.fleet_monthly_usd <= 0.0)
        .count();
    if hidden > 0 {
        doc.text(format!(
            "{hidden} point{} with a cost of $0 cannot be drawn on the log axis.",
            if hidden == 1 { "" } else { "s" }
        ));
    }
    target.write(&doc)
}

fn draw_cost(root: &Area, page: &BreakevenPage) -> Result<(), DrawError> {
    let mut legend = vec![
        entry(format!("FaaS: {}", page.faas), Swatch::Line(ORANGE)),
        entry(format!("fleet: {}", page.fleet), Swatch::Line(BLUE)),
    ];
    if let Some(c) = &page.crossing {
        legend.push(entry(
            format!("break-even: {} requests/s", sig(c.requests_per_s)),
            Swatch::Marker(Marker::Target, RED),
        ));
    }
    let shaded = [
        (
            "FaaS misses its SLO",
            ORANGE,
            infeasible_spans(page, |p| !p.faas_feasible),
        ),
        (
            "fleet misses its SLO",
            BLUE,
            infeasible_spans(page, |p| !p.fleet_feasible),
        ),
    ];
    for (label, c, spans) in &shaded {
        if !spans.is_empty() {
            legend.push(entry(*label, Swatch::Band(*c)));
        }
    }
    let area = frame(root, "Monthly cost against request rate", &legend)?;
    let pos = |v: f64| v > 0.0;
    let rates: Vec<f64> = page
        .points
        .iter()
        .map(|p| p.requests_per_s)
        .filter(|&v| pos(v))
        .collect();
    let costs: Vec<f64> = page
        .points
        .iter()
        .flat_map(|p| [p.faas_monthly_usd, p.fleet_monthly_usd])
        .filter(|&v| pos(v))
        .collect();
    if rates.is_empty() || costs.is_empty() {
        return draw_empty(
            &area,
            "No point with a positive request rate and cost to plot.",
        );
    }
    let (rlo, rhi) = min_max(&rates);
    let (clo, chi) = min_max(&costs);
    let x = Axis::log(rlo, rhi, tick);
    let y = Axis::log(clo, chi, usd_tick);
    let mut chart = render::chart(
        &area,
        &Axes {
            x: &x,
            y: &y,
            x_desc: "mean request rate (requests/s, log scale)",
            y_desc: "USD per month (730 h, log scale)",
        },
    )?;
    // Shade, behind the curves, the rates at which an option misses its SLO: from halfway to the
    // previous factor to halfway to the next (in log space).
    for (_, c, spans) in &shaded {
        for &(lo, hi) in spans {
            let xl = lo.map_or(x.range.start, |v| x.clamp(x.map(v)));
            let xh = hi.map_or(x.range.end, |v| x.clamp(x.map(v)));
            chart.draw_series(std::iter::once(Rectangle::new(
                [(xl, y.range.start), (xh, y.range.end)],
                c.mix(0.15).filled(),
            )))?;
        }
    }
    let series = |f: fn(&BreakevenPoint) -> f64| -> Vec<(f64, f64)> {
        page.points
            .iter()
            .filter(|p| pos(p.requests_per_s) && pos(f(p)))
            .map(|p| (x.map(p.requests_per_s), y.map(f(p))))
            .collect()
    };
    let lines = [
        (series(|p| p.faas_monthly_usd), ORANGE),
        (series(|p| p.fleet_monthly_usd), BLUE),
    ];
    for (pts, c) in &lines {
        chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(3)))?;
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 5, c.filled())))?;
    }
    if let Some(c) = &page.crossing
        && pos(c.requests_per_s)
        && pos(c.monthly_usd)
    {
        let cx = x.clamp(x.map(c.requests_per_s));
        let cy = y.clamp(y.map(c.monthly_usd));
        chart.draw_series(DashedLineSeries::new(
            vec![(cx, y.range.start), (cx, cy)],
            10,
            8,
            RED.stroke_width(2),
        ))?;
        let plot = chart.plotting_area();
        let (xr, yr) = plot.get_pixel_range();
        let strip = plot.strip_coord_spec();
        let p = plot.map_coordinate(&(cx, cy));
        let p = (p.0 - xr.start, p.1 - yr.start);
        draw_marker(&strip, Marker::Target, p, RED)?;
        let mut placer = LabelPlacer::new((0, 0, xr.end - xr.start, yr.end - yr.start));
        placer.reserve((p.0 - 16, p.1 - 16, p.0 + 16, p.1 + 16));
        // The label must not cover either cost curve or the guide line.
        for (pts, _) in &lines {
            let px: Vec<(i32, i32)> = pts
                .iter()
                .map(|q| {
                    let b = plot.map_coordinate(q);
                    (b.0 - xr.start, b.1 - yr.start)
                })
                .collect();
            placer.reserve_path(&px);
        }
        placer.reserve_path(&[(p.0, p.1), (p.0, yr.end - yr.start)]);
        let label = format!(
            "break-even ≈ {} req/s (k = {}×), {}/month",
            sig(c.requests_per_s),
            fixed(c.k, 2),
            usd(c.monthly_usd)
        );
        place_label(&strip, &mut placer, &label, p, 16, LABEL_SIZE + 2, &RED)?;
    }
    Ok(())
}

fn draw_latency(root: &Area, page: &BreakevenPage) -> Result<(), DrawError> {
    let legend = vec![
        entry(format!("FaaS: {}", page.faas), Swatch::Line(ORANGE)),
        entry(format!("fleet: {}", page.fleet), Swatch::Line(BLUE)),
    ];
    let area = frame(root, "p99 latency against request rate", &legend)?;
    let rates: Vec<f64> = page
        .points
        .iter()
        .map(|p| p.requests_per_s)
        .filter(|&v| v > 0.0)
        .collect();
    let lat: Vec<f64> = page
        .points
        .iter()
        .flat_map(|p| p.faas_p99_ms.into_iter().chain(p.fleet_p99_ms))
        .filter(|&v| v > 0.0)
        .collect();
    if rates.is_empty() || lat.is_empty() {
        return draw_empty(&area, "No latency to plot.");
    }
    let (rlo, rhi) = min_max(&rates);
    let (llo, lhi) = min_max(&lat);
    let x = Axis::log(rlo, rhi, tick);
    let y = if render::wants_log(llo, lhi, 30.0) {
        Axis::log(llo, lhi, tick)
    } else {
        Axis::zero_to(lhi, tick)
    };
    let y_desc = if y.log {
        "p99 latency (ms, log scale)"
    } else {
        "p99 latency (ms)"
    };
    let mut chart = render::chart(
        &area,
        &Axes {
            x: &x,
            y: &y,
            x_desc: "mean request rate (requests/s, log scale)",
            y_desc,
        },
    )?;
    let series = |f: fn(&BreakevenPoint) -> Option<f64>| -> Vec<(f64, f64)> {
        page.points
            .iter()
            .filter(|p| p.requests_per_s > 0.0)
            .filter_map(|p| f(p).filter(|&v| v > 0.0).map(|v| (p.requests_per_s, v)))
            .map(|(r, v)| (x.map(r), y.map(v)))
            .collect()
    };
    for (pts, c) in [
        (series(|p| p.faas_p99_ms), ORANGE),
        (series(|p| p.fleet_p99_ms), BLUE),
    ] {
        chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(3)))?;
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 5, c.filled())))?;
    }
    Ok(())
}

/// The request-rate spans over which `bad` holds, as (from, to) rates: the geometric midpoints
/// to the neighbouring factors, `None` at the ends of the range. Points with a rate <= 0 (not
/// drawable on the log axis) are skipped.
fn infeasible_spans(
    page: &BreakevenPage,
    bad: impl Fn(&BreakevenPoint) -> bool,
) -> Vec<(Option<f64>, Option<f64>)> {
    let pts: Vec<&BreakevenPoint> = page
        .points
        .iter()
        .filter(|p| p.requests_per_s > 0.0)
        .collect();
    let mid = |a: &BreakevenPoint, b: &BreakevenPoint| (a.requests_per_s * b.requests_per_s).sqrt();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < pts.len() {
        if !bad(pts[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < pts.len() && bad(pts[i + 1]) {
            i += 1;
        }
        let lo = (start > 0).then(|| mid(pts[start - 1], pts[start]));
        let hi = (i + 1 < pts.len()).then(|| mid(pts[i], pts[i + 1]));
        spans.push((lo, hi));
        i += 1;
    }
    spans
}

fn min_max(xs: &[f64]) -> (f64, f64) {
    xs.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

/// `faasplan breakeven`'s table and crossing as a report page.
impl From<&Breakeven> for BreakevenPage {
    fn from(b: &Breakeven) -> BreakevenPage {
        let served = |ms: f64| (ms > 0.0).then_some(ms);
        let mut notes = vec![b.verdict.clone()];
        if let Some(slo) = &b.fleet_slo {
            notes.push(format!("{}.", upper_first(slo)));
        }
        if !b.slo.is_empty() {
            notes.push(format!("Both options must meet: {}.", b.slo.join(", ")));
        }
        notes.extend(b.notes.iter().cloned());
        BreakevenPage {
            subtitle: b.trace.clone(),
            faas: b.offering.clone(),
            fleet: b.fleet.clone(),
            points: b
                .points
                .iter()
                .map(|p| BreakevenPoint {
                    k: p.k,
                    requests_per_s: p.requests_per_s,
                    faas_monthly_usd: p.faas_monthly_usd,
                    fleet_monthly_usd: p.fleet_monthly_usd,
                    faas_p99_ms: served(p.faas_p99_ms),
                    fleet_p99_ms: served(p.fleet_p99_ms),
                    faas_feasible: p.faas_feasible,
                    fleet_feasible: p.fleet_feasible,
                })
                .collect(),
            crossing: b.crossing.as_ref().map(|c| BreakevenCrossing {
                k: c.k,
                requests_per_s: c.requests_per_s,
                monthly_usd: c.monthly_usd,
            }),
            notes: notes.into_iter().filter(|n| !n.is_empty()).collect(),
            warnings: b.warnings.clone(),
        }
    }
}
