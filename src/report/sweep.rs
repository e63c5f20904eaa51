//! The `sweep` report: for each chosen metric (the cold-start ratio, p99 latency, ...), monthly
//! cost and that metric against the swept setting (provisioned concurrency) on two axes with
//! their replica confidence bands, the SLO as a line and the recommended point marked; then the
//! Pareto front of cost against the metric. Takes the sweep's [`PointResult`] rows as they are;
//! which rows are recommended and on the fronts is decided by `crate::sweep`, not here.

use crate::export::page::Page;
use crate::sweep::SweepResult;
use plotters::prelude::*;

use super::fmt::{plain, shorten, sig, tick, usd, usd_tick};
use super::render::{
    self, Area, Axes, Axis, BLUE, DrawError, GREEN, GREY, INK, LABEL_SIZE, LIGHT_GREY, LabelPlacer,
    Marker, ORANGE, PURPLE, RED, Swatch, draw_empty, draw_marker, entry, frame, palette,
    place_label_among, wants_log,
};
use super::{Align, Document, ReportError, ReportTarget, Table, Written};
use crate::sweep::memory::{COST_PER_INVOCATION, MemoryView};
use crate::sweep::{Estimate, Metric, PointResult, Slo};

/// A metric drawn against cost.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepMetric {
    /// The column in `PointResult::metrics`, e.g. `latency_ms_p99`.
    pub column: String,
    /// The axis label with its unit, e.g. `p99 latency (ms)`.
    pub label: String,
    /// A short name for legends, e.g. `p99 latency`.
    pub short: String,
    /// Column unit → axis unit (100 for a ratio shown in percent).
    pub scale: f64,
    /// Rows on the Pareto front of (cost, this metric), by increasing cost
    /// (`crate::sweep::pareto`).
    pub front: Vec<usize>,
}

impl SweepMetric {
    /// A named metric with the labels of [`crate::sweep::metric::METRICS`].
    pub fn for_metric(metric: Metric, front: Vec<usize>) -> SweepMetric {
        let info = metric.info();
        SweepMetric {
            column: info.column.to_string(),
            label: info.chart_label.to_string(),
            short: info.chart_short.to_string(),
            scale: info.scale,
            front,
        }
    }

    /// A column by name: a named metric's labels, else the column as it is.
    pub fn for_column(column: &str, front: Vec<usize>) -> SweepMetric {
        match Metric::of_column(column) {
            Some(m) => SweepMetric::for_metric(m, front),
            None => SweepMetric {
                column: column.to_string(),
                label: column.to_string(),
                short: column.to_string(),
                scale: 1.0,
                front,
            },
        }
    }
}

/// Everything the sweep report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPage {
    /// What was swept, e.g. the trace and offering; the report's subtitle.
    pub subtitle: String,
    /// The setting on the x axis: a name in `PointResult::settings`, e.g. `provisioned`.
    pub x_setting: String,
    /// Its axis label with unit, e.g. `provisioned concurrency (instances per function)`.
    pub x_label: String,
    /// The cost column, e.g. `cost_monthly_usd` (USD per month).
    pub cost_column: String,
    /// One cost-and-metric chart and one Pareto chart per metric.
    pub metrics: Vec<SweepMetric>,
    /// One row per grid point, in grid order.
    pub rows: Vec<PointResult>,
    pub slos: Vec<Slo>,
    /// The row `crate::sweep::cheapest_meeting` chose, if any.
    pub recommended: Option<usize>,
    /// With a memory axis, the Power Tuning view: a chart of cost per invocation and p99 against
    /// memory with the cheapest, fastest and balanced sizes marked.
    pub memory: Option<MemoryView>,
    /// Sentences shown under the table.
    pub notes: Vec<String>,
    /// The sweep's warnings, in a box at the top.
    pub warnings: Vec<String>,
}

/// Grid points that share every setting but `x_setting` form one series; at most this many are
/// drawn (the table has them all).
pub const MAX_SERIES: usize = 6;

/// One series: the rows (sorted by x) and its label (the other settings).
struct Series {
    label: String,
    rows: Vec<(usize, f64)>,
}

impl SweepPage {
    fn x_of(&self, r: &PointResult) -> Option<f64> {
        r.settings
            .iter()
            .find(|(n, _)| *n == self.x_setting)
            .map(|(_, v)| *v)
    }

