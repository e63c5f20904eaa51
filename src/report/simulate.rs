//! The `simulate` report: instances over time (busy, alive, the provisioned level, cold starts
//! marked), requests, cold starts and throttles per minute, the latency CDF of warm and cold
//! starts with p50/p95/p99 marked, and for multi-function traces the functions with the most cold
//! starts. [`SimulatePage::from_outcome`] computes every series from the outcome; the charts only draw.

use plotters::prelude::*;

use super::fmt::{fixed, ms, percent, shorten, sig, thousands, tick, usd};
use super::render::{
    self, Area, Axes, Axis, BLUE, DrawError, GREY, LABEL_SIZE, LIGHT_BLUE, Marker, ORANGE, PURPLE,
    RED, Swatch, TEAL, draw_empty, draw_marker, entry, frame,
};
use super::{Align, Document, ReportError, ReportTarget, Table, Written, check_finite};
use crate::engine::{PlatformConfig, ProvisionedPlan};
use crate::export::summary::{Percentiles, Summary};
use crate::outcome::{Latency, Outcome};
use crate::time::{MINUTE, Micros};

/// The unit of a time axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    /// The unit's length in minutes.
    pub fn minutes(self) -> f64 {
        match self {
            TimeUnit::Minutes => 1.0,
            TimeUnit::Hours => 60.0,
            TimeUnit::Days => 1440.0,
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            TimeUnit::Minutes => "min",
            TimeUnit::Hours => "h",
            TimeUnit::Days => "days",
        }
    }

    /// Minutes for windows up to 3 hours, hours up to 3 days, then days.
    pub fn for_window(minutes: f64) -> TimeUnit {
        if minutes <= 180.0 {
            TimeUnit::Minutes
        } else if minutes <= 3.0 * 1440.0 {
            TimeUnit::Hours
        } else {
            TimeUnit::Days
        }
    }
}

/// The provisioned level to draw over the instance series.
#[derive(Debug, Clone, PartialEq)]
pub enum ProvisionedLine {
    /// No provisioned instances.
    None,
    /// The configured level per bucket, summed over functions, as the engine recorded it (fixed,
    /// a time-of-day schedule, or target tracking).
    Level { label: String, level: Vec<f64> },
}

/// Per-bucket series over the window; buckets are one minute unless the window is too long to
/// show minute by minute.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub unit: TimeUnit,
    /// Minutes per bucket.
    pub bucket_minutes: u32,
    /// The window's length, in `unit`.
    pub window: f64,
    /// The middle of each bucket, in `unit`.
    pub x: Vec<f64>,
    /// Mean instances serving at least one request, over the bucket.
    pub busy_mean: Vec<f64>,
    /// Peak instances serving, within the bucket.
    pub busy_peak: Vec<f64>,
    /// Mean instances alive (initialising, busy or idle), over the bucket.
    pub alive_mean: Vec<f64>,
    pub provisioned: ProvisionedLine,
    /// Requests arriving in the bucket.
    pub invocations: Vec<f64>,
    /// Cold starts of requests arriving in the bucket.
    pub cold_starts: Vec<f64>,
    pub throttled: Vec<f64>,
    pub dead_lettered: Vec<f64>,
    /// The account concurrency limit, drawn when it binds (refuses more than
    /// [`crate::warnings::THROTTLE_SHARE`] of the requests): (limit, share refused).
    pub account_limit: Option<(f64, f64)>,
}

impl Timeline {
    /// "minute", or "10 min" when buckets are longer.
    pub fn bucket_label(&self) -> String {
        match self.bucket_minutes {
            1 => "minute".into(),
            60 => "hour".into(),
            1440 => "day".into(),
            m if m % 60 == 0 => format!("{} h", m / 60),
            m => format!("{m} min"),
        }
    }
}

/// The CDF of one latency distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Cdf {
    /// e.g. "warm starts".
    pub label: String,
    pub count: u64,
    /// (latency in ms, share of requests at or below it), a step function, increasing.
    pub points: Vec<(f64, f64)>,
    /// (name, quantile, latency ms): p50, p95, p99.
    pub marks: Vec<(String, f64, f64)>,
}

