//! The `/api/metrics` `metrics` object, with MicroClaw's field names.
//!
//! The `mcp_*` fields are always 0: this console has no MCP tool bridge (no rate limiter,
//! bulkhead or circuit breaker in front of MCP servers). They are kept so MicroClaw
//! dashboards that read them keep working.

use serde_json::{json, Map, Value};

use crate::histogram::HistogramSnapshot;
use crate::recorder::{Totals, STATUS_CLASSES};

pub(crate) fn histogram_json(h: &HistogramSnapshot) -> Value {
    json!({
        "count": h.count(), "sum": h.sum(),
        "p50": h.quantile(0.50), "p95": h.quantile(0.95), "p99": h.quantile(0.99),
    })
}

pub(crate) fn metrics_json(t: &Totals) -> Value {
    let mut by_route = Map::new();
    for (route, counts) in &t.http_by_route {
        let classes: Map<String, Value> = STATUS_CLASSES
            .iter()
            .zip(counts)
            .map(|(c, n)| (c.to_string(), json!(n)))
            .collect();
        by_route.insert(route.to_string(), Value::Object(classes));
    }
    let mut by_method = Map::new();
    for (method, [ok, err]) in &t.bridge_by_method {
        by_method.insert(method.to_string(), json!({"ok": ok, "error": err}));
    }
    json!({
        "http_requests": t.http_requests(),
        "http_requests_by_route": by_route,
        "http_latency_us": histogram_json(&t.http_latency_us),
        "bridge_requests": t.bridge_requests(),
        "bridge_errors": t.bridge_errors(),
        "bridge_requests_by_method": by_method,
        "bridge_connections": t.bridge_connections,
        "request_ok": t.request_ok,
        "request_error": t.request_error,
        "request_aborted": t.request_aborted,
        "request_latency_ms": histogram_json(&t.request_latency_ms),
        "first_token_latency_ms": histogram_json(&t.first_token_latency_ms),
        "llm_completions": t.llm_completions,
        "llm_input_tokens": t.llm_input_tokens,
        "llm_output_tokens": t.llm_output_tokens,
        "tool_executions": t.tool_executions,
        "tool_success": t.tool_success,
        "tool_error": t.tool_error,
        "tool_policy_blocks": t.tool_policy_blocks,
        "scheduler_runs": t.scheduler_runs,
        "scheduler_success": t.scheduler_success,
        "mcp_calls": 0,
        "mcp_rate_limited_rejections": 0,
        "mcp_bulkhead_rejections": 0,
        "mcp_circuit_open_rejections": 0,
        "active_sessions": t.active_sessions,
        "active_runs": t.active_runs,
        "otlp_exported": t.otlp_exported,
        "otlp_dropped": t.otlp_dropped,
        "otlp_retries": t.otlp_retries,
        "uptime_ms": t.uptime_ms,
    })
}