    fn series(&self) -> Vec<Series> {
        let mut out: Vec<(Vec<(String, u64)>, Series)> = Vec::new();
        for (i, r) in self.rows.iter().enumerate() {
            let Some(x) = self.x_of(r) else { continue };
            let key: Vec<(String, u64)> = r
                .settings
                .iter()
                .filter(|(n, _)| *n != self.x_setting)
                .map(|(n, v)| (n.clone(), v.to_bits()))
                .collect();
            match out.iter_mut().find(|(k, _)| *k == key) {
                Some((_, s)) => s.rows.push((i, x)),
                None => {
                    let label = r
                        .settings
                        .iter()
                        .filter(|(n, _)| *n != self.x_setting)
                        .map(|(n, v)| format!("{n} = {}", plain(*v)))
                        .collect::<Vec<_>>()
                        .join(", ");
                    out.push((
                        key,
                        Series {
                            label,
                            rows: vec![(i, x)],
                        },
                    ));
                }
            }
        }
        let mut series: Vec<Series> = out.into_iter().map(|(_, s)| s).collect();
        for s in &mut series {
            s.rows.sort_by(|a, b| a.1.total_cmp(&b.1));
        }
        series
    }

    /// False when nothing was swept: one point, as configured, with no setting to chart.
    fn swept(&self) -> bool {
        self.rows.iter().any(|r| !r.settings.is_empty())
    }

    fn validate(&self) -> Result<(), ReportError> {
        let chart = "sweep charts";
        if self.swept()
            && let Some(r) = self.rows.iter().find(|r| self.x_of(r).is_none())
        {
            let names: Vec<&str> = r.settings.iter().map(|(n, _)| n.as_str()).collect();
            return Err(ReportError::chart(
                chart,
                format!(
                    "no setting {:?} to put on the x axis; the grid has: {}",
                    self.x_setting,
                    names.join(", ")
                ),
            ));
        }
        let mut columns = vec![self.cost_column.as_str()];
        columns.extend(self.metrics.iter().map(|m| m.column.as_str()));
        for (i, r) in self.rows.iter().enumerate() {
            for c in &columns {
                let e = r.metric(c).ok_or_else(|| {
                    ReportError::chart(chart, format!("grid point {i} has no column {c:?}"))
                })?;
                super::check_finite(chart, c, &[e.mean, e.ci_low, e.ci_high])?;
            }
            if let Some(x) = self.x_of(r) {
                super::check_finite(chart, &self.x_setting, &[x])?;
            }
        }
        for m in &self.metrics {
            if let Some(&bad) = m.front.iter().find(|&&i| i >= self.rows.len()) {
                return Err(ReportError::chart(
                    chart,
                    format!("front of {}: row {bad} does not exist", m.column),
                ));
            }
            super::check_finite(chart, &m.column, &[m.scale])?;
        }
        if let Some(i) = self.recommended
            && i >= self.rows.len()
        {
            return Err(ReportError::chart(
                chart,
                format!("recommended row {i} does not exist"),
            ));
        }
        Ok(())
    }

    fn cost(&self, i: usize) -> Estimate {
        self.rows[i]
            .metric(&self.cost_column)
            .copied()
            .unwrap_or(Estimate::of(&[]))
    }

    fn metric(&self, i: usize, m: &SweepMetric) -> Estimate {
        let e = self.rows[i]
            .metric(&m.column)
            .copied()
            .unwrap_or(Estimate::of(&[]));
        Estimate {
            mean: e.mean * m.scale,
            ci_low: e.ci_low * m.scale,
            ci_high: e.ci_high * m.scale,
            half_width: e.half_width * m.scale,
        }
    }

