//! Drawing with plotters: a 1600×900 RGB buffer, text in the embedded DejaVu Sans (registered
//! with plotters' `ab_glyph` support, so no system font is needed), PNG encoding, and the pieces
//! every chart shares: the title, a legend *above* the plot (so it never covers data), the
//! palette, axis ranges with round ends, log-axis ticks, and labels that do not overlap.

use std::fs::File;
use std::io::BufWriter;
use std::ops::Range;
use std::path::Path;
use std::rc::Rc;
use std::sync::OnceLock;

use plotters::chart::DualCoordChartContext;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ReportError;

/// Chart width, pixels.
pub const WIDTH: u32 = 1600;
/// Chart height, pixels.
pub const HEIGHT: u32 = 900;

/// The family name the embedded font is registered under; plotters' defaults use it too.
pub(crate) const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");

pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Font sizes, pixels.
pub(crate) const TITLE_SIZE: u32 = 38;
pub(crate) const DESC_SIZE: u32 = 26;
pub(crate) const LABEL_SIZE: u32 = 22;
pub(crate) const LEGEND_SIZE: u32 = 22;

/// Why drawing failed, as text; [`render_png`] names the chart.
#[derive(Debug)]
pub(crate) struct DrawError(pub String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        DrawError(e.to_string())
    }
}

impl From<String> for DrawError {
    fn from(s: String) -> Self {
        DrawError(s)
    }
}

/// Registers the embedded font once per process.
fn ensure_font() -> Result<(), ReportError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ReportError::Font {
            reason: "DejaVuSans.ttf is not a TrueType font plotters can read".into(),
        })
    }
}

/// Draws one chart with `draw` on a white 1600×900 canvas and writes it to `path` as a PNG.
/// A drawing error, or a panic inside plotters, becomes a [`ReportError::Chart`] naming the file.
pub(crate) fn render_png(
    path: &Path,
    draw: &dyn Fn(&Area) -> Result<(), DrawError>,
) -> Result<(), ReportError> {
    ensure_font()?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    let mut buf = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    // Inputs are validated before drawing; catching a panic is the last line of defence, so a
    // plotters bug on an odd input is an error message and not an abort.
    let drawn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
        Ok::<(), DrawError>(())
    }));
    match drawn {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(ReportError::chart(&name, e.0)),
        Err(_) => {
            return Err(ReportError::chart(
                &name,
                "the plotting library failed on this data (a panic inside plotters)",
            ));
        }
    }
    let file = File::create(path).map_err(|e| ReportError::io(path, "cannot create", e))?;
    let mut enc = png::Encoder::new(BufWriter::new(file), WIDTH, HEIGHT);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let png_err = |e: png::EncodingError| match e {
        png::EncodingError::IoError(io) => ReportError::io(path, "cannot write", io),
        other => ReportError::chart(&name, format!("PNG encoding failed: {other}")),
    };
    let mut w = enc.write_header().map_err(png_err)?;
    w.write_image_data(&buf).map_err(png_err)?;
    w.finish().map_err(png_err)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Palette (Tableau 10: distinguishable, and readable by most colour-blind readers).

pub(crate) const BLUE: RGBColor = RGBColor(0x4e, 0x79, 0xa7);
pub(crate) const ORANGE: RGBColor = RGBColor(0xf2, 0x8e, 0x2b);
pub(crate) const RED: RGBColor = RGBColor(0xe1, 0x57, 0x59);
pub(crate) const TEAL: RGBColor = RGBColor(0x76, 0xb7, 0xb2);
pub(crate) const GREEN: RGBColor = RGBColor(0x59, 0xa1, 0x4f);
pub(crate) const YELLOW: RGBColor = RGBColor(0xed, 0xc9, 0x48);
pub(crate) const PURPLE: RGBColor = RGBColor(0xb0, 0x7a, 0xa1);
pub(crate) const PINK: RGBColor = RGBColor(0xff, 0x9d, 0xa7);
pub(crate) const BROWN: RGBColor = RGBColor(0x9c, 0x75, 0x5f);
pub(crate) const GREY: RGBColor = RGBColor(0x79, 0x70, 0x6e);
pub(crate) const LIGHT_GREY: RGBColor = RGBColor(0xba, 0xb0, 0xac);
pub(crate) const LIGHT_BLUE: RGBColor = RGBColor(0xa0, 0xb8, 0xd4);
pub(crate) const PALE_BLUE: RGBColor = RGBColor(0xcf, 0xdb, 0xe9);
pub(crate) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);

