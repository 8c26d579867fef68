//! Snapshot files: json, csv, svg, png, html; and writing them atomically.

pub mod charts;
pub mod csv;
pub mod html;
pub mod time_fmt;

use std::path::Path;
use std::str::FromStr;

use serde_json::json;

use microclaw_core::{Error, Result};

use crate::aggregate::MINUTE_MS;
use crate::engine::MetricsEngine;
use crate::history::MAX_MINUTES;
use charts::ChartData;

pub const CHART_WIDTH: u32 = 1200;
pub const CHART_HEIGHT: u32 = 800;
/// Charts draw at most this many points (the step widens for longer ranges).
const CHART_POINTS: u32 = 360;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
    Svg,
    Png,
    Html,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Svg => "svg",
            ExportFormat::Png => "png",
            ExportFormat::Html => "html",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Json => "application/json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Svg => "image/svg+xml",
            ExportFormat::Png => "image/png",
            ExportFormat::Html => "text/html; charset=utf-8",
        }
    }
}

impl FromStr for ExportFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            "svg" => Ok(ExportFormat::Svg),
            "png" => Ok(ExportFormat::Png),
            "html" => Ok(ExportFormat::Html),
            _ => Err(Error::invalid(format!(
                "export format {s:?} is unknown; expected json, csv, svg, png or html"
            ))),
        }
    }
}

fn chart_data(engine: &MetricsEngine, minutes: u32) -> Result<ChartData> {
    let step_ms = i64::from(minutes.div_ceil(CHART_POINTS).max(1)) * MINUTE_MS;
    Ok(ChartData {
        step_ms,
        points: engine.history_points(minutes, step_ms)?,
    })
}

/// Renders a snapshot of the last `minutes` minutes.
pub fn render(engine: &MetricsEngine, format: ExportFormat, minutes: u32) -> Result<Vec<u8>> {
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Err(Error::invalid(format!(
            "minutes={minutes} is out of range; expected 1..={MAX_MINUTES}"
        )));
    }
    match format {
        ExportFormat::Json => {
            let points = engine.history_points(minutes, MINUTE_MS)?;
            let points: Vec<_> = points.iter().map(|(ts, d)| d.point_json(*ts)).collect();
            let body = json!({
                "exported_at": engine.clock().now_ms(),
                "version": microclaw_core::VERSION,
                "window_minutes": minutes,
                "metrics": engine.metrics().snapshot(),
                "summary": engine.summary(),
                "points": points,
            });
            serde_json::to_vec_pretty(&body)
                .map_err(|e| Error::internal(format!("encoding the JSON export: {e}")))
        }
        ExportFormat::Csv => {
            Ok(csv::render(&engine.history_points(minutes, MINUTE_MS)?).into_bytes())
        }
        ExportFormat::Svg => {
            Ok(
                charts::render_svg(&chart_data(engine, minutes)?, CHART_WIDTH, CHART_HEIGHT)?
                    .into_bytes(),
            )
        }
        ExportFormat::Png => {
            charts::render_png(&chart_data(engine, minutes)?, CHART_WIDTH, CHART_HEIGHT)
        }
        ExportFormat::Html => {
            let svg = charts::render_svg(&chart_data(engine, minutes)?, CHART_WIDTH, CHART_HEIGHT)?;
            let svg = svg.trim_start_matches(|c| c != '<');
            let svg = if svg.starts_with("<?xml") {
                svg.split_once("?>").map(|x| x.1).unwrap_or(svg)
            } else {
                svg
            };
            Ok(html::render(svg, &engine.summary(), engine.clock().now_ms(), minutes).into_bytes())
        }
    }
}

/// Writes an export atomically (temporary file in the same directory, synced, renamed):
/// a crash never leaves a half-written export.
pub fn write_export_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    microclaw_core::atomic_file::write_atomic(path, bytes, false)
}