/// One function's bar in the top-functions chart.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionColdStarts {
    pub name: String,
    pub invocations: u64,
    pub cold_starts: u64,
}

/// Everything the simulate report shows, computed once.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatePage {
    /// What was simulated, e.g. the trace path; the report's subtitle.
    pub subtitle: String,
    pub tables: Vec<Table>,
    pub timeline: Timeline,
    /// Warm starts, then cold starts.
    pub latency: Vec<Cdf>,
    /// The functions with the most cold starts, most first (empty for one function).
    pub top_functions: Vec<FunctionColdStarts>,
    /// Caveats shown under the tables.
    pub notes: Vec<String>,
    /// The run's warnings, in a box at the top.
    pub warnings: Vec<String>,
}

/// The most functions the top-functions chart shows.
pub const TOP_FUNCTIONS: usize = 15;
/// Buckets beyond which the timeline aggregates minutes (about 6 pixels a bucket).
const MAX_BUCKETS: usize = 240;
/// Buckets with cold starts beyond which they are drawn as ticks on the time axis, not as
/// triangles on the curve (which would hide it).
const MAX_COLD_MARKS: usize = 60;
/// Points beyond which a CDF is thinned (keeping the first and last).
const MAX_CDF_POINTS: usize = 3000;

impl SimulatePage {
    /// Computes the page from a run. `cfg` is the configuration it ran with (for the provisioned
    /// plan's label; the level itself comes from the outcome's per-minute series).
    pub fn from_outcome(
        outcome: &Outcome,
        summary: &Summary,
        cfg: &PlatformConfig,
    ) -> SimulatePage {
        let mut notes = Vec::new();
        let timeline = timeline(outcome, cfg, &mut notes);
        let latency = vec![
            cdf("warm starts", &outcome.latency_warm),
            cdf("cold starts", &outcome.latency_cold),
        ];
        let mut top: Vec<FunctionColdStarts> = outcome
            .names
            .iter()
            .zip(&outcome.functions)
            .map(|(n, f)| FunctionColdStarts {
                name: n.clone(),
                invocations: f.invocations,
                cold_starts: f.cold_starts,
            })
            .collect();
        top.sort_by(|a, b| {
            b.cold_starts
                .cmp(&a.cold_starts)
                .then(b.invocations.cmp(&a.invocations))
                .then(a.name.cmp(&b.name))
        });
        top.truncate(TOP_FUNCTIONS);
        if outcome.functions.len() < 2 {
            top.clear();
        }
        SimulatePage {
            subtitle: summary.run.trace.clone(),
            tables: tables(outcome, summary),
            timeline,
            latency,
            top_functions: top,
            notes,
            warnings: summary.warnings.clone(),
        }
    }

    fn validate(&self) -> Result<(), ReportError> {
        let t = &self.timeline;
        let n = t.x.len();
        let series = [
            ("busy", &t.busy_mean),
            ("busy peak", &t.busy_peak),
            ("alive", &t.alive_mean),
            ("invocations", &t.invocations),
            ("cold starts", &t.cold_starts),
            ("throttled", &t.throttled),
            ("dead-lettered", &t.dead_lettered),
        ];
        check_finite("concurrency.png", "time", &t.x)?;
        for (what, s) in series {
            if s.len() != n {
                return Err(ReportError::chart(
                    "concurrency.png",
                    format!("{what}: {} values for {n} buckets", s.len()),
                ));
            }
            check_finite("concurrency.png", what, s)?;
        }
        match &t.provisioned {
            ProvisionedLine::Level { level, .. } => {
                check_finite("concurrency.png", "provisioned", level)?;
                if level.len() != n {
                    return Err(ReportError::chart(
                        "concurrency.png",
                        format!("provisioned: {} values for {n} buckets", level.len()),
                    ));
                }
            }
            ProvisionedLine::None => {}
        }
        for c in &self.latency {
            let xs: Vec<f64> = c.points.iter().flat_map(|&(x, y)| [x, y]).collect();
            check_finite("latency_cdf.png", &c.label, &xs)?;
            let ms: Vec<f64> = c.marks.iter().flat_map(|m| [m.1, m.2]).collect();
            check_finite("latency_cdf.png", &c.label, &ms)?;
            if c.points.iter().any(|&(x, _)| x < 0.0) {
                return Err(ReportError::chart(
                    "latency_cdf.png",
                    format!("{}: negative latency", c.label),
                ));
            }
        }
        Ok(())
    }
}

