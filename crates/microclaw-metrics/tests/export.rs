#![allow(clippy::unwrap_used)]
mod common;

use common::*;
use microclaw_metrics::export::{CHART_HEIGHT, CHART_WIDTH};
use microclaw_metrics::{write_export_atomic, ExportFormat};

fn with_history() -> Rig {
    let r = rig();
    for m in 0..30u64 {
        r.metrics.run_started(); // one run stays in flight each minute
        runs(&r.metrics, 5 + m % 3, "final", 400 + 50 * m);
        runs(&r.metrics, m % 4, "error", 9000);
        r.engine.flush().unwrap();
        r.clock.advance_ms(MIN);
    }
    r
}

#[test]
fn png_decodes_to_the_chart_size() {
    let r = with_history();
    let png = r.engine.export(ExportFormat::Png, 30).unwrap();
    let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap();
    assert_eq!((img.width(), img.height()), (CHART_WIDTH, CHART_HEIGHT));
    // Something was drawn (text and lines), not a blank page.
    let rgb = img.to_rgb8();
    let dark = rgb
        .pixels()
        .filter(|p| p.0.iter().all(|c| *c < 100))
        .count();
    assert!(
        dark > 1000,
        "only {dark} dark pixels: text and axes missing?"
    );
}

#[test]
fn svg_is_xml_with_titles_and_threshold() {
    let r = with_history();
    let svg = String::from_utf8(r.engine.export(ExportFormat::Svg, 30).unwrap()).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    let all = texts.join("|");
    for want in [
        "Request rate",
        "Error rate",
        "p95 latency",
        "Active runs",
        "SLO 6000 ms",
        "2024-01-01 00:01 UTC",
    ] {
        assert!(
            all.contains(want),
            "{want:?} missing from the chart text: {all}"
        );
    }
}

#[test]
fn csv_has_a_header_and_one_row_per_point() {
    let r = with_history();
    let csv = String::from_utf8(r.engine.export(ExportFormat::Csv, 30).unwrap()).unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(csv.ends_with("\r\n"), "RFC 4180 line ends");
    assert!(lines[0].starts_with("timestamp_ms,timestamp,http_requests,"));
    assert!(lines[0].ends_with("p50_latency_ms,p95_latency_ms"));
    assert_eq!(lines.len(), 1 + 30, "header + 30 minutes");
    let cols = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == cols));
    let ok_col = lines[0].split(',').position(|c| c == "request_ok").unwrap();
    let total: u64 = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(ok_col).unwrap().parse::<u64>().unwrap())
        .sum();
    // The window is the 30 minutes ending with the current (empty) minute: minutes 1..=29
    // of the recorded ones, plus minute 30 (empty).
    assert_eq!(total, (1..30u64).map(|m| 5 + m % 3).sum::<u64>());
}

#[test]
fn json_has_the_documented_keys() {
    let r = with_history();
    let v: serde_json::Value =
        serde_json::from_slice(&r.engine.export(ExportFormat::Json, 30).unwrap()).unwrap();
    for k in [
        "exported_at",
        "version",
        "window_minutes",
        "metrics",
        "summary",
        "points",
    ] {
        assert!(v.get(k).is_some(), "{k} missing");
    }
    assert_eq!(v["window_minutes"], 30);
    assert_eq!(v["points"].as_array().unwrap().len(), 30);
    assert_eq!(v["summary"]["window"], "rolling");
}

#[test]
fn html_is_self_contained_with_the_chart_and_table() {
    let r = with_history();
    let html = String::from_utf8(r.engine.export(ExportFormat::Html, 30).unwrap()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"), "the chart is inline");
    assert!(html.contains("request_success_rate"));
    assert!(!html.contains("src=\"http"), "no external resources");
    assert!(
        !html.contains("<?xml"),
        "the XML prolog is stripped from the inline SVG"
    );
}

#[test]
fn formats_parse_and_bad_input_is_explained() {
    assert_eq!("PNG".parse::<ExportFormat>().unwrap(), ExportFormat::Png);
    let e = "pdf".parse::<ExportFormat>().unwrap_err();
    assert!(e.message.contains("json, csv, svg, png or html"));
    let r = rig();
    assert!(r.engine.export(ExportFormat::Csv, 0).is_err());
    assert!(r.engine.export(ExportFormat::Csv, 43_201).is_err());
}

#[test]
fn atomic_write_replaces_the_file_and_leaves_no_temp() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    std::fs::write(&path, "old").unwrap();
    write_export_atomic(&path, b"new contents").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"new contents");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    let missing = dir.path().join("no-such-dir").join("x.csv");
    let err = write_export_atomic(&missing, b"x").unwrap_err();
    assert!(err.message.contains("cannot create"), "{err}");
}