    /// `provisioned = 20` (and the other settings when there are several series).
    fn point_name(&self, i: usize) -> String {
        let r = &self.rows[i];
        if r.settings.is_empty() && r.keep_alive_policy.is_none() {
            return "the point as configured".into();
        }
        r.settings
            .iter()
            .map(|(n, v)| format!("{n} = {}", plain(*v)))
            .chain(
                r.keep_alive_policy
                    .iter()
                    .map(|k| format!("keep-alive {k}")),
            )
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn recommendation(&self) -> String {
        match self.recommended {
            Some(i) => {
                let c = self.cost(i);
                format!(
                    "Recommended: {}, {} per month (95 % CI {} to {}): the cheapest grid point whose \
                     CI upper bounds meet every SLO.",
                    self.point_name(i),
                    usd(c.mean),
                    usd(c.ci_low),
                    usd(c.ci_high)
                )
            }
            None if self.slos.is_empty() => "No SLO was given, so nothing is recommended.".into(),
            None => "No grid point meets every SLO.".into(),
        }
    }

    /// The page's tables, notes and warnings, for the text exporters (`--format markdown`).
    pub fn page(&self) -> Page {
        let mut notes = vec![self.recommendation()];
        notes.extend(self.notes.iter().cloned());
        Page {
            title: "faasplan sweep".into(),
            subtitle: self.subtitle.clone(),
            warnings: self.warnings.clone(),
            tables: vec![self.table()],
            notes,
        }
    }

    fn table(&self) -> Table {
        let mut names: Vec<String> = Vec::new();
        for r in &self.rows {
            for (n, _) in &r.settings {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
        let mut cols: Vec<(String, Align)> =
            names.iter().map(|n| (n.clone(), Align::Right)).collect();
        let policies = self.rows.iter().any(|r| r.keep_alive_policy.is_some());
        if policies {
            cols.push(("keep-alive policy".into(), Align::Left));
        }
        let no_axis = names.is_empty() && !policies;
        if no_axis {
            cols.push(("point".into(), Align::Left));
        }
        cols.push(("USD / month ± 95 % CI".into(), Align::Right));
        for m in &self.metrics {
            cols.push((format!("{} ± CI", m.label), Align::Right));
        }
        if !self.slos.is_empty() {
            cols.push(("meets SLOs".into(), Align::Left));
        }
        cols.push(("Pareto front".into(), Align::Left));
        let refs: Vec<(&str, Align)> = cols.iter().map(|(h, a)| (h.as_str(), *a)).collect();
        let mut t = Table::new("Grid points", &refs);
        for (i, r) in self.rows.iter().enumerate() {
            let mut row: Vec<String> = names
                .iter()
                .map(|n| {
                    r.settings
                        .iter()
                        .find(|(s, _)| s == n)
                        .map_or_else(String::new, |(_, v)| plain(*v))
                })
                .collect();
            if policies {
                row.push(r.keep_alive_policy.clone().unwrap_or_default());
            }
            if no_axis {
                row.push("as configured".into());
            }
            let c = self.cost(i);
            row.push(format!("{} ± {}", usd(c.mean), usd(c.half_width)));
            for m in &self.metrics {
                let e = self.metric(i, m);
                row.push(format!("{} ± {}", sig(e.mean), sig(e.half_width)));
            }
            if !self.slos.is_empty() {
                let mut s = if r.meets(&self.slos) { "yes" } else { "no" }.to_string();
                if self.recommended == Some(i) {
                    s.push_str(" (recommended)");
                }
                row.push(s);
            }
            let fronts: Vec<&str> = self
                .metrics
                .iter()
                .filter(|m| m.front.contains(&i))
                .map(|m| m.short.as_str())
                .collect();
            row.push(fronts.join(", "));
            t.row(row);
        }
        let replicas = self.rows.first().map_or(0, |r| r.replicas);
        let slos: Vec<&str> = self.slos.iter().map(|s| s.text.as_str()).collect();
        t.note = format!(
            "Mean over {replicas} replica{} with the 95 % confidence half-width (Student t). SLOs: \
             {}.",
            if replicas == 1 { "" } else { "s" },
            if slos.is_empty() {
                "none".to_string()
            } else {
                slos.join(", ")
            }
        );
        t
    }

    /// The SLO bound on `column`, if one is set (the tightest).
    fn slo_on(&self, column: &str) -> Option<&Slo> {
        self.slos
            .iter()
            .filter(|s| s.column == column)
            .min_by(|a, b| a.bound.total_cmp(&b.bound))
    }
}

/// File names of a metric's charts.
fn slug(column: &str) -> String {
    column
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Writes the sweep report into `target`.
pub fn write(page: &SweepPage, target: &ReportTarget) -> Result<Written, ReportError> {
    page.validate()?;
    let policies = super::keepalive::policy_points(&page.rows);
    let mut doc = Document::new("faasplan sweep", &page.subtitle);
    doc.warnings = page.warnings.clone();
    doc.text(page.recommendation());
    if let Some((points, x_desc)) = &policies {
        doc.heading("Keep-alive policies");
        let title = "Keep-alive policies: wasted memory against 3rd-quartile app cold starts";
        doc.chart("keep_alive_pareto.png", title.to_string(), move |a| {
            super::keepalive::draw(a, points, x_desc, title)
        });
    }
    if !page.swept() {
        if policies.is_none() {
            doc.text(
                "Nothing was swept: one point, as configured, so there is nothing to chart; the \
                 table has its numbers.",
            );
        }
        doc.heading("Summary");
        doc.table(page.table());
        for n in &page.notes {
            doc.text(n.clone());
        }
        return target.write(&doc);
    }
    doc.heading("Charts");
    let series = page.series();
    if series.len() > MAX_SERIES {
        doc.text(format!(
            "The charts show the first {MAX_SERIES} of {} combinations of the other settings; the \
             table has every grid point.",
            series.len()
        ));
    }
    // "provisioned concurrency (instances per function)" → "provisioned concurrency".
    let x_name = page
        .x_label
        .split(" (")
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(&page.x_setting)
        .to_string();
    for m in &page.metrics {
        let title = format!("Monthly cost and {} by {x_name}", m.short);
        let t = title.clone();
        let series = page.series();
        doc.chart(&format!("cost_{}.png", slug(&m.column)), title, move |a| {
            draw_cost_and_metric(a, page, m, &series, &t)
        });
        let title = format!("Pareto front: monthly cost against {}", m.short);
        let t = title.clone();
        doc.chart(
            &format!("pareto_{}.png", slug(&m.column)),
            title,
            move |a| draw_pareto(a, page, m, &t),
        );
    }
    if let Some(v) = &page.memory
        && page.x_setting == "memory_mb"
    {
        let title = "Power Tuning: cost per invocation and p99 latency by memory".to_string();
        let t = title.clone();
        let series = page.series();
        doc.chart("power_tuning.png", title, move |a| {
            draw_power_tuning(a, page, v, &series, &t)
        });
    }
    doc.heading("Summary");
    doc.table(page.table());
    for n in &page.notes {
        doc.text(n.clone());
    }
    target.write(&doc)
}

/// How each role of the Power Tuning view is marked.
fn role_style(role: &str) -> (Marker, RGBColor) {
    match role {
        "cheapest" => (Marker::Triangle, GREEN),
        "fastest" => (Marker::Diamond, PURPLE),
        "balanced" => (Marker::Circle, INK),
        _ => (Marker::Target, RED),
    }
}

/// Cost per million invocations (left) and p99 (right) against memory, one line pair per
/// combination of the other settings, with the view's points marked on the cost curve.
fn draw_power_tuning(
    root: &Area,
    page: &SweepPage,
    v: &MemoryView,
    series: &[Series],
    title: &str,
) -> Result<(), DrawError> {
    let shown = &series[..series.len().min(MAX_SERIES)];
    let per_million = |i: usize| {
        page.rows[i]
            .metric(COST_PER_INVOCATION)
            .map_or(f64::NAN, |e| e.mean * 1e6)
    };
    let p99 = |i: usize| {
        page.rows[i]
            .metric(Metric::LatencyP99.column())
            .map_or(f64::NAN, |e| e.mean)
    };
    let mut legend = vec![
        entry("USD per 1M invocations (left axis)", Swatch::Line(BLUE)),
        entry("p99 latency (right axis)", Swatch::Dashed(ORANGE)),
    ];
    for (i, role) in v.roles() {
        let (marker, colour) = role_style(role);
        legend.push(entry(
            format!(
                "{role}: {} ({}/1M, p99 {} ms)",
                page.point_name(i),
                usd(per_million(i)),
                sig(p99(i))
            ),
            Swatch::Marker(marker, colour),
        ));
    }
    let area = frame(root, title, &legend)?;
    let (rows, xs) = rows_and_xs(shown);
    if rows.is_empty() {
        return draw_empty(&area, "No grid point to plot.");
    }
    let (xlo, xhi) = min_max(&xs);
    let x = if wants_log(xlo, xhi, 8.0) {
        Axis::log(xlo, xhi, tick)
    } else {
        Axis::padded(xlo, xhi, tick)
    };
    let y = Axis::zero_to(
        rows.iter().map(|&i| per_million(i)).fold(0.0, f64::max),
        usd_tick,
    );
    let y2 = Axis::zero_to(rows.iter().map(|&i| p99(i)).fold(0.0, f64::max), tick);
    let mut chart = render::dual_chart(
        &area,
        &Axes {
            x: &x,
            y: &y,
            x_desc: &page.x_label,
            y_desc: "USD per 1M invocations",
        },
        &y2,
        "p99 latency (ms)",
    )?;
    for (k, s) in shown.iter().enumerate() {
        let (cc, mc) = if shown.len() == 1 {
            (BLUE, ORANGE)
        } else {
            (palette(k), palette(k))
        };
        let cpts: Vec<(f64, f64)> = s
            .rows
            .iter()
            .map(|&(i, xv)| (x.map(xv), per_million(i)))
            .collect();
        let mpts: Vec<(f64, f64)> = s.rows.iter().map(|&(i, xv)| (x.map(xv), p99(i))).collect();
        draw_pair(&mut chart, &cpts, &mpts, cc, mc)?;
    }
    let plot = chart.plotting_area();
    let (xr, yr) = plot.get_pixel_range();
    let strip = plot.strip_coord_spec();
    // Marks on the cost curve, offset sideways when several fall on one point.
    let mut seen: Vec<usize> = Vec::new();
    for (i, role) in v.roles() {
        let Some(xv) = page.x_of(&page.rows[i]) else {
            continue;
        };
        if !rows.contains(&i) {
            continue;
        }
        let p = plot.map_coordinate(&(x.map(xv), per_million(i)));
        let k = seen.iter().filter(|&&j| j == i).count() as i32;
        seen.push(i);
        let p = (p.0 - xr.start + k * 22, p.1 - yr.start - 22);
        let (marker, colour) = role_style(role);
        draw_marker(&strip, marker, p, colour)?;
    }
    Ok(())
}

/// A translucent band between `lo` and `hi` over `xs`.
fn band(xs: &[f64], lo: &[f64], hi: &[f64], c: RGBColor) -> Polygon<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = xs.iter().copied().zip(hi.iter().copied()).collect();
    pts.extend(xs.iter().copied().zip(lo.iter().copied()).rev());
    Polygon::new(pts, c.mix(0.18).filled())
}

fn draw_cost_and_metric(
    root: &Area,
    page: &SweepPage,
    m: &SweepMetric,
    series: &[Series],
    title: &str,
) -> Result<(), DrawError> {
    let shown = &series[..series.len().min(MAX_SERIES)];
    let single = shown.len() == 1;
    let slo = page.slo_on(&m.column);
    let cost_slo = page.slo_on(&page.cost_column);
    let replicas = page.rows.first().map_or(1, |r| r.replicas);
    let mut legend = Vec::new();
    if single {
        legend.push(entry("monthly cost (left axis)", Swatch::Line(BLUE)));
        legend.push(entry(
            format!("{} (right axis)", m.short),
            Swatch::Dashed(ORANGE),
        ));
    } else {
        for (k, s) in shown.iter().enumerate() {
            legend.push(entry(
                format!(
                    "{}: cost (solid), {} (dashed)",
                    shorten(&s.label, 40),
                    m.short
                ),
                Swatch::Line(palette(k)),
            ));
        }
    }
    if replicas > 1 {
        legend.push(entry(
            format!("95 % CI ({replicas} replicas)"),
            Swatch::Band(GREY),
        ));
    }
    if let Some(s) = slo {
        legend.push(entry(
            format!("SLO {} (right axis)", s.text),
            Swatch::Dashed(RED),
        ));
    }
    if let Some(s) = cost_slo {
        legend.push(entry(
            format!("SLO {} (left axis)", s.text),
            Swatch::Dashed(RED),
        ));
    }
    if let Some(i) = page.recommended {
        legend.push(entry(
            format!(
                "recommended: {} ({}/month)",
                page.point_name(i),
                usd(page.cost(i).mean)
            ),
            Swatch::Marker(Marker::Target, RED),
        ));
    }
    let area = frame(root, title, &legend)?;
    let (rows, xs) = rows_and_xs(shown);
    if rows.is_empty() {
        return draw_empty(&area, "No grid point to plot.");
    }
    let (xlo, xhi) = min_max(&xs);
    // The swept range itself (from 0 when it nearly starts there).
    let x = if xhi > xlo {
        let lo = if xlo > 0.0 && xlo <= (xhi - xlo) * 0.25 {
            0.0
        } else {
            xlo
        };
        Axis::linear(lo..xhi, tick)
    } else {
        Axis::linear((xlo - 1.0).max(0.0)..xhi + 1.0, tick)
    };
    let mut cmax = rows
        .iter()
        .map(|&i| page.cost(i).ci_high)
        .fold(0.0, f64::max);
    if let Some(s) = cost_slo {
        cmax = cmax.max(s.bound);
    }
    let y = Axis::zero_to(cmax, usd_tick);
    // The metric's axis is zoomed to its values (and the SLO) so that its trend shows.
    let mut mvals: Vec<f64> = rows
        .iter()
        .flat_map(|&i| {
            let e = page.metric(i, m);
            [e.ci_low.max(0.0), e.ci_high]
        })
        .collect();
    if let Some(s) = slo {
        mvals.push(s.bound * m.scale);
    }
    let (mlo, mhi) = min_max(&mvals);
    let y2 = Axis::padded(mlo, mhi, tick);
    let mut chart = render::dual_chart(
        &area,
        &Axes {
            x: &x,
            y: &y,
            x_desc: &page.x_label,
            y_desc: "USD per month (730 h)",
        },
        &y2,
        &m.label,
    )?;
    for (k, s) in shown.iter().enumerate() {
        let (cc, mc) = if single {
            (BLUE, ORANGE)
        } else {
            (palette(k), palette(k))
        };
        let xs: Vec<f64> = s.rows.iter().map(|r| r.1).collect();
        let cost: Vec<Estimate> = s.rows.iter().map(|r| page.cost(r.0)).collect();
        let met: Vec<Estimate> = s.rows.iter().map(|r| page.metric(r.0, m)).collect();
        if replicas > 1 {
            let lo: Vec<f64> = cost.iter().map(|e| e.ci_low.max(0.0)).collect();
            let hi: Vec<f64> = cost.iter().map(|e| e.ci_high).collect();
            chart.draw_series(std::iter::once(band(&xs, &lo, &hi, cc)))?;
            let lo: Vec<f64> = met.iter().map(|e| e.ci_low.max(0.0)).collect();
            let hi: Vec<f64> = met.iter().map(|e| e.ci_high).collect();
            chart.draw_secondary_series(std::iter::once(band(&xs, &lo, &hi, mc)))?;
        }
        let cpts: Vec<(f64, f64)> = xs
            .iter()
            .copied()
            .zip(cost.iter().map(|e| e.mean))
            .collect();
        let mpts: Vec<(f64, f64)> = xs.iter().copied().zip(met.iter().map(|e| e.mean)).collect();
        draw_pair(&mut chart, &cpts, &mpts, cc, mc)?;
    }
    if let Some(s) = slo {
        let v = s.bound * m.scale;
        chart.draw_secondary_series(DashedLineSeries::new(
            vec![(x.range.start, v), (x.range.end, v)],
            10,
            8,
            RED.stroke_width(2),
        ))?;
    }
    if let Some(s) = cost_slo {
        chart.draw_series(DashedLineSeries::new(
            vec![(x.range.start, s.bound), (x.range.end, s.bound)],
            10,
            8,
            RED.stroke_width(2),
        ))?;
    }
    if let Some(i) = page.recommended
        && let Some(xv) = page.x_of(&page.rows[i])
        && rows.contains(&i)
    {
        let plot = chart.plotting_area();
        let (xr, yr) = plot.get_pixel_range();
        let strip = plot.strip_coord_spec();
        let p = plot.map_coordinate(&(xv, page.cost(i).mean));
        let p = (p.0 - xr.start, p.1 - yr.start);
        // A vertical guide through the recommended setting, then the marker on the cost curve.
        strip.draw(&PathElement::new(
            vec![(p.0, 0), (p.0, yr.end - yr.start)],
            RED.mix(0.5).stroke_width(1),
        ))?;
        draw_marker(&strip, Marker::Target, p, RED)?;
    }
    Ok(())
}

/// The rows the series show and their x values, in series order.
fn rows_and_xs(shown: &[Series]) -> (Vec<usize>, Vec<f64>) {
    shown.iter().flat_map(|s| s.rows.iter().copied()).unzip()
}

/// Cost as a solid line with dots on the left axis, a metric dashed with dots on the right.
fn draw_pair(
    chart: &mut render::Dual2d<'_, '_>,
    cost: &[(f64, f64)],
    metric: &[(f64, f64)],
    cc: RGBColor,
    mc: RGBColor,
) -> Result<(), DrawError> {
    chart.draw_series(LineSeries::new(cost.to_vec(), cc.stroke_width(3)))?;
    chart.draw_series(cost.iter().map(|&p| Circle::new(p, 5, cc.filled())))?;
    chart.draw_secondary_series(DashedLineSeries::new(
        metric.to_vec(),
        14,
        7,
        mc.stroke_width(3),
    ))?;
    chart.draw_secondary_series(metric.iter().map(|&p| Circle::new(p, 4, mc.filled())))?;
    Ok(())
}

fn min_max(xs: &[f64]) -> (f64, f64) {
    xs.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

fn draw_pareto(
    root: &Area,
    page: &SweepPage,
    m: &SweepMetric,
    title: &str,
) -> Result<(), DrawError> {
    let slo = page.slo_on(&m.column);
    let cost_slo = page.slo_on(&page.cost_column);
    let mut legend = vec![
        entry(
            "grid point (whiskers: 95 % CI)",
            Swatch::Marker(Marker::Circle, LIGHT_GREY),
        ),
        entry(
            format!("Pareto front (labels: {})", page.x_setting),
            Swatch::Line(BLUE),
        ),
    ];
    if let Some(s) = slo {
        legend.push(entry(format!("SLO {}", s.text), Swatch::Dashed(RED)));
    }
    if let Some(s) = cost_slo {
        legend.push(entry(format!("SLO {}", s.text), Swatch::Dashed(RED)));
    }
    if let Some(i) = page.recommended {
        legend.push(entry(
            format!("recommended: {}", page.point_name(i)),
            Swatch::Marker(Marker::Target, RED),
        ));
    }
    let area = frame(root, title, &legend)?;
    let n = page.rows.len();
    if n == 0 {
        return draw_empty(&area, "No grid point to plot.");
    }
    let costs: Vec<Estimate> = (0..n).map(|i| page.cost(i)).collect();
    let mets: Vec<Estimate> = (0..n).map(|i| page.metric(i, m)).collect();
    // Both axes zoomed to the points (and the SLOs): the spread is what a front shows.
    let mut cvals: Vec<f64> = costs
        .iter()
        .flat_map(|e| [e.ci_low.max(0.0), e.ci_high])
        .collect();
    if let Some(s) = cost_slo {
        cvals.push(s.bound);
    }
    let mut mvals: Vec<f64> = mets
        .iter()
        .flat_map(|e| [e.ci_low.max(0.0), e.ci_high])
        .collect();
    if let Some(s) = slo {
        mvals.push(s.bound * m.scale);
    }
    let (clo, chi) = min_max(&cvals);
    let (mlo, mhi) = min_max(&mvals);
    let x = Axis::padded(clo, chi, usd_tick);
    let y = Axis::padded(mlo, mhi, tick);
    let mut chart = render::chart(
        &area,
        &Axes {
            x: &x,
            y: &y,
            x_desc: "USD per month (730 h)",
            y_desc: &m.label,
        },
    )?;
    for i in 0..n {
        let (c, e) = (costs[i], mets[i]);
        if e.half_width > 0.0 {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(c.mean, e.ci_low.max(0.0)), (c.mean, e.ci_high)],
                LIGHT_GREY.stroke_width(2),
            )))?;
        }
        if c.half_width > 0.0 {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(c.ci_low.max(0.0), e.mean), (c.ci_high, e.mean)],
                LIGHT_GREY.stroke_width(2),
            )))?;
        }
    }
    chart.draw_series(
        (0..n).map(|i| Circle::new((costs[i].mean, mets[i].mean), 6, LIGHT_GREY.filled())),
    )?;
    // The front as a staircase: each point is the best metric at its cost or above.
    let front: Vec<(f64, f64)> = m
        .front
        .iter()
        .map(|&i| (costs[i].mean, mets[i].mean))
        .collect();
    let mut stairs = Vec::new();
    for (k, &p) in front.iter().enumerate() {
        if k > 0 {
            stairs.push((p.0, front[k - 1].1));
        }
        stairs.push(p);
    }
    let stairs_px = stairs.clone();
    chart.draw_series(LineSeries::new(stairs, BLUE.stroke_width(3)))?;
    chart.draw_series(front.iter().map(|&p| Circle::new(p, 7, BLUE.filled())))?;
    if let Some(s) = slo {
        let v = s.bound * m.scale;
        chart.draw_series(DashedLineSeries::new(
            vec![(x.range.start, v), (x.range.end, v)],
            10,
            8,
            RED.stroke_width(2),
        ))?;
    }
    if let Some(s) = cost_slo {
        chart.draw_series(DashedLineSeries::new(
            vec![(s.bound, y.range.start), (s.bound, y.range.end)],
            10,
            8,
            RED.stroke_width(2),
        ))?;
    }
    let plot = chart.plotting_area();
    let (xr, yr) = plot.get_pixel_range();
    let strip = plot.strip_coord_spec();
    let px = |c: f64, v: f64| {
        let p = plot.map_coordinate(&(c, v));
        (p.0 - xr.start, p.1 - yr.start)
    };
    let mut placer = LabelPlacer::new((0, 0, xr.end - xr.start, yr.end - yr.start));
    // Keep labels off the points, their whiskers, the front and the SLO lines.
    for i in 0..n {
        let (c, e) = (costs[i], mets[i]);
        let p = px(c.mean, e.mean);
        placer.reserve((p.0 - 8, p.1 - 8, p.0 + 8, p.1 + 8));
        placer.reserve_path(&[px(c.mean, e.ci_low.max(0.0)), px(c.mean, e.ci_high)]);
        placer.reserve_path(&[px(c.ci_low.max(0.0), e.mean), px(c.ci_high, e.mean)]);
    }
    let stair_px: Vec<(i32, i32)> = stairs_px.iter().map(|&(c, v)| px(c, v)).collect();
    placer.reserve_path(&stair_px);
    if let Some(s) = slo {
        let v = s.bound * m.scale;
        placer.reserve_path(&[px(x.range.start, v), px(x.range.end, v)]);
    }
    if let Some(s) = cost_slo {
        placer.reserve_path(&[px(s.bound, y.range.start), px(s.bound, y.range.end)]);
    }
    if let Some(i) = page.recommended {
        let p = px(costs[i].mean, mets[i].mean);
        draw_marker(&strip, Marker::Target, p, RED)?;
        placer.reserve((p.0 - 16, p.1 - 16, p.0 + 16, p.1 + 16));
    }
    for &i in &m.front {
        let (c, e) = (costs[i], mets[i]);
        let p = px(c.mean, e.mean);
        let label = page.x_of(&page.rows[i]).map(plain).unwrap_or_default();
        let clear = if page.recommended == Some(i) { 16 } else { 9 };
        // Beside the point, else at either end of its whisker.
        let top = px(c.mean, e.ci_high).1.min(p.1 - clear);
        let bottom = px(c.mean, e.ci_low.max(0.0)).1.max(p.1 + clear);
        place_label_among(&strip, &mut placer, &label, LABEL_SIZE, &BLUE, |w, h| {
            vec![
                (p.0 + clear + 6, p.1 - h / 2),
                (p.0 - clear - 6 - w, p.1 - h / 2),
                (p.0 + clear / 2, p.1 - clear - 4 - h),
                (p.0 - clear / 2 - w, p.1 + clear + 4),
                (p.0 - w / 2, top - h - 6),
                (p.0 - w / 2, bottom + 6),
            ]
        })?;
    }
    Ok(())
}

