//! The keep-alive Pareto chart of "Serverless in the Wild" (Shahrad et al., ATC 2020, figure
//! 15): one point per policy of a `sweep --keep-alive-policy` grid, wasted memory time normalised
//! to the `fixed:10m` policy against the 3rd-quartile application cold-start percentage. Lower
//! and further left is better on both axes.

use plotters::prelude::*;

use super::fmt::{sig, tick};
use super::render::{
    self, Area, Axes, Axis, BLUE, DrawError, LABEL_SIZE, LabelPlacer, Marker, ORANGE, Swatch,
    draw_empty, entry, frame, place_label_among,
};
use crate::sweep::{Metric, PointResult};

/// One policy's point: its name, wasted memory (normalised, or GB-s when nothing to normalise
/// to) and p75 application cold-start percentage.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyPoint {
    pub label: String,
    pub wasted: f64,
    pub p75: f64,
}

/// The reference every wasted memory is divided by (SitW's), as `KeepAliveSpec::spec` prints it.
pub const REFERENCE: &str = "fixed:600s";

/// The points of a grid swept over keep-alive policies (none if it was not), and the x axis
/// description: normalised to `fixed:10m` when the grid has it, else in GB-s.
pub fn policy_points(rows: &[PointResult]) -> Option<(Vec<PolicyPoint>, String)> {
    let wasted = |r: &PointResult| r.metric(Metric::WastedMemory.column()).map(|e| e.mean);
    let p75 = |r: &PointResult| r.metric(Metric::AppColdStartP75.column()).map(|e| e.mean);
    let rows: Vec<&PointResult> = rows
        .iter()
        .filter(|r| r.keep_alive_policy.is_some())
        .collect();
    if rows.is_empty() {
        return None;
    }
    let reference = rows
        .iter()
        .find(|r| r.keep_alive_policy.as_deref() == Some(REFERENCE))
        .and_then(|r| wasted(r))
        .filter(|&w| w > 0.0);
    let (div, desc) = match reference {
        Some(w) => (w, "wasted memory time, relative to fixed:10m".to_string()),
        None => (1.0, "wasted memory time (GB-s)".to_string()),
    };
    let points = rows
        .iter()
        .filter_map(|r| {
            Some(PolicyPoint {
                label: r.keep_alive_policy.clone()?,
                wasted: wasted(r)? / div,
                p75: p75(r)?,
            })
        })
        .collect();
    Some((points, desc))
}

/// Draws the policies' points, the fixed keep-alives joined by a line (their trade-off curve).
pub fn draw(
    root: &Area,
    points: &[PolicyPoint],
    x_desc: &str,
    title: &str,
) -> Result<(), DrawError> {
    let legend = vec![
        entry(
            "fixed keep-alive (line joins them by length)",
            Swatch::Marker(Marker::Circle, BLUE),
        ),
        entry("other policies", Swatch::Marker(Marker::Circle, ORANGE)),
    ];
    let area = frame(root, title, &legend)?;
    if points.is_empty() {
        return draw_empty(&area, "No policy to plot.");
    }
    let (xmax, ymax) = points
        .iter()
        .fold((0f64, 0f64), |(x, y), p| (x.max(p.wasted), y.max(p.p75)));
    let x = Axis::zero_to(xmax.max(1e-9) * 1.1, tick);
    let y = Axis::zero_to(ymax.max(1e-9) * 1.1, tick);
    let mut chart = render::chart(
        &area,
        &Axes {
            x: &x,
            y: &y,
            x_desc,
            y_desc: "3rd-quartile application cold starts (%)",
        },
    )?;
    let fixed: Vec<&PolicyPoint> = points
        .iter()
        .filter(|p| p.label.starts_with("fixed:"))
        .collect();
    let mut line: Vec<(f64, f64)> = fixed.iter().map(|p| (p.wasted, p.p75)).collect();
    line.sort_by(|a, b| a.0.total_cmp(&b.0));
    chart.draw_series(LineSeries::new(line, BLUE.stroke_width(2)))?;
    for p in points {
        let c = if p.label.starts_with("fixed:") {
            BLUE
        } else {
            ORANGE
        };
        chart.draw_series(std::iter::once(Circle::new(
            (p.wasted, p.p75),
            7,
            c.filled(),
        )))?;
    }
    let plot = chart.plotting_area();
    let (xr, yr) = plot.get_pixel_range();
    let strip = plot.strip_coord_spec();
    let px = |a: f64, b: f64| {
        let p = plot.map_coordinate(&(a, b));
        (p.0 - xr.start, p.1 - yr.start)
    };
    let mut placer = LabelPlacer::new((0, 0, xr.end - xr.start, yr.end - yr.start));
    for p in points {
        let q = px(p.wasted, p.p75);
        placer.reserve((q.0 - 8, q.1 - 8, q.0 + 8, q.1 + 8));
    }
    for p in points {
        let q = px(p.wasted, p.p75);
        let label = format!("{} ({}, {} %)", p.label, sig(p.wasted), sig(p.p75));
        let c = if p.label.starts_with("fixed:") {
            BLUE
        } else {
            ORANGE
        };
        place_label_among(&strip, &mut placer, &label, LABEL_SIZE, &c, |w, h| {
            vec![
                (q.0 + 14, q.1 - h / 2),
                (q.0 - 14 - w, q.1 - h / 2),
                (q.0 - w / 2, q.1 - 14 - h),
                (q.0 - w / 2, q.1 + 14),
            ]
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::Estimate;

    fn row(policy: &str, wasted: f64, p75: f64) -> PointResult {
        PointResult {
            settings: vec![],
            keep_alive_policy: Some(policy.into()),
            replicas: 1,
            metrics: vec![
                ("wasted_memory_gb_s".into(), Estimate::of(&[wasted])),
                ("app_cold_start_pct_p75".into(), Estimate::of(&[p75])),
            ],
        }
    }

    #[test]
    fn wasted_memory_is_normalised_to_fixed_10m() {
        let rows = [
            row("fixed:600s", 200.0, 40.0),
            row("hybrid:4h:5:99", 150.0, 10.0),
        ];
        let (pts, desc) = policy_points(&rows).unwrap();
        assert!(desc.contains("relative to fixed:10m"));
        assert_eq!(pts[0].wasted, 1.0);
        assert_eq!(pts[1].wasted, 0.75);
        assert_eq!(pts[1].p75, 10.0);
        // Without the reference: GB-s as they are.
        let (pts, desc) = policy_points(&rows[1..]).unwrap();
        assert!(desc.contains("GB-s"));
        assert_eq!(pts[0].wasted, 150.0);
        assert!(policy_points(&[]).is_none());
    }
}