pub(crate) const PALETTE: [RGBColor; 10] = [
    BLUE, ORANGE, RED, TEAL, GREEN, YELLOW, PURPLE, PINK, BROWN, LIGHT_GREY,
];

/// The `i`-th palette colour, cycling.
pub(crate) fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A text style in the embedded font.
pub(crate) fn text(size: u32) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&INK)
}

pub(crate) fn text_at(size: u32, h: HPos, v: VPos) -> TextStyle<'static> {
    text(size).pos(Pos::new(h, v))
}

// ---------------------------------------------------------------------------------------------
// The frame: title and legend above the plot.

/// How a legend entry's swatch looks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Swatch {
    Line(RGBColor),
    /// A thin line.
    Thin(RGBColor),
    Dashed(RGBColor),
    /// A translucent band (a confidence interval, a filled area).
    Band(RGBColor),
    /// A filled box (a bar).
    Bar(RGBColor),
    Marker(Marker, RGBColor),
    /// A short vertical tick (marks along an axis).
    Tick(RGBColor),
}

#[derive(Debug, Clone)]
pub(crate) struct LegendEntry {
    pub label: String,
    pub swatch: Swatch,
}

pub(crate) fn entry(label: impl Into<String>, swatch: Swatch) -> LegendEntry {
    LegendEntry {
        label: label.into(),
        swatch,
    }
}

const SWATCH_W: i32 = 44;
const LEGEND_ROW: i32 = 34;

/// Draws the title and the legend at the top of `root` and returns the area left for the plot.
/// The legend wraps into as many rows as it needs.
pub(crate) fn frame<'a>(
    root: &Area<'a>,
    title: &str,
    legend: &[LegendEntry],
) -> Result<Area<'a>, DrawError> {
    let (w, _) = root.dim_in_pixel();
    root.draw_text(
        title,
        &text_at(TITLE_SIZE, HPos::Center, VPos::Top),
        (w as i32 / 2, 18),
    )?;
    let mut y = 18 + TITLE_SIZE as i32 + 16;
    // Lay the entries out in rows, then centre each row.
    let style = text_at(LEGEND_SIZE, HPos::Left, VPos::Center);
    let gap = 36;
    let max_row = w as i32 - 120;
    let mut rows: Vec<Vec<(usize, i32)>> = vec![Vec::new()];
    let mut row_w = 0;
    for (i, e) in legend.iter().enumerate() {
        let (tw, _) = root.estimate_text_size(&e.label, &style)?;
        let ew = SWATCH_W + 10 + tw as i32;
        let need = if row_w == 0 { ew } else { row_w + gap + ew };
        if need > max_row && row_w > 0 {
            rows.push(Vec::new());
            row_w = ew;
        } else {
            row_w = need;
        }
        if let Some(r) = rows.last_mut() {
            r.push((i, ew));
        }
    }
    for row in rows.iter().filter(|r| !r.is_empty()) {
        let total: i32 = row.iter().map(|&(_, ew)| ew).sum::<i32>() + gap * (row.len() as i32 - 1);
        let mut x = (w as i32 - total) / 2;
        let cy = y + LEGEND_ROW / 2;
        for &(i, ew) in row {
            let e = &legend[i];
            draw_swatch(root, e.swatch, x, cy)?;
            root.draw_text(&e.label, &style, (x + SWATCH_W + 10, cy))?;
            x += ew + gap;
        }
        y += LEGEND_ROW;
    }
    if !legend.is_empty() {
        y += 8;
    }
    let (_, h) = root.dim_in_pixel();
    let top = y.clamp(0, h as i32 - 100) as u32;
    let (_, rest) = root.split_vertically(top);
    Ok(rest)
}

