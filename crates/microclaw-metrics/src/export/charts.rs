//! The chart page (request rate, error rate, p95 latency with the SLO line, active runs),
//! drawn with plotters into SVG or PNG with an embedded DejaVu Sans font.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use microclaw_core::{Error, Result};

use super::time_fmt::{hh_mm, short_utc};
use crate::delta::Delta;
use crate::slo::{LATENCY_TARGET_MS, SUCCESS_TARGET};

/// The family name the embedded font is registered under. "sans-serif" so that an SVG
/// viewer without DejaVu still picks a sensible face.
pub const FONT: &str = "sans-serif";

/// Registers the embedded font with plotters (once per process).
pub fn ensure_font() -> Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::internal(
            "the embedded chart font could not be loaded",
        ))
    }
}

/// What the charts plot: one entry per history point.
pub struct ChartData {
    pub step_ms: i64,
    pub points: Vec<(i64, Delta)>,
}

struct Series {
    title: &'static str,
    unit: &'static str,
    values: Vec<(f64, f64)>,
    threshold: Option<(f64, &'static str)>,
}

fn series(data: &ChartData) -> Vec<Series> {
    let per_min = 60_000.0 / data.step_ms.max(60_000) as f64;
    let x = |ts: i64| ts as f64;
    let pick = |f: &dyn Fn(&Delta) -> f64| {
        data.points
            .iter()
            .map(|(ts, d)| (x(*ts), f(d)))
            .collect::<Vec<_>>()
    };
    vec![
        Series {
            title: "Request rate",
            unit: "runs/min",
            values: pick(&|d| (d.request_ok + d.request_error) as f64 * per_min),
            threshold: None,
        },
        Series {
            title: "Error rate",
            unit: "%",
            values: pick(&|d| {
                let n = d.request_ok + d.request_error;
                if n == 0 {
                    0.0
                } else {
                    d.request_error as f64 * 100.0 / n as f64
                }
            }),
            threshold: Some(((1.0 - SUCCESS_TARGET) * 100.0, "SLO 0.5 %")),
        },
        Series {
            title: "p95 latency",
            unit: "ms",
            values: pick(&|d| d.request_latency_ms.quantile(0.95) as f64),
            threshold: Some((LATENCY_TARGET_MS as f64, "SLO 6000 ms")),
        },
        Series {
            title: "Active runs",
            unit: "peak",
            values: pick(&|d| d.active_runs as f64),
            threshold: None,
        },
    ]
}

/// `HH:MM` for ranges up to a day, `MM-DD HH:MM` beyond.
fn axis_label(ms: i64, span_ms: f64) -> String {
    if span_ms > 86_400_000.0 {
        let day = short_utc(ms);
        format!("{} {}", &day[5..10], hh_mm(ms))
    } else {
        hh_mm(ms)
    }
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Series,
    x0: f64,
    x1: f64,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let data_max = s.values.iter().map(|(_, v)| *v).fold(0.0, f64::max);
    let y_max = data_max
        .max(s.threshold.map(|t| t.0).unwrap_or(0.0))
        .max(1.0)
        * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} ({})", s.title, s.unit), (FONT, 16))
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(48)
        .build_cartesian_2d(x0..x1.max(x0 + 1.0), 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&|x| axis_label(*x as i64, x1 - x0))
        .label_style((FONT, 11))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    chart.draw_series(LineSeries::new(
        s.values.iter().copied(),
        BLUE.stroke_width(2),
    ))?;
    if let Some((t, label)) = s.threshold {
        chart
            .draw_series(LineSeries::new([(x0, t), (x1, t)], RED.stroke_width(1)))?
            .label(label)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RED));
        chart
            .configure_series_labels()
            .label_font((FONT, 11))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, data: &ChartData) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (x0, x1) = match (data.points.first(), data.points.last()) {
        (Some(a), Some(b)) => (a.0 as f64, (b.0 + data.step_ms) as f64),
        _ => (0.0, 60_000.0),
    };
    let title = format!(
        "MicroClaw metrics: {} to {}",
        short_utc(x0 as i64),
        short_utc(x1 as i64)
    );
    let body = root.titled(&title, (FONT, 20))?;
    let all = series(data);
    for (area, s) in body.split_evenly((2, 2)).iter().zip(all.iter()) {
        draw_panel(area, s, x0, x1)?;
    }
    root.present()?;
    Ok(())
}

fn chart_err(e: Box<dyn std::error::Error>) -> Error {
    Error::internal(format!("drawing the chart failed: {e}"))
}

/// The chart page as an SVG document.
pub fn render_svg(data: &ChartData, width: u32, height: u32) -> Result<String> {
    ensure_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        draw(root, data).map_err(chart_err)?;
    }
    Ok(out)
}

/// The chart page as a PNG file.
pub fn render_png(data: &ChartData, width: u32, height: u32) -> Result<Vec<u8>> {
    ensure_font()?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(root, data).map_err(chart_err)?;
    }
    let img = image::RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| Error::internal("chart buffer has the wrong size"))?;
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| Error::internal(format!("encoding the chart PNG failed: {e}")))?;
    Ok(png)
}
