//! The keep-alive Pareto chart of "Serverless in the Wild" (Shahrad et al., ATC 2020, figure
//! 15): one point per policy of a `sweep --keep-alive-policy` grid, wasted memory time normalised
//! to the `fixed:10m` policy against the 3rd-quartile application cold-start percentage. Lower
//! and further left is better on both axes.

use plotters::prelude::*;

use super::fmt::{sig, tick};
use super::render::{
    self, Area, Axes, Axis, BLUE, DrawError, LABEL_SIZE, LabelPlacer, Marker, ORANGE, Swatch,
    draw_empty, entry, frame,
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
/// Every point is numbered beside its marker (numbers are short, so each finds room among
/// clustered points; one set further off gets a leader line), and a table beside the chart
/// names each number's policy with its two values.
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
    let (w, _) = area.dim_in_pixel();
    let table_w = (w * 30 / 100).clamp(280, 520).min(w / 2);
    let (plot_area, table_area) = area.split_horizontally(w - table_w);
    let (xmax, ymax) = points
        .iter()
        .fold((0f64, 0f64), |(x, y), p| (x.max(p.wasted), y.max(p.p75)));
    let x = Axis::zero_to(xmax.max(1e-9) * 1.1, tick);
    let y = Axis::zero_to(ymax.max(1e-9) * 1.1, tick);
    let mut chart = render::chart(
        &plot_area,
        &Axes {
            x: &x,
            y: &y,
            x_desc,
            y_desc: "3rd-quartile application cold starts (%)",
        },
    )?;
    let color = |p: &PolicyPoint| {
        if p.label.starts_with("fixed:") {
            BLUE
        } else {
            ORANGE
        }
    };
    let fixed: Vec<&PolicyPoint> = points
        .iter()
        .filter(|p| p.label.starts_with("fixed:"))
        .collect();
    let mut line: Vec<(f64, f64)> = fixed.iter().map(|p| (p.wasted, p.p75)).collect();
    line.sort_by(|a, b| a.0.total_cmp(&b.0));
    chart.draw_series(LineSeries::new(line.clone(), BLUE.stroke_width(2)))?;
    for p in points {
        chart.draw_series(std::iter::once(Circle::new(
            (p.wasted, p.p75),
            7,
            color(p).filled(),
        )))?;
    }
    let plot = chart.plotting_area();
    let (xr, yr) = plot.get_pixel_range();
    let strip = plot.strip_coord_spec();
    let px = |a: f64, b: f64| {
        let p = plot.map_coordinate(&(a, b));
        (p.0 - xr.start, p.1 - yr.start)
    };
    let all: Vec<(i32, i32)> = points.iter().map(|p| px(p.wasted, p.p75)).collect();
    let groups = coincident(&all);
    let markers: Vec<(i32, i32)> = groups.iter().map(|g| all[g[0]]).collect();
    let labels: Vec<String> = groups.iter().map(|g| numbers(g)).collect();
    let path: Vec<(i32, i32)> = line.iter().map(|&(a, b)| px(a, b)).collect();
    let style = render::text(LABEL_SIZE);
    let sizes = labels
        .iter()
        .map(|l| {
            let (w, h) = strip.estimate_text_size(l, &style)?;
            Ok((w as i32, h as i32))
        })
        .collect::<Result<Vec<_>, DrawError>>()?;
    let bounds = (0, 0, xr.end - xr.start, yr.end - yr.start);
    let spots = number_spots(&markers, &path, &sizes, bounds);
    for (i, spot) in spots.iter().enumerate() {
        let Some((at, far)) = *spot else { continue };
        let c = color(&points[groups[i][0]]);
        if far {
            let (w, h) = sizes[i];
            strip.draw(&PathElement::new(
                vec![markers[i], (at.0 + w / 2, at.1 + h / 2)],
                c.stroke_width(1),
            ))?;
        }
        render::label_box(&strip, at, sizes[i])?;
        strip.draw_text(&labels[i], &style.color(&c), at)?;
    }
    draw_table(&table_area, points, &color)
}