fn draw_swatch(root: &Area, s: Swatch, x: i32, cy: i32) -> Result<(), DrawError> {
    let x1 = x + SWATCH_W;
    match s {
        Swatch::Line(c) => {
            root.draw(&PathElement::new(
                vec![(x, cy), (x1, cy)],
                c.stroke_width(4),
            ))?;
        }
        Swatch::Thin(c) => {
            root.draw(&PathElement::new(
                vec![(x, cy), (x1, cy)],
                c.stroke_width(2),
            ))?;
        }
        Swatch::Dashed(c) => {
            for k in 0..4 {
                let a = x + k * 12;
                root.draw(&PathElement::new(
                    vec![(a, cy), ((a + 7).min(x1), cy)],
                    c.stroke_width(3),
                ))?;
            }
        }
        Swatch::Band(c) => {
            root.draw(&Rectangle::new(
                [(x, cy - 10), (x1, cy + 10)],
                c.mix(0.25).filled(),
            ))?;
        }
        Swatch::Bar(c) => {
            root.draw(&Rectangle::new(
                [(x + 6, cy - 11), (x1 - 6, cy + 11)],
                c.filled(),
            ))?;
        }
        Swatch::Marker(m, c) => {
            draw_marker(root, m, (x + SWATCH_W / 2, cy), c)?;
        }
        Swatch::Tick(c) => {
            for dx in [10, 22, 34] {
                root.draw(&PathElement::new(
                    vec![(x + dx, cy - 9), (x + dx, cy + 9)],
                    c.stroke_width(2),
                ))?;
            }
        }
    }
    Ok(())
}

/// Point marker shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Triangle,
    Diamond,
    /// A large ringed dot, for the one point that matters (a recommendation, a crossing).
    Target,
}

/// Draws a marker centred on pixel `p` of `area`.
pub(crate) fn draw_marker(
    area: &Area,
    m: Marker,
    p: (i32, i32),
    c: RGBColor,
) -> Result<(), DrawError> {
    let (x, y) = p;
    match m {
        Marker::Circle => {
            area.draw(&Circle::new(p, 6, c.filled()))?;
            area.draw(&Circle::new(p, 6, WHITE.stroke_width(1)))?;
        }
        Marker::Triangle => {
            area.draw(&Polygon::new(
                vec![(x, y - 9), (x - 8, y + 6), (x + 8, y + 6)],
                c.filled(),
            ))?;
        }
        Marker::Diamond => {
            area.draw(&Polygon::new(
                vec![(x, y - 9), (x + 8, y), (x, y + 9), (x - 8, y)],
                c.filled(),
            ))?;
        }
        Marker::Target => {
            area.draw(&Circle::new(p, 14, c.stroke_width(3)))?;
            area.draw(&Circle::new(p, 7, c.filled()))?;
        }
    }
    Ok(())
}

/// Draws a note centred in `area` (a chart with nothing to plot).
pub(crate) fn draw_empty(area: &Area, note: &str) -> Result<(), DrawError> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Rectangle::new(
        [(60, 20), (w as i32 - 60, h as i32 - 40)],
        LIGHT_GREY.stroke_width(2),
    ))?;
    area.draw_text(
        note,
        &text_at(DESC_SIZE, HPos::Center, VPos::Center),
        (w as i32 / 2, h as i32 / 2),
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Axes.

/// Chart coordinates: a linear f64 range with our own tick positions. Log axes are linear in
/// log10 of the value (see [`Axis`]), so every chart has this one coordinate type.
#[derive(Clone)]
pub(crate) struct Coord {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
    minor: Vec<f64>,
}

impl Ranged for Coord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}
pub(crate) type Chart2d<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<Coord, Coord>>;

/// One axis: its range and ticks in chart coordinates, whether it is logarithmic, and how its
/// tick labels read.
#[derive(Clone)]
pub(crate) struct Axis {
    /// In chart coordinates (log10 of the value on a log axis).
    pub range: Range<f64>,
    pub ticks: Vec<f64>,
    /// Light grid lines, chart coordinates.
    pub minor: Vec<f64>,
    pub log: bool,
    /// Tick label of a value (not a chart coordinate).
    pub fmt: Rc<dyn Fn(f64) -> String>,
}

/// A round number at or above `x`: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten.
pub(crate) fn nice_ceil(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * p >= x * (1.0 - 1e-12) {
            return m * p;
        }
    }
    10.0 * p
}