/// Writes the simulate report into `target`.
pub fn write(page: &SimulatePage, target: &ReportTarget) -> Result<Written, ReportError> {
    page.validate()?;
    let mut doc = Document::new("faasplan simulate", &page.subtitle);
    doc.warnings = page.warnings.clone();
    doc.heading("Charts");
    doc.chart("concurrency.png", "Instances over time", |a| {
        draw_concurrency(a, &page.timeline)
    });
    let per = page.timeline.bucket_label();
    doc.chart(
        "per_minute.png",
        format!("Requests, cold starts and throttles per {per}"),
        |a| draw_counts(a, &page.timeline),
    );
    doc.chart(
        "latency_cdf.png",
        "Latency CDF, warm and cold starts",
        |a| draw_cdf(a, &page.latency),
    );
    if !page.top_functions.is_empty() {
        doc.chart(
            "top_functions.png",
            "Functions with the most cold starts",
            |a| draw_top_functions(a, &page.top_functions),
        );
    }
    doc.heading("Summary");
    for t in &page.tables {
        doc.table(t.clone());
    }
    for n in &page.notes {
        doc.text(n.clone());
    }
    target.write(&doc)
}

// ---------------------------------------------------------------------------------------------
// Summary code: series and tables from the outcome.

fn timeline(outcome: &Outcome, cfg: &PlatformConfig, notes: &mut Vec<String>) -> Timeline {
    let window_us = outcome.window_us;
    let minutes = outcome.minutes.len().max(1);
    let bucket = [1usize, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440]
        .into_iter()
        .find(|b| minutes.div_ceil(*b) <= MAX_BUCKETS)
        .unwrap_or(1440);
    let window_min = window_us as f64 / MINUTE as f64;
    let unit = TimeUnit::for_window(window_min.max(1.0));
    let per_unit = unit.minutes();
    let functions = outcome.functions.len().max(1) as f64;
    let mut t = Timeline {
        unit,
        bucket_minutes: bucket as u32,
        window: window_min / per_unit,
        x: Vec::new(),
        busy_mean: Vec::new(),
        busy_peak: Vec::new(),
        alive_mean: Vec::new(),
        provisioned: ProvisionedLine::None,
        invocations: Vec::new(),
        cold_starts: Vec::new(),
        throttled: Vec::new(),
        dead_lettered: Vec::new(),
        account_limit: cfg.account_concurrency.and_then(|limit| {
            let share = crate::warnings::RefusedBy::of(outcome).account as f64
                / outcome.totals.invocations.max(1) as f64;
            (share > crate::warnings::THROTTLE_SHARE).then_some((f64::from(limit), share))
        }),
    };
    let mut level = Vec::new();
    for (b, chunk) in outcome.minutes.chunks(bucket).enumerate() {
        let start_min = b * bucket;
        // The part of the bucket inside the window, microseconds.
        let start_us = start_min as Micros * MINUTE;
        let end_us = ((start_min + chunk.len()) as Micros * MINUTE).min(window_us.max(start_us));
        let span = (end_us.saturating_sub(start_us)).max(1) as f64;
        let mid_min = (start_us + end_us) as f64 / 2.0 / MINUTE as f64;
        t.x.push(mid_min / per_unit);
        let busy: u128 = chunk.iter().map(|m| m.busy_us).sum();
        let alive: u128 = chunk.iter().map(|m| m.alive_us).sum();
        t.busy_mean.push(busy as f64 / span);
        t.alive_mean.push(alive as f64 / span);
        t.busy_peak.push(f64::from(
            chunk.iter().map(|m| m.peak_busy).max().unwrap_or(0),
        ));
        t.invocations
            .push(chunk.iter().map(|m| m.invocations).sum::<u64>() as f64);
        t.cold_starts
            .push(chunk.iter().map(|m| m.cold_starts).sum::<u64>() as f64);
        t.throttled
            .push(chunk.iter().map(|m| m.throttled).sum::<u64>() as f64);
        t.dead_lettered
            .push(chunk.iter().map(|m| m.dead_lettered).sum::<u64>() as f64);
        // The configured level as the engine recorded it, minute by minute.
        let provisioned: u128 = chunk.iter().map(|m| m.provisioned_us).sum();
        level.push(provisioned as f64 / span);
    }
    let per_fn = |n: f64| {
        if functions > 1.0 {
            format!(" ({} functions × {})", functions, sig(n / functions))
        } else {
            String::new()
        }
    };
    t.provisioned = match &cfg.provisioned_plan {
        Some(ProvisionedPlan::Target(tt)) => ProvisionedLine::Level {
            label: format!(
                "provisioned (target tracking at {} %{})",
                sig(tt.target * 100.0),
                if functions > 1.0 {
                    format!(", {functions} functions")
                } else {
                    String::new()
                }
            ),
            level,
        },
        Some(ProvisionedPlan::Schedule(_)) => ProvisionedLine::Level {
            label: format!(
                "provisioned (schedule{})",
                if functions > 1.0 {
                    format!(", {functions} functions")
                } else {
                    String::new()
                }
            ),
            level,
        },
        None if cfg.provisioned > 0 => {
            let total = f64::from(cfg.provisioned) * functions;
            ProvisionedLine::Level {
                label: format!("provisioned {}{}", sig(total), per_fn(total)),
                level,
            }
        }
        None => ProvisionedLine::None,
    };
    if bucket > 1 {
        notes.push(format!(
            "The charts over time sum (requests, cold starts, throttles) or average (instances) \
             the per-minute series over {}-minute buckets.",
            bucket
        ));
    }
    t
}

