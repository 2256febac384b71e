//! Charts of a simulation, each written as SVG and PNG (plotters, pure Rust;
//! text in DejaVu Sans, checked in under `assets/fonts/` with its licence).
//!
//! * `distribution-<variant>`: per year a box per party (whiskers P5-P95,
//!   box P25-P75, line at the median).
//! * `sweep-<variant>`: each party's result over the term along the sweep
//!   axis (one line per value of the second axis, for the first provider,
//!   when there are two axes).
//! * `tornado-<variant>`: how far each random input, from its 5th to its
//!   95th percentile, moves the first provider's result over the term.
//! * `comparison`: variants side by side, per party the mean economic
//!   result over the term of each variant with a whisker from P5 to P95.
//! * Bars ([`Chart::Bars`]): a party's cash and economic result per year
//!   of a contract's term summary (the web's contract page).
//!
//! Lines of a line chart differ in colour, dash pattern and marker shape,
//! so lines on top of each other stay distinguishable.
//!
//! Each chart is drawn by one function into any plotters backend: a file
//! ([`write`]: SVG and PNG) or a string ([`svg`], shown inline by the web
//! workspace). Everything it draws comes from [`super::simulation`].

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const SIZE: (u32, u32) = (960, 540);
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("cannot draw chart: {e:?}")
}

/// A chart's data, drawable on any backend.
pub enum Chart {
    /// Box plots per year: title, year labels, per party (name, per year
    /// [P5, P25, P50, P75, P95] in euros).
    Boxes {
        /// Title.
        title: String,
        /// Y axis label.
        y_label: String,
        /// Year labels.
        years: Vec<String>,
        /// Per party: name and per year the five percentiles.
        parties: Vec<(String, Vec<[f64; 5]>)>,
    },
    /// Lines: title, x label, per series (name, points).
    Lines {
        /// Title.
        title: String,
        /// X axis label.
        x_label: String,
        /// Y axis label.
        y_label: String,
        /// Per series: name and (x, y) points in euros.
        series: Vec<(String, Vec<(f64, f64)>)>,
    },
    /// Tornado: title, central result, per input (name, result at P5, at P95).
    Tornado {
        /// Title.
        title: String,
        /// X axis label.
        x_label: String,
        /// The result with every input at its central value.
        base: f64,
        /// Per input: name, result at its 5th and at its 95th percentile.
        bars: Vec<(String, f64, f64)>,
    },
    /// Variants side by side: per party a group of bars, one per variant
    /// (the mean, with a whisker from P5 to P95).
    Compare {
        /// Title.
        title: String,
        /// Y axis label.
        y_label: String,
        /// Variant names, in the order of the bars in each group.
        variants: Vec<String>,
        /// Per party: name and per variant [P5, mean, P95] (`None` when the
        /// variant does not have the party).
        groups: Vec<(String, Vec<Option<[f64; 3]>>)>,
    },
    /// Bars side by side per label (a year): one bar per series.
    Bars {
        /// Title.
        title: String,
        /// Y axis label.
        y_label: String,
        /// The labels on the x axis, in order.
        labels: Vec<String>,
        /// Per series: name and a value per label (euros).
        series: Vec<(String, Vec<f64>)>,
    },
}

impl Chart {
    /// The chart's title.
    pub fn title(&self) -> &str {
        match self {
            Chart::Boxes { title, .. }
            | Chart::Lines { title, .. }
            | Chart::Tornado { title, .. }
            | Chart::Compare { title, .. }
            | Chart::Bars { title, .. } => title,
        }
    }
}

/// Dash patterns (dash, gap in pixels; 0 = solid) of the lines of a line
/// chart, taken in turn with the colours and markers so that lines that lie
/// on top of each other stay distinguishable.
const DASHES: [(u32, u32); 4] = [(0, 0), (10, 6), (3, 4), (14, 4)];

/// Least distance between two markers on a line, as a share of the x axis.
const MARKER_GAP: f64 = 1.0 / 80.0;

fn span(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo).abs() * 0.08).max(1.0);
    (lo - pad, hi + pad)
}

fn euros(v: &f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// The axes of a chart of groups side by side (a year's boxes per party, a
/// party's bars per variant): one slot per label on x, euros on y from `lo`
/// to `hi`, and the zero line drawn.
fn grouped_axes<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    labels: &[String],
    lo: f64,
    hi: f64,
) -> Result<
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>,
    String,