/// True when values from `min` to `max` (both > 0) span enough to want a log axis.
pub(crate) fn wants_log(min: f64, max: f64, ratio: f64) -> bool {
    min > 0.0 && max > 0.0 && max / min >= ratio
}

/// A tick step of 1, 2, 2.5 or 5 times a power of ten giving about `target` ticks over `span`.
fn tick_step(span: f64, target: f64) -> f64 {
    let raw = (span / target).max(1e-12);
    let p = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= raw * (1.0 - 1e-12) {
            return m * p;
        }
    }
    10.0 * p
}

fn linear_ticks(range: &Range<f64>, step: f64) -> Vec<f64> {
    let first = (range.start / step - 1e-9).ceil() as i64;
    let last = (range.end / step + 1e-9).floor() as i64;
    (first..=last.max(first))
        .take(200)
        .map(|i| i as f64 * step)
        .filter(|v| *v >= range.start - step * 1e-6 && *v <= range.end + step * 1e-6)
        .collect()
}

impl Axis {
    /// A linear axis over `range` with about 8 ticks.
    pub fn linear(range: Range<f64>, fmt: impl Fn(f64) -> String + 'static) -> Axis {
        let (lo, hi) = if range.end > range.start {
            (range.start, range.end)
        } else {
            (range.start, range.start + 1.0)
        };
        let step = tick_step(hi - lo, 8.0);
        let range = lo..hi;
        Axis {
            ticks: linear_ticks(&range, step),
            minor: Vec::new(),
            range,
            log: false,
            fmt: Rc::new(fmt),
        }
    }

    /// From 0 to a round number with head room above `max`.
    pub fn zero_to(max: f64, fmt: impl Fn(f64) -> String + 'static) -> Axis {
        let top = nice_ceil(max.max(0.0) * 1.06);
        let top = if top > 0.0 { top } else { 1.0 };
        // End on a tick.
        let step = tick_step(top, 8.0);
        Axis::linear(0.0..(top / step - 1e-9).ceil() * step, fmt)
    }

    /// From 0, with whole-number ticks (counts of things).
    pub fn counts(max: f64) -> Axis {
        let top = nice_ceil(max.max(1.0) * 1.06).max(1.0);
        let mut a = Axis::linear(0.0..top, super::fmt::tick);
        if top <= 8.0 {
            a.ticks = (0..=top.ceil() as i64).map(|i| i as f64).collect();
            a.range = 0.0..top.ceil();
        } else {
            a.ticks.retain(|t| t.fract() == 0.0);
        }
        a
    }

    /// Around `[min, max]` with a little room, ending on ticks; from 0 when `min` is within a
    /// quarter of the span from it. For scatter plots, where the spread matters more than the
    /// distance from zero.
    pub fn padded(min: f64, max: f64, fmt: impl Fn(f64) -> String + 'static) -> Axis {
        let (lo, hi) = if min <= max { (min, max) } else { (max, min) };
        let span = (hi - lo).max(hi.abs() * 0.02).max(1e-9);
        if lo >= 0.0 && lo <= span * 0.25 {
            return Axis::zero_to(hi, fmt);
        }
        let step = tick_step(span * 1.1, 7.0);
        let a = ((lo - span * 0.05) / step).floor() * step;
        let b = ((hi + span * 0.05) / step).ceil() * step;
        let a = if lo >= 0.0 { a.max(0.0) } else { a };
        Axis::linear(a..b, fmt)
    }