/// `faasplan sweep`'s grid as a report page: cost against the provisioned level (or, without
/// one, the first swept setting), with the cold-start ratio and p99 latency.
impl From<&SweepResult> for SweepPage {
    fn from(r: &SweepResult) -> SweepPage {
        let names: Vec<&str> = r
            .grid
            .first()
            .map(|p| p.settings.iter().map(|(n, _)| n.as_str()).collect())
            .unwrap_or_default();
        let x_setting = if names.contains(&"provisioned") {
            "provisioned"
        } else {
            names.first().copied().unwrap_or("provisioned")
        };
        let x_label = match x_setting {
            "provisioned" => "provisioned concurrency (instances per function)".to_string(),
            "memory_mb" => "memory (MB)".to_string(),
            "keep_alive_s" => "keep-alive (s)".to_string(),
            other => other.to_string(),
        };
        SweepPage {
            subtitle: format!("{} on {}", r.trace, r.offering),
            x_setting: x_setting.to_string(),
            x_label,
            cost_column: Metric::CostMonthly.column().into(),
            metrics: vec![
                SweepMetric::for_metric(
                    Metric::ColdStartRatio,
                    r.pareto_cost_cold_start_ratio.clone(),
                ),
                SweepMetric::for_metric(Metric::LatencyP99, r.pareto_cost_p99.clone()),
            ],
            rows: r.grid.clone(),
            slos: r.slos.clone(),
            recommended: r.recommended,
            memory: r.memory.clone(),
            notes: vec![
                format!(
                    "{} replicas per grid point, seeds from {}. Monthly cost: a 730-hour month \
                     whose traffic repeats the simulated window.",
                    r.replicas, r.seed
                ),
                match &r.resample {
                    Some(b) => format!(
                        "Each replica resamples the trace ({}, {} blocks of {} s), so every ± and \
                         band is a 95 % prediction interval for one resampled period, \
                         t·s·√(1 + 1/R), not a confidence interval of the mean.",
                        b.method, b.blocks, b.block_s
                    ),
                    None => "Replicas replay the same trace and differ in their random draws \
                             only: the ± is the confidence interval of the mean, not the \
                             uncertainty of the traffic (see --resample)."
                        .to_string(),
                },
            ]
            .into_iter()
            .chain(
                r.memory
                    .as_ref()
                    .map(|v| crate::export::results::sweep::memory_line(r, v)),
            )
            .chain(r.notes.iter().cloned())
            .collect(),
            warnings: r.warnings.clone(),
        }
    }
}