fn cdf(label: &str, l: &Latency) -> Cdf {
    let n = l.count();
    let mut points = Vec::new();
    if n > 0 {
        let mut cum = 0u64;
        let mut prev = 0.0;
        for v in l.hist.iter_recorded() {
            let c = v.count_at_value();
            if c == 0 {
                continue;
            }
            let x = l
                .hist
                .highest_equivalent(v.value_iterated_to())
                .min(l.max_us) as f64
                / 1e3;
            if points.is_empty() {
                points.push((x, 0.0));
            } else {
                points.push((x, prev));
            }
            cum += c;
            prev = cum as f64 / n as f64;
            points.push((x, prev));
        }
        if points.len() > MAX_CDF_POINTS {
            let step = points.len().div_ceil(MAX_CDF_POINTS);
            let last = points.last().copied();
            points = points.into_iter().step_by(step).collect();
            if let Some(p) = last
                && points.last() != Some(&p)
            {
                points.push(p);
            }
        }
    }
    let marks = if n > 0 {
        [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)]
            .into_iter()
            .map(|(name, q)| (name.to_string(), q, l.quantile_us(q) as f64 / 1e3))
            .collect()
    } else {
        Vec::new()
    };
    Cdf {
        label: label.into(),
        count: n,
        points,
        marks,
    }
}

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