    /// A log axis from the decade at or below `min` to the decade at or above `max` (both > 0),
    /// ticks at 1, 2 and 5 times each power of ten (only the powers when it spans more than
    /// four decades), light lines at the other multiples.
    pub fn log(min: f64, max: f64, fmt: impl Fn(f64) -> String + 'static) -> Axis {
        let min = if min > 0.0 && min.is_finite() {
            min
        } else {
            1e-3
        };
        let max = if max > min && max.is_finite() {
            max
        } else {
            min * 10.0
        };
        let lo = (min.log10() + 1e-9).floor() as i32;
        let mut hi = (max.log10() - 1e-9).ceil() as i32;
        if hi <= lo {
            hi = lo + 1;
        }
        // The ends: 1, 2 or 5 times a power of ten, the tightest around the data.
        let start = [5.0, 2.0, 1.0]
            .iter()
            .map(|m| m * 10f64.powi(lo))
            .find(|&v| v <= min * (1.0 + 1e-9))
            .unwrap_or(10f64.powi(lo));
        let end = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * 10f64.powi(hi - 1))
            .find(|&v| v >= max * (1.0 - 1e-9))
            .unwrap_or(10f64.powi(hi));
        let (a, b) = (start.log10(), end.log10());
        let many = hi - lo > 4;
        let (mut ticks, mut minor) = (Vec::new(), Vec::new());
        for e in lo..=hi {
            for m in 1..10 {
                let v = (m as f64 * 10f64.powi(e)).log10();
                if v < a - 1e-9 {
                    continue;
                }
                if v > b + 1e-9 {
                    break;
                }
                let bold = m == 1 || (!many && (m == 2 || m == 5));
                if bold {
                    ticks.push(v);
                } else {
                    minor.push(v);
                }
            }
        }
        Axis {
            range: a..b,
            ticks,
            minor,
            log: true,
            fmt: Rc::new(fmt),
        }
    }

    /// A value in chart coordinates.
    pub fn map(&self, v: f64) -> f64 {
        if self.log { v.max(1e-300).log10() } else { v }
    }

    /// The tick label at chart coordinate `c`. On a linear axis the ticks get as many decimals
    /// as they need to differ ([`super::fmt::distinct_ticks`]).
    pub fn label(&self, c: f64) -> String {
        if !self.log
            && let Some(i) = self
                .ticks
                .iter()
                .position(|t| (t - c).abs() <= 1e-9 * t.abs().max(1e-12))
        {
            let labels = super::fmt::distinct_ticks(&self.ticks, &*self.fmt);
            if let Some(l) = labels.into_iter().nth(i) {
                return l;
            }
        }
        let v = if self.log {
            // Round to 3 significant digits so 10^2.30103 reads 200.
            let v = 10f64.powf(c);
            let p = 10f64.powf(v.log10().floor() - 2.0);
            (v / p).round() * p
        } else {
            c
        };
        (self.fmt)(v)
    }

    /// The range as a plotters coordinate spec with our ticks.
    pub fn spec(&self) -> Coord {
        Coord {
            inner: self.range.clone().into(),
            ticks: self.ticks.clone(),
            minor: self.minor.clone(),
        }
    }

    /// Clamps a chart coordinate into the range.
    pub fn clamp(&self, c: f64) -> f64 {
        c.clamp(self.range.start, self.range.end)
    }

    /// The widest tick label, pixels.
    fn label_width(&self, area: &Area) -> Result<u32, DrawError> {
        let style = text(LABEL_SIZE);
        let mut w = 0;
        for &t in &self.ticks {
            w = w.max(area.estimate_text_size(&self.label(t), &style)?.0);
        }
        Ok(w)
    }
}

/// A chart's axes and their descriptions (with units).
pub(crate) struct Axes<'s> {
    pub x: &'s Axis,
    pub y: &'s Axis,
    pub x_desc: &'s str,
    pub y_desc: &'s str,
}

pub(crate) type Dual2d<'a, 'b> = DualCoordChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<Coord, Coord>,
    Cartesian2d<Coord, Coord>,
>;

fn build<'a, 'b>(
    area: &'a Area<'b>,
    axes: &Axes,
    right: Option<&Axis>,
) -> Result<Chart2d<'a, 'b>, DrawError> {
    let left = axes.y.label_width(area)? + DESC_SIZE + 34;
    let right_w = match right {
        Some(r) => r.label_width(area)? + DESC_SIZE + 34,
        None => 0,
    };
    Ok(ChartBuilder::on(area)
        .margin_left(16)
        .margin_right(if right.is_some() { 16 } else { 44 })
        .margin_top(10)
        .margin_bottom(14)
        .x_label_area_size(LABEL_SIZE + DESC_SIZE + 30)
        .y_label_area_size(left)
        .right_y_label_area_size(right_w)
        .build_cartesian_2d(axes.x.spec(), axes.y.spec())?)
}

