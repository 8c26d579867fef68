//! Prometheus text exposition format 0.0.4: `microclaw_` prefix, `_total` counters,
//! histograms as `_bucket{le=…}` / `_sum` / `_count`, HELP and TYPE lines.
//!
//! Histogram `le` bounds are a fixed coarse set; each fine log-linear bucket is counted under
//! the first bound at or above its upper edge, so a count may appear one bound late by at
//! most the fine bucket's width (about 6 %).

use std::fmt::Write;

use crate::histogram::HistogramSnapshot;
use crate::recorder::{Totals, STATUS_CLASSES};

/// Bucket bounds for millisecond latencies.
pub const MS_BOUNDS: &[u64] = &[
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000,
];
/// Bucket bounds for HTTP latencies in microseconds.
pub const US_BOUNDS: &[u64] = &[
    100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, 5_000_000,
];

/// Escapes a label value (backslash, double quote, newline).
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP microclaw_{name} {help}");
    let _ = writeln!(out, "# TYPE microclaw_{name} {kind}");
}

fn counter(out: &mut String, name: &str, help: &str, v: u64) {
    header(out, &format!("{name}_total"), "counter", help);
    let _ = writeln!(out, "microclaw_{name}_total {v}");
}

fn gauge(out: &mut String, name: &str, help: &str, v: i64) {
    header(out, name, "gauge", help);
    let _ = writeln!(out, "microclaw_{name} {v}");
}

fn histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot, bounds: &[u64]) {
    header(out, name, "histogram", help);
    for le in bounds {
        let _ = writeln!(
            out,
            "microclaw_{name}_bucket{{le=\"{le}\"}} {}",
            h.count_le(*le)
        );
    }
    let _ = writeln!(out, "microclaw_{name}_bucket{{le=\"+Inf\"}} {}", h.count());
    let _ = writeln!(out, "microclaw_{name}_sum {}", h.sum());
    let _ = writeln!(out, "microclaw_{name}_count {}", h.count());
}

/// Renders every metric.
pub fn render(t: &Totals) -> String {
    let mut out = String::with_capacity(8 * 1024);
    header(
        &mut out,
        "http_requests_total",
        "counter",
        "HTTP requests by route template and status class.",
    );
    for (route, counts) in &t.http_by_route {
        for (class, n) in STATUS_CLASSES.iter().zip(counts) {
            if *n > 0 {
                let _ = writeln!(
                    out,
                    "microclaw_http_requests_total{{route=\"{}\",status=\"{class}\"}} {n}",
                    esc(route)
                );
            }
        }
    }
    histogram(
        &mut out,
        "http_request_duration_us",
        "HTTP request latency in microseconds.",
        &t.http_latency_us,
        US_BOUNDS,
    );
    header(
        &mut out,
        "bridge_requests_total",
        "counter",
        "Bridge requests by method and outcome.",
    );
    for (method, [ok, err]) in &t.bridge_by_method {
        let m = esc(method);
        let _ = writeln!(
            out,
            "microclaw_bridge_requests_total{{method=\"{m}\",outcome=\"ok\"}} {ok}"
        );
        let _ = writeln!(
            out,
            "microclaw_bridge_requests_total{{method=\"{m}\",outcome=\"error\"}} {err}"
        );
    }
    gauge(
        &mut out,
        "bridge_connections",
        "Open operator connections.",
        t.bridge_connections,
    );
    gauge(
        &mut out,
        "active_runs",
        "Chat runs in flight.",
        t.active_runs,
    );
    gauge(
        &mut out,
        "active_sessions",
        "Sessions with a run in flight.",
        t.active_sessions,
    );
    counter(
        &mut out,
        "request_ok",
        "Chat runs that ended final.",
        t.request_ok,
    );
    counter(
        &mut out,
        "request_error",
        "Chat runs that ended in error.",
        t.request_error,
    );
    counter(
        &mut out,
        "request_aborted",
        "Chat runs that were aborted.",
        t.request_aborted,
    );
    histogram(
        &mut out,
        "request_latency_ms",
        "Chat run latency, start to terminal event.",
        &t.request_latency_ms,
        MS_BOUNDS,
    );
    histogram(
        &mut out,
        "first_token_latency_ms",
        "Chat run start to first delta.",
        &t.first_token_latency_ms,
        MS_BOUNDS,
    );
    counter(
        &mut out,
        "llm_completions",
        "Finished agent completions.",
        t.llm_completions,
    );
    counter(
        &mut out,
        "llm_input_tokens",
        "Agent input tokens.",
        t.llm_input_tokens,
    );
    counter(
        &mut out,
        "llm_output_tokens",
        "Agent output tokens.",
        t.llm_output_tokens,
    );
    crate::usage_by_model::render(&mut out, &t.usage_by_model);
    counter(
        &mut out,
        "tool_executions",
        "Tool calls.",
        t.tool_executions,
    );
    counter(
        &mut out,
        "tool_success",
        "Tool calls that succeeded.",
        t.tool_success,
    );
    counter(
        &mut out,
        "tool_error",
        "Tool calls that failed.",
        t.tool_error,
    );
    counter(
        &mut out,
        "tool_policy_blocks",
        "Tool calls blocked by policy.",
        t.tool_policy_blocks,
    );
    counter(
        &mut out,
        "scheduler_runs",
        "Scheduled job runs.",
        t.scheduler_runs,
    );
    counter(
        &mut out,
        "scheduler_success",
        "Scheduled job runs that succeeded.",
        t.scheduler_success,
    );
    counter(
        &mut out,
        "otlp_exported",
        "OTLP batches exported.",
        t.otlp_exported,
    );
    counter(
        &mut out,
        "otlp_dropped",
        "OTLP batches dropped (queue full or retries exhausted).",
        t.otlp_dropped,
    );
    counter(
        &mut out,
        "otlp_retries",
        "OTLP export retries.",
        t.otlp_retries,
    );
    counter(
        &mut out,
        "bridge_events_dropped",
        "Bridge events dropped for lagging connections (a protocol-4 seq gap).",
        t.bridge_events_dropped,
    );
    counter(
        &mut out,
        "bridge_lag_closes",
        "Bridge connections closed with 1013 because they could not keep up.",
        t.bridge_lag_closes,
    );
    gauge(
        &mut out,
        "uptime_ms",
        "Milliseconds since the metrics started.",
        t.uptime_ms,
    );
    out
}