fn tables(outcome: &Outcome, s: &Summary) -> Vec<Table> {
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

// ---------------------------------------------------------------------------------------------
// Charts: drawing only.

fn time_axis(t: &Timeline) -> Axis {
    Axis::linear(0.0..t.window.max(1e-9), tick)
}

fn draw_concurrency(root: &Area, t: &Timeline) -> Result<(), DrawError> {
    let cold_buckets = t.cold_starts.iter().filter(|&&c| c > 0.0).count();
    let mut legend = vec![
        entry("alive (mean)", Swatch::Band(TEAL)),
        entry("busy (mean)", Swatch::Line(BLUE)),
        entry("busy (peak)", Swatch::Thin(LIGHT_BLUE)),
    ];
    let mut ymax: f64 = 1.0;
    for s in [&t.alive_mean, &t.busy_peak, &t.busy_mean] {
        ymax = s.iter().copied().fold(ymax, f64::max);
    }
    match &t.provisioned {
        ProvisionedLine::Level { label, level } => {
            legend.push(entry(label.clone(), Swatch::Dashed(PURPLE)));
            ymax = level.iter().copied().fold(ymax, f64::max);
        }
        ProvisionedLine::None => {}
    }
    if let Some((limit, share)) = t.account_limit {
        legend.push(entry(
            format!(
                "account limit {} (refused {} % of requests)",
                thousands(limit as u64),
                sig(share * 100.0)
            ),
            Swatch::Dashed(RED),
        ));
        ymax = ymax.max(limit);
    }
    let buckets = if t.bucket_minutes == 1 {
        "minutes".to_string()
    } else {
        format!("{}-minute buckets", t.bucket_minutes)
    };
    let cold_total: f64 = t.cold_starts.iter().sum();
    let ticks = cold_buckets > MAX_COLD_MARKS;
    legend.push(entry(
        format!(
            "cold starts: {} in {} of {} {buckets}",
            thousands(cold_total as u64),
            cold_buckets,
            t.x.len()
        ),
        if ticks {
            Swatch::Tick(RED)
        } else {
            Swatch::Marker(Marker::Triangle, RED)
        },
    ));
    let area = frame(root, "Instances over time", &legend)?;
    let x = time_axis(t);
    let y = Axis::counts(ymax);
    let x_desc = format!("time since trace start ({})", t.unit.short());
    let mut chart = render::chart(
        &area,
        &Axes {
            x: &x,
            y: &y,
            x_desc: &x_desc,
            y_desc: "instances",
        },
    )?;
    let pts =
        |s: &[f64]| -> Vec<(f64, f64)> { t.x.iter().copied().zip(s.iter().copied()).collect() };
    chart.draw_series(
        AreaSeries::new(pts(&t.alive_mean), 0.0, TEAL.mix(0.25)).border_style(TEAL.stroke_width(2)),
    )?;
    chart.draw_series(LineSeries::new(
        pts(&t.busy_peak),
        LIGHT_BLUE.stroke_width(2),
    ))?;
    chart.draw_series(LineSeries::new(pts(&t.busy_mean), BLUE.stroke_width(3)))?;
    match &t.provisioned {
        ProvisionedLine::Level { level, .. } => {
            chart.draw_series(DashedLineSeries::new(
                pts(level),
                12,
                8,
                PURPLE.stroke_width(3),
            ))?;
        }
        ProvisionedLine::None => {}
    }
    if let Some((limit, _)) = t.account_limit {
        chart.draw_series(DashedLineSeries::new(
            vec![(x.range.start, limit), (x.range.end, limit)],
            6,
            6,
            RED.stroke_width(2),
        ))?;
    }
    let plot = chart.plotting_area();
    let strip = plot.strip_coord_spec();
    for (i, &c) in t.cold_starts.iter().enumerate() {
        if c > 0.0 {
            if ticks {
                // A tick rising from the time axis: many marks must not hide the curves.
                let (px, py) = shift_into(plot, plot.map_coordinate(&(t.x[i], 0.0)));
                strip.draw(&PathElement::new(
                    vec![(px, py - 2), (px, py - 16)],
                    RED.stroke_width(2),
                ))?;
            } else {
                let p = plot.map_coordinate(&(t.x[i], t.alive_mean[i]));
                draw_marker(&strip, Marker::Triangle, shift_into(plot, p), RED)?;
            }
        }
    }
    Ok(())
}

/// Converts a pixel of the plotting area (as `map_coordinate` returns, in backend pixels) into
/// the coordinates of `strip_coord_spec()` (relative to the plotting area).
fn shift_into<C: plotters::coord::CoordTranslate>(
    plot: &DrawingArea<BitMapBackend, C>,
    p: (i32, i32),
) -> (i32, i32) {
    let (xr, yr) = plot.get_pixel_range();
    (p.0 - xr.start, p.1 - yr.start)
}

fn draw_counts(root: &Area, t: &Timeline) -> Result<(), DrawError> {
    let per = t.bucket_label();
    let any_dl = t.dead_lettered.iter().any(|&v| v > 0.0);
    let mut right = vec![
        ("cold starts", &t.cold_starts, ORANGE),
        ("throttled", &t.throttled, RED),
    ];
    if any_dl {
        right.push(("dead-lettered", &t.dead_lettered, PURPLE));
    }
    let mut legend = vec![entry("requests (left axis)", Swatch::Band(BLUE))];
    for (name, s, c) in &right {
        // An all-zero series is named, not drawn: a line on the axis hides the axis.
        let total: f64 = s.iter().sum();
        legend.push(if total > 0.0 {
            entry(
                format!("{name}: {} (right axis)", thousands(total as u64)),
                Swatch::Line(*c),
            )
        } else {
            entry(format!("{name}: none"), Swatch::Line(*c))
        });
    }
    let area = frame(
        root,
        &format!("Requests, cold starts and throttles per {per}"),
        &legend,
    )?;
    let x = time_axis(t);
    let y = Axis::counts(t.invocations.iter().copied().fold(0.0, f64::max));
    let mut right_max: f64 = 0.0;
    for s in [&t.cold_starts, &t.throttled, &t.dead_lettered] {
        right_max = s.iter().copied().fold(right_max, f64::max);
    }
    let y2 = Axis::counts(right_max);
    let x_desc = format!("time since trace start ({})", t.unit.short());
    let y_desc = format!("requests per {per}");
    let mut chart = render::dual_chart(
        &area,
        &Axes {
            x: &x,
            y: &y,
            x_desc: &x_desc,
            y_desc: &y_desc,
        },
        &y2,
        &format!("cold starts, throttles per {per}"),
    )?;
    let pts =
        |s: &[f64]| -> Vec<(f64, f64)> { t.x.iter().copied().zip(s.iter().copied()).collect() };
    chart.draw_series(
        AreaSeries::new(pts(&t.invocations), 0.0, BLUE.mix(0.22))
            .border_style(BLUE.stroke_width(2)),
    )?;
    let few = t.x.len() <= 60;
    for (_, s, c) in right {
        if s.iter().all(|&v| v == 0.0) {
            continue;
        }
        let width = if few { 3 } else { 2 };
        chart.draw_secondary_series(LineSeries::new(pts(s), c.stroke_width(width)))?;
        if few {
            chart
                .draw_secondary_series(pts(s).into_iter().map(|p| Circle::new(p, 4, c.filled())))?;
        }
    }
    Ok(())
}

fn draw_cdf(root: &Area, cdfs: &[Cdf]) -> Result<(), DrawError> {
    let colours = [BLUE, ORANGE];
    let markers = [Marker::Circle, Marker::Diamond];
    let legend: Vec<_> = cdfs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let marks: Vec<String> = c
                .marks
                .iter()
                .map(|(n, _, v)| format!("{n} {} ms", ms(*v)))
                .collect();
            let label = if c.count == 0 {
                format!("{} (none)", c.label)
            } else {
                format!(
                    "{} (n = {}): {}",
                    c.label,
                    thousands(c.count),
                    marks.join(", ")
                )
            };
            entry(label, Swatch::Marker(markers[i % 2], colours[i % 2]))
        })
        .collect();
    let area = frame(root, "Latency CDF, warm and cold starts", &legend)?;
    let xs: Vec<f64> = cdfs
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.0))
        .collect();
    if xs.is_empty() {
        return draw_empty(&area, "No request was served: there is no latency to plot.");
    }
    // The range from the 0.1 % quantile (a few instant requests should not stretch a log axis
    // over decades of nothing; points below it sit on the axis start) to the maximum.
    let lo = cdfs
        .iter()
        .filter_map(|c| {
            c.points
                .iter()
                .find(|&&(v, q)| q >= 0.001 && v > 0.0)
                .map(|p| p.0)
        })
        .fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(0.0, f64::max);
    let x = if lo.is_finite() && render::wants_log(lo, hi, 30.0) {
        Axis::log(lo, hi, tick)
    } else {
        Axis::zero_to(hi, tick)
    };
    let mut y = Axis::linear(0.0..1.0, |v| format!("{} %", sig(v * 100.0)));
    y.ticks = vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    // The right axis names the marked quantiles.
    let mut y2 = Axis::linear(0.0..1.0, |v| match (v * 100.0).round() as i64 {
        50 => "p50".into(),
        95 => "p95".into(),
        99 => "p99".into(),
        _ => String::new(),
    });
    y2.ticks = vec![0.5, 0.95, 0.99];
    let x_desc = if x.log {
        "latency (ms, log scale)"
    } else {
        "latency (ms)"
    };
    let mut chart = render::dual_chart(
        &area,
        &Axes {
            x: &x,
            y: &y,
            x_desc,
            y_desc: "requests at or below (%)",
        },
        &y2,
        "",
    )?;
    for q in [0.5, 0.95, 0.99] {
        chart.draw_series(DashedLineSeries::new(
            vec![(x.range.start, q), (x.range.end, q)],
            6,
            6,
            GREY.mix(0.6).stroke_width(1),
        ))?;
    }
    for (i, c) in cdfs.iter().enumerate() {
        let colour = colours[i % 2];
        let pts: Vec<(f64, f64)> = c
            .points
            .iter()
            .map(|&(v, q)| (x.clamp(x.map(v)), q))
            .collect();
        chart.draw_series(LineSeries::new(pts, colour.stroke_width(3)))?;
    }
    let plot = chart.plotting_area();
    let strip = plot.strip_coord_spec();
    for (i, c) in cdfs.iter().enumerate() {
        for (_, q, v) in &c.marks {
            let p = plot.map_coordinate(&(x.clamp(x.map(*v)), *q));
            draw_marker(&strip, markers[i % 2], shift_into(plot, p), colours[i % 2])?;
        }
    }
    Ok(())
}