> {
    let n = labels.len().max(1);
    let mut c = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), lo..hi)
        .map_err(err)?;
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&euros)
        .y_desc(y_label)
        .draw()
        .map_err(err)?;
    c.draw_series(std::iter::once(PathElement::new(vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)], BLACK))).map_err(err)?;
    Ok(c)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    match chart {
        Chart::Boxes { title, y_label, years, parties } => {
            let all = parties.iter().flat_map(|(_, v)| v.iter().flat_map(|b| [b[0], b[4]]));
            let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
            let (lo, hi) = span(lo.min(0.0), hi.max(0.0));
            let mut c = grouped_axes(root, title, y_label, years, lo, hi)?;
            let np = parties.len().max(1) as f64;
            let w = 0.8 / np;
            for (k, (name, boxes)) in parties.iter().enumerate() {
                let col = PALETTE[k % PALETTE.len()];
                let mut elements: Vec<DynElement<DB, (f64, f64)>> = Vec::new();
                for (i, b) in boxes.iter().enumerate() {
                    let x = i as f64 - 0.4 + w * (k as f64 + 0.5);
                    let (l, r) = (x - w * 0.35, x + w * 0.35);
                    elements.push(Rectangle::new([(l, b[1]), (r, b[3])], col.mix(0.35).filled()).into_dyn());
                    elements.push(Rectangle::new([(l, b[1]), (r, b[3])], col.stroke_width(1)).into_dyn());
                    elements.push(PathElement::new(vec![(l, b[2]), (r, b[2])], col.stroke_width(2)).into_dyn());
                    elements.push(PathElement::new(vec![(x, b[0]), (x, b[1])], col).into_dyn());
                    elements.push(PathElement::new(vec![(x, b[3]), (x, b[4])], col).into_dyn());
                    elements.push(PathElement::new(vec![(x - w * 0.15, b[0]), (x + w * 0.15, b[0])], col).into_dyn());
                    elements.push(PathElement::new(vec![(x - w * 0.15, b[4]), (x + w * 0.15, b[4])], col).into_dyn());
                }
                c.draw_series(elements)
                    .map_err(err)?
                    .label(name.as_str())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], col.filled()));
            }
            c.configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }
        Chart::Lines { title, x_label, y_label, series } => {
            let pts = series.iter().flat_map(|(_, p)| p.iter());
            let (x0, x1, y0, y1) = pts.fold((f64::INFINITY, f64::NEG_INFINITY, 0.0f64, 0.0f64), |a, p| {
                (a.0.min(p.0), a.1.max(p.0), a.2.min(p.1), a.3.max(p.1))
            });
            let (x0, x1) = if x1 > x0 { (x0, x1) } else { (x0 - 1.0, x0 + 1.0) };
            let (y0, y1) = span(y0, y1);
            let mut c = ChartBuilder::on(root)
                .caption(title, ("sans-serif", 22))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(err)?;
            c.configure_mesh()
                .x_desc(x_label.as_str())
                .y_desc(y_label.as_str())
                .y_label_formatter(&euros)
                .draw()
                .map_err(err)?;
            c.draw_series(std::iter::once(PathElement::new(vec![(x0, 0.0), (x1, 0.0)], BLACK))).map_err(err)?;
            for (k, (name, p)) in series.iter().enumerate() {
                let col = PALETTE[k % PALETTE.len()];
                let (dash, gap) = DASHES[k % DASHES.len()];
                let style = col.stroke_width(2);
                if dash == 0 {
                    c.draw_series(LineSeries::new(p.iter().copied(), style)).map_err(err)?;
                } else {
                    c.draw_series(DashedLineSeries::new(p.iter().copied(), dash, gap, style)).map_err(err)?;
                }
                // Markers, their shape by series, at least MARKER_GAP of
                // the axis apart (a step drawn with many close points gets one).
                let shape = k % 3;
                let gap = (x1 - x0) * MARKER_GAP;
                let mut last = f64::NEG_INFINITY;
                let marked: Vec<(f64, f64)> = p
                    .iter()
                    .copied()
                    .filter(|&(x, _)| {
                        let far = x - last >= gap;
                        if far {
                            last = x;
                        }
                        far
                    })
                    .collect();
                c.draw_series(marked.into_iter().map(|(x, y)| -> DynElement<DB, (f64, f64)> {
                    match shape {
                        0 => Circle::new((x, y), 3, col.filled()).into_dyn(),
                        1 => TriangleMarker::new((x, y), 4, col.filled()).into_dyn(),
                        _ => Cross::new((x, y), 4, col.stroke_width(2)).into_dyn(),
                    }
                }))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    let at = EmptyElement::at((x, y));
                    let line = PathElement::new(vec![(0, 0), (18, 0)], col.stroke_width(2));
                    // The marker's outline as a path (one element type for every shape).
                    let mark = match shape {
                        0 => vec![(6, -3), (12, -3), (12, 3), (6, 3), (6, -3)],
                        1 => vec![(9, -4), (13, 3), (5, 3), (9, -4)],
                        _ => vec![(5, -4), (13, 4), (9, 0), (5, 4), (13, -4)],
                    };
                    at + line + PathElement::new(mark, col.stroke_width(2))
                });
            }
            c.configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }
        Chart::Tornado { title, x_label, base, bars } => {
            let (lo, hi) = bars.iter().fold((*base, *base), |(a, b), (_, l, h)| (a.min(*l).min(*h), b.max(*l).max(*h)));
            let (lo, hi) = span(lo, hi);
            let n = bars.len().max(1);
            let mut c = ChartBuilder::on(root)
                .caption(title, ("sans-serif", 22))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(160)
                .build_cartesian_2d(lo..hi, -0.5f64..(n as f64 - 0.5))
                .map_err(err)?;
            let names: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
            c.configure_mesh()
                .disable_y_mesh()
                .y_labels(n)
                .y_label_formatter(&|y| {
                    let i = y.round();
                    if (y - i).abs() < 1e-6 && i >= 0.0 {
                        names.get(n - 1 - i as usize).cloned().unwrap_or_default()
                    } else {
                        String::new()
                    }
                })
                .x_label_formatter(&euros)
                .x_desc(x_label.as_str())
                .draw()
                .map_err(err)?;
            for (i, (_, l, h)) in bars.iter().enumerate() {
                let y = (n - 1 - i) as f64;
                for (v, col) in [(*l, PALETTE[0]), (*h, PALETTE[1])] {
                    let (a, b) = if v < *base { (v, *base) } else { (*base, v) };
                    c.draw_series(std::iter::once(Rectangle::new(
                        [(a, y - 0.35), (b, y + 0.35)],
                        col.mix(0.7).filled(),
                    )))
                    .map_err(err)?;
                }
            }
            c.draw_series(std::iter::once(PathElement::new(vec![(*base, -0.5), (*base, n as f64 - 0.5)], BLACK)))
                .map_err(err)?;
        }
        Chart::Compare { title, y_label, variants, groups } => {
            let all = groups.iter().flat_map(|(_, v)| v.iter().flatten().flat_map(|b| [b[0], b[2]]));
            let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
            let (lo, hi) = span(lo.min(0.0), hi.max(0.0));
            let labels: Vec<String> = groups.iter().map(|g| g.0.clone()).collect();
            let mut c = grouped_axes(root, title, y_label, &labels, lo, hi)?;
            let nv = variants.len().max(1) as f64;
            let w = 0.8 / nv;
            for (k, name) in variants.iter().enumerate() {
                let col = PALETTE[k % PALETTE.len()];
                let mut elements: Vec<DynElement<DB, (f64, f64)>> = Vec::new();
                for (i, (_, bars)) in groups.iter().enumerate() {
                    let Some(Some(b)) = bars.get(k) else { continue };
                    let x = i as f64 - 0.4 + w * (k as f64 + 0.5);
                    let (l, r) = (x - w * 0.4, x + w * 0.4);
                    elements.push(Rectangle::new([(l, 0.0), (r, b[1])], col.mix(0.6).filled()).into_dyn());
                    elements.push(PathElement::new(vec![(x, b[0]), (x, b[2])], BLACK.stroke_width(1)).into_dyn());
                    elements.push(PathElement::new(vec![(x - w * 0.15, b[0]), (x + w * 0.15, b[0])], BLACK).into_dyn());
                    elements.push(PathElement::new(vec![(x - w * 0.15, b[2]), (x + w * 0.15, b[2])], BLACK).into_dyn());
                }
                c.draw_series(elements)
                    .map_err(err)?
                    .label(name.as_str())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], col.filled()));
            }
            c.configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }
        Chart::Bars { title, y_label, labels, series } => {
            let all = series.iter().flat_map(|(_, v)| v.iter().copied());
            let (lo, hi) = all.fold((0.0f64, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
            let (lo, hi) = span(lo, hi);
            let mut c = grouped_axes(root, title, y_label, labels, lo, hi)?;
            let w = 0.8 / series.len().max(1) as f64;
            for (k, (name, values)) in series.iter().enumerate() {
                let col = PALETTE[k % PALETTE.len()];
                let bars = values.iter().enumerate().map(|(i, v)| {
                    let x = i as f64 - 0.4 + w * (k as f64 + 0.5);
                    Rectangle::new([(x - w * 0.4, 0.0), (x + w * 0.4, *v)], col.mix(0.7).filled())
                });
                c.draw_series(bars)
                    .map_err(err)?
                    .label(name.as_str())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], col.filled()));
            }
            c.configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }
    }
    root.present().map_err(err)
}

/// `chart` as an SVG document in a string: the same drawing as the file
/// [`write`] writes (its SVG file holds these bytes). Plotters escapes
/// every text it writes into the SVG (`<`, `>`, `&`, quotes), so names
/// from contract files are text, not markup: the web shows it inline.
pub fn svg(chart: &Chart) -> Result<String, String> {
    fonts();
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, SIZE).into_drawing_area();
        draw(&root, chart)?;
    }
    Ok(s)
}

/// Writes `chart` as `DIR/NAME.svg` and `DIR/NAME.png`.
pub fn write(dir: &Path, name: &str, chart: &Chart) -> Result<(), String> {
    let path = dir.join(format!("{name}.svg"));
    std::fs::write(&path, svg(chart)?).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let path = dir.join(format!("{name}.png"));
    let root = BitMapBackend::new(&path, SIZE).into_drawing_area();
    draw(&root, chart)
}
