//! The simulate report's charts: drawing only, from precomputed series.

use plotters::prelude::*;

use super::{Cdf, FunctionColdStarts, ProvisionedLine, Timeline};
use crate::report::fmt::{ms, percent, shorten, sig, thousands, tick};
use crate::report::render::{
    self, Area, Axes, Axis, BLUE, DrawError, GREY, LABEL_SIZE, LIGHT_BLUE, Marker, ORANGE, PURPLE,
    RED, Swatch, TEAL, draw_empty, draw_marker, entry, frame,
};

/// Buckets with cold starts beyond which they are drawn as ticks on the time axis, not as
/// triangles on the curve (which would hide it).
const MAX_COLD_MARKS: usize = 60;

fn time_axis(t: &Timeline) -> Axis {
    Axis::linear(0.0..t.window.max(1e-9), tick)
}

pub(super) fn draw_concurrency(root: &Area, t: &Timeline) -> Result<(), DrawError> {
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
    if let Some((u, vcpu)) = t.cpu {
        // The instances' CPU: a number for the whole run, not a series.
        legend.push(entry(
            format!(
                "busy instances used {} % of their {} vCPU",
                sig(u * 100.0),
                sig(vcpu)
            ),
            Swatch::Line(GREY),
        ));
    }
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

pub(super) fn draw_counts(root: &Area, t: &Timeline) -> Result<(), DrawError> {
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

pub(super) fn draw_cdf(root: &Area, cdfs: &[Cdf]) -> Result<(), DrawError> {
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

pub(super) fn draw_top_functions(root: &Area, fs: &[FunctionColdStarts]) -> Result<(), DrawError> {
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