/// The points (indices) that fall on one spot (markers within 3 px), each group in order, by
/// first member: they share one label.
fn coincident(markers: &[(i32, i32)]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, &(x, y)) in markers.iter().enumerate() {
        let near = |g: &&mut Vec<usize>| {
            let (gx, gy) = markers[g[0]];
            (gx - x).abs() <= 3 && (gy - y).abs() <= 3
        };
        match groups.iter_mut().find(|g| near(g)) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

/// Point numbers (1-based) of a group: runs of three or more as `a–b`, joined by commas.
fn numbers(group: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < group.len() {
        let mut j = i;
        while j + 1 < group.len() && group[j + 1] == group[j] + 1 {
            j += 1;
        }
        if j >= i + 2 {
            parts.push(format!("{}–{}", group[i] + 1, group[j] + 1));
        } else {
            parts.extend(group[i..=j].iter().map(|g| (g + 1).to_string()));
        }
        i = j + 1;
    }
    parts.join(",")
}

/// Where each point's number goes (top-left corner; `true` when off its first ring, drawn with
/// a leader line): rings of 8 spots at growing distance from the marker, the first that overlaps
/// no marker, no number placed before, and (for the near rings) not the fixed keep-alives' line.
/// `None` only when no ring has room.
fn number_spots(
    markers: &[(i32, i32)],
    path: &[(i32, i32)],
    sizes: &[(i32, i32)],
    bounds: (i32, i32, i32, i32),
) -> Vec<Option<((i32, i32), bool)>> {
    let mut placer = LabelPlacer::new(bounds);
    for &(x, y) in markers {
        placer.reserve((x - 8, y - 8, x + 8, y + 8));
    }
    placer.reserve_path(path);
    markers
        .iter()
        .zip(sizes)
        .map(|(&(x, y), &(w, h))| {
            (0..10).find_map(|ring| {
                let r = 12 + ring * 16;
                let candidates = [
                    (x + r, y - h / 2),
                    (x - r - w, y - h / 2),
                    (x - w / 2, y - r - h),
                    (x - w / 2, y + r),
                    (x + r * 3 / 4, y - r * 3 / 4 - h),
                    (x - r * 3 / 4 - w, y - r * 3 / 4 - h),
                    (x + r * 3 / 4, y + r * 3 / 4),
                    (x - r * 3 / 4 - w, y + r * 3 / 4),
                ];
                placer.place(w, h, &candidates).map(|at| (at, ring > 0))
            })
        })
        .collect()
}

/// The numbers' table: number, policy, relative wasted memory and p75 cold starts.
fn draw_table(
    area: &Area,
    points: &[PolicyPoint],
    color: &dyn Fn(&PolicyPoint) -> RGBColor,
) -> Result<(), DrawError> {
    let (_, h) = area.dim_in_pixel();
    let rows = points.len() as i32 + 1;
    let row_h = ((h as i32 - 40) / rows).clamp(10, 30);
    let size = (row_h as u32 * 3 / 4).clamp(9, LABEL_SIZE);
    let style = render::text(size);
    let header = style.color(&render::GREY);
    let cols = [10, 50, 260, 350];
    let mut y = 20;
    for (text, x) in ["#", "policy", "wasted", "p75 %"].iter().zip(cols) {
        area.draw_text(text, &header, (x, y))?;
    }
    for (i, p) in points.iter().enumerate() {
        y += row_h;
        let c = color(p);
        let st = style.color(&c);
        let cells = [
            (i + 1).to_string(),
            p.label.clone(),
            sig(p.wasted),
            sig(p.p75),
        ];
        for (text, x) in cells.iter().zip(cols) {
            area.draw_text(text, &st, (x, y))?;
        }
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
    fn every_point_gets_a_number_that_overlaps_nothing() {
        // The shipped sample's 12 policies at its chart's scale (about 275 px per unit of
        // wasted memory, 20 px per cold-start percent): four hybrid points within 90 px of each
        // other on the fixed curve.
        let pts = [
            (1.0, 25.4),
            (1.15, 20.8),
            (1.26, 20.0),
            (1.41, 19.4),
            (1.54, 19.4),
            (1.66, 17.6),
            (1.77, 14.6),
            (3.43, 0.0),
            (1.27, 20.4),
            (1.37, 20.4),
            (1.51, 20.0),
            (1.56, 20.0),
        ];
        let markers: Vec<(i32, i32)> = pts
            .iter()
            .map(|&(x, y)| ((x * 275.0) as i32, 620 - (y * 20.0) as i32))
            .collect();
        let path = markers[..7].to_vec();
        let sizes: Vec<(i32, i32)> = (1..=pts.len())
            .map(|i| (if i < 10 { 12 } else { 24 }, 22))
            .collect();
        let spots = number_spots(&markers, &path, &sizes, (0, 0, 1100, 620));
        let boxes: Vec<(i32, i32, i32, i32)> = spots
            .iter()
            .zip(&sizes)
            .map(|(s, &(w, h))| {
                let ((x, y), _) = s.expect("every point is numbered");
                (x, y, x + w, y + h)
            })
            .collect();
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                assert!(
                    a.2 <= b.0 || b.2 <= a.0 || a.3 <= b.1 || b.3 <= a.1,
                    "{a:?} {b:?}"
                );
            }
            for &(x, y) in &markers {
                let m = (x - 8, y - 8, x + 8, y + 8);
                assert!(
                    a.2 <= m.0 || m.2 <= a.0 || a.3 <= m.1 || m.3 <= a.1,
                    "{a:?} {m:?}"
                );
            }
        }
    }

    #[test]
    fn points_on_one_spot_share_one_label() {
        let markers = [
            (10, 10),
            (100, 50),
            (11, 9),
            (12, 10),
            (100, 52),
            (10, 10),
            (300, 1),
        ];
        let groups = coincident(&markers);
        assert_eq!(groups, vec![vec![0, 2, 3, 5], vec![1, 4], vec![6]]);
        assert_eq!(numbers(&groups[0]), "1,3,4,6");
        assert_eq!(numbers(&groups[1]), "2,5");
        assert_eq!(numbers(&[1, 2, 4, 5, 6, 7]), "2,3,5–8");
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