fn draw_top_functions(root: &Area, fs: &[FunctionColdStarts]) -> Result<(), DrawError> {
    let legend = vec![entry(
        "cold starts (label: count, share of the function's requests)",
        Swatch::Bar(ORANGE),
    )];
    let area = frame(root, "Functions with the most cold starts", &legend)?;
    let n = fs.len();
    let max = fs.iter().map(|f| f.cold_starts).max().unwrap_or(0) as f64;
    if max == 0.0 {
        return draw_empty(&area, "No function had a cold start.");
    }
    // Room on the right for the value labels.
    let x = Axis::counts(max * 1.3);
    let names: Vec<String> = fs.iter().map(|f| shorten(&f.name, 28)).collect();
    // Row 0 (the most cold starts) is drawn at the top.
    let row = move |i: usize| (n - 1 - i) as f64;
    let mut y = Axis::linear(-0.6..(n as f64 - 0.4), move |v| {
        let r = v.round();
        if r >= 0.0 && (r as usize) < n {
            names[n - 1 - r as usize].clone()
        } else {
            String::new()
        }
    });
    y.ticks = (0..n).map(|i| i as f64).collect();
    let mut chart = render::chart(
        &area,
        &Axes {
            x: &x,
            y: &y,
            x_desc: "cold starts",
            y_desc: "function",
        },
    )?;
    chart.draw_series(fs.iter().enumerate().map(|(i, f)| {
        let yc = row(i);
        Rectangle::new(
            [(0.0, yc - 0.32), (f.cold_starts as f64, yc + 0.32)],
            ORANGE.filled(),
        )
    }))?;
    let plot = chart.plotting_area();
    let strip = plot.strip_coord_spec();
    for (i, f) in fs.iter().enumerate() {
        let p = shift_into(plot, plot.map_coordinate(&(f.cold_starts as f64, row(i))));
        let r = if f.invocations == 0 {
            0.0
        } else {
            f.cold_starts as f64 / f.invocations as f64
        };
        let label = format!("{} ({})", thousands(f.cold_starts), percent(r));
        render::label_right_of(&strip, &label, (p.0 + 10, p.1), LABEL_SIZE, &GREY)?;
    }
    Ok(())
}