fn mesh(chart: &mut Chart2d, axes: &Axes) -> Result<(), DrawError> {
    let (x, y) = (axes.x, axes.y);
    let xf = |v: &f64| x.label(*v);
    let yf = |v: &f64| y.label(*v);
    chart
        .configure_mesh()
        .x_desc(axes.x_desc)
        .y_desc(axes.y_desc)
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style(text(LABEL_SIZE))
        .axis_desc_style(text(DESC_SIZE))
        .bold_line_style(RGBColor(0xd8, 0xd8, 0xd8).stroke_width(1))
        .light_line_style(RGBColor(0xee, 0xee, 0xee).stroke_width(1))
        .axis_style(GREY.stroke_width(2))
        .draw()?;
    Ok(())
}

/// Builds a cartesian chart on `area` and draws its mesh: light grid, axis descriptions, tick
/// labels from the axes.
pub(crate) fn chart<'a, 'b>(area: &'a Area<'b>, axes: &Axes) -> Result<Chart2d<'a, 'b>, DrawError> {
    let mut c = build(area, axes, None)?;
    mesh(&mut c, axes)?;
    Ok(c)
}

/// Like [`chart`], with a second y axis `y2` on the right (same x axis).
pub(crate) fn dual_chart<'a, 'b>(
    area: &'a Area<'b>,
    axes: &Axes,
    y2: &Axis,
    y2_desc: &str,
) -> Result<Dual2d<'a, 'b>, DrawError> {
    // The secondary coordinates take over the right label area, so the primary mesh is drawn
    // after they are set (otherwise both label sets land on the right).
    let mut c = build(area, axes, Some(y2))?.set_secondary_coord(axes.x.spec(), y2.spec());
    mesh(&mut c, axes)?;
    let yf = |v: &f64| y2.label(*v);
    c.configure_secondary_axes()
        .y_desc(y2_desc)
        .y_label_formatter(&yf)
        .label_style(text(LABEL_SIZE))
        .axis_desc_style(text(DESC_SIZE))
        .axis_style(GREY.stroke_width(2))
        .draw()?;
    Ok(c)
}

/// Places text labels and skips any that would overlap one placed before or leave `bounds`.
pub(crate) struct LabelPlacer {
    taken: Vec<(i32, i32, i32, i32)>,
    bounds: (i32, i32, i32, i32),
}

impl LabelPlacer {
    /// `bounds`: (x0, y0, x1, y1) in the area's pixels where labels may go.
    pub fn new(bounds: (i32, i32, i32, i32)) -> Self {
        LabelPlacer {
            taken: Vec::new(),
            bounds,
        }
    }

    /// Reserves a box (a marker, another element) so labels avoid it.
    pub fn reserve(&mut self, b: (i32, i32, i32, i32)) {
        self.taken.push(b);
    }

    /// Reserves a drawn line (pixels), so labels do not cover it.
    pub fn reserve_path(&mut self, pts: &[(i32, i32)]) {
        for w in pts.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            let len = ((x1 - x0) as f64).hypot((y1 - y0) as f64);
            let steps = (len / 4.0).ceil().max(1.0) as i32;
            for k in 0..=steps {
                let x = x0 + (x1 - x0) * k / steps;
                let y = y0 + (y1 - y0) * k / steps;
                self.taken.push((x - 2, y - 2, x + 2, y + 2));
            }
        }
    }

    /// Tries each candidate top-left position for a `w`×`h` label and returns the first that
    /// fits, reserving it.
    pub fn place(&mut self, w: i32, h: i32, candidates: &[(i32, i32)]) -> Option<(i32, i32)> {
        let (bx0, by0, bx1, by1) = self.bounds;
        for &(x, y) in candidates {
            let b = (x - 3, y - 3, x + w + 3, y + h + 3);
            if b.0 < bx0 || b.1 < by0 || b.2 > bx1 || b.3 > by1 {
                continue;
            }
            let overlaps = self
                .taken
                .iter()
                .any(|t| b.0 < t.2 && t.0 < b.2 && b.1 < t.3 && t.1 < b.3);
            if !overlaps {
                self.taken.push(b);
                return Some((x, y));
            }
        }
        None
    }
}

/// Draws `label` near pixel `p` of `area`, at least `clear` pixels from it (right, above or below
/// right, left, ..., above, below: the first spot that overlaps no label placed before and stays
/// inside the placer's bounds), on a white background. Returns whether it was drawn.
#[allow(clippy::too_many_arguments)]
pub(crate) fn place_label(
    area: &Area,
    placer: &mut LabelPlacer,
    label: &str,
    p: (i32, i32),
    clear: i32,
    size: u32,
    color: &RGBColor,
) -> Result<bool, DrawError> {
    let (x, y) = p;
    place_label_among(area, placer, label, size, color, |w, h| {
        // Beside the point, or above or below it clear of a `clear`-sized square around it.
        let (above, below) = (y - clear - 4 - h, y + clear + 4);
        vec![
            (x + clear + 6, y - h / 2),
            (x + clear / 2, above),
            (x + clear / 2, below),
            (x - clear - 6 - w, y - h / 2),
            (x - clear / 2 - w, above),
            (x - clear / 2 - w, below),
            (x - w / 2, above),
            (x - w / 2, below),
        ]
    })
}

/// Draws `label` at the first of `candidates(w, h)` (top-left corners) that is free.
pub(crate) fn place_label_among(
    area: &Area,
    placer: &mut LabelPlacer,
    label: &str,
    size: u32,
    color: &RGBColor,
    candidates: impl Fn(i32, i32) -> Vec<(i32, i32)>,
) -> Result<bool, DrawError> {
    let style = text(size).color(color);
    let (w, h) = area.estimate_text_size(label, &style)?;
    let (w, h) = (w as i32, h as i32);
    match placer.place(w, h, &candidates(w, h)) {
        Some((lx, ly)) => {
            label_box(area, (lx, ly), (w, h))?;
            area.draw_text(label, &style, (lx, ly))?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// A white box behind a label of size `(w, h)` whose top-left is `at`, so lines under it do not
/// cross the text.
pub(crate) fn label_box(area: &Area, at: (i32, i32), (w, h): (i32, i32)) -> Result<(), DrawError> {
    let (x, y) = at;
    area.draw(&Rectangle::new(
        [(x - 3, y - 3), (x + w + 3, y + h + 3)],
        WHITE.mix(0.9).filled(),
    ))?;
    Ok(())
}

/// Draws `label` with its left end at `at` and centred on it vertically, on a white box.
pub(crate) fn label_right_of(
    area: &Area,
    label: &str,
    at: (i32, i32),
    size: u32,
    color: &RGBColor,
) -> Result<(), DrawError> {
    let style = text(size).color(color);
    let (w, h) = area.estimate_text_size(label, &style)?;
    let (w, h) = (w as i32, h as i32);
    let top = (at.0, at.1 - h / 2);
    label_box(area, top, (w, h))?;
    area.draw_text(label, &style, top)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(x: f64) -> String {
        super::super::fmt::sig(x)
    }

    #[test]
    fn round_axis_ends() {
        assert_eq!(nice_ceil(7.3), 8.0);
        assert_eq!(nice_ceil(0.42), 0.5);
        assert_eq!(nice_ceil(1000.0), 1000.0);
        let a = Axis::zero_to(93.0, plain);
        assert_eq!(a.range, 0.0..100.0);
        assert_eq!(a.ticks.first(), Some(&0.0));
        assert_eq!(a.ticks.last(), Some(&100.0));
        let l = Axis::log(3.0, 450.0, plain);
        assert_eq!(
            (l.label(l.range.start), l.label(l.range.end)),
            ("2".into(), "500".into())
        );
        let labels: Vec<String> = l.ticks.iter().map(|&t| l.label(t)).collect();
        assert_eq!(labels, ["2", "5", "10", "20", "50", "100", "200", "500"]);
        let l = Axis::log(0.48, 480.0, plain);
        assert_eq!(
            (l.label(l.range.start), l.label(l.range.end)),
            ("0.2".into(), "500".into())
        );
        let c = Axis::counts(3.0);
        assert_eq!(c.ticks, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn labels_do_not_overlap() {
        let mut p = LabelPlacer::new((0, 0, 100, 100));
        assert_eq!(p.place(20, 10, &[(10, 10)]), Some((10, 10)));
        assert_eq!(p.place(20, 10, &[(15, 12)]), None);
        assert_eq!(p.place(20, 10, &[(15, 12), (50, 50)]), Some((50, 50)));
        assert_eq!(p.place(20, 10, &[(95, 50)]), None);
    }
}
