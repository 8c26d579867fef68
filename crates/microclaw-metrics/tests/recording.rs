#![allow(clippy::unwrap_used)]
mod common;

use std::sync::Arc;

use common::*;
use serde_json::Value;

#[test]
fn snapshot_has_microclaw_field_names_and_counts() {
    let r = rig();
    let m = &r.metrics;
    m.record_http("/api/send", 200, 1500);
    m.record_http("/api/send", 503, 900);
    m.record_http("/api/sessions", 404, 100);
    m.record_bridge("chat.send", true);
    m.record_bridge("chat.send", false);
    m.bridge_connections_add(2);
    m.bridge_connections_add(-1);
    m.run_started();
    m.run_first_token(120);
    m.run_finished("final", 800, 11, 22);
    m.run_started();
    m.run_finished("error", 300, 1, 0);
    m.run_started();
    m.run_finished("aborted", 50, 0, 0);
    m.run_started(); // still in flight
    m.record_tool(true, false);
    m.record_tool(false, false);
    m.record_tool(false, true);
    m.set_active_sessions(3);
    r.clock.advance_ms(4000);
    let s = m.snapshot();
    for field in [
        "http_requests",
        "request_ok",
        "request_error",
        "llm_completions",
        "llm_input_tokens",
        "llm_output_tokens",
        "tool_executions",
        "tool_success",
        "tool_error",
        "tool_policy_blocks",
        "mcp_calls",
        "mcp_rate_limited_rejections",
        "mcp_bulkhead_rejections",
        "mcp_circuit_open_rejections",
        "active_sessions",
        "active_runs",
        "bridge_connections",
        "uptime_ms",
        "scheduler_runs",
        "scheduler_success",
        "otlp_exported",
        "otlp_dropped",
        "otlp_retries",
    ] {
        assert!(
            s.get(field).is_some(),
            "the /api/metrics object must carry {field}"
        );
    }
    assert_eq!(s["http_requests"], 3);
    assert_eq!(s["http_requests_by_route"]["/api/send"]["5xx"], 1);
    assert_eq!(s["http_requests_by_route"]["/api/sessions"]["4xx"], 1);
    assert_eq!(s["bridge_requests_by_method"]["chat.send"]["error"], 1);
    assert_eq!(s["bridge_connections"], 1);
    assert_eq!(s["request_ok"], 1, "final counts as ok");
    assert_eq!(s["request_error"], 1, "error counts as error");
    assert_eq!(
        s["request_aborted"], 1,
        "aborted counts as neither ok nor error"
    );
    assert_eq!(s["active_runs"], 1, "three of four runs finished");
    assert_eq!(s["llm_completions"], 1);
    assert_eq!(s["llm_input_tokens"], 12);
    assert_eq!(s["tool_executions"], 3);
    assert_eq!(
        (
            s["tool_success"].clone(),
            s["tool_error"].clone(),
            s["tool_policy_blocks"].clone()
        ),
        (1.into(), 1.into(), 1.into())
    );
    assert_eq!(s["mcp_calls"], 0);
    assert_eq!(s["active_sessions"], 3);
    assert_eq!(s["uptime_ms"], 4000, "uptime comes from the injected clock");
    assert_eq!(
        s["request_latency_ms"]["count"], 2,
        "latency covers final and error runs"
    );
    assert_eq!(s["first_token_latency_ms"]["count"], 1);
}

#[test]
fn counts_stay_exact_under_two_recording_threads() {
    let r = rig();
    let threads: Vec<_> = (0..2)
        .map(|i| {
            let m = Arc::clone(&r.metrics);
            std::thread::spawn(move || {
                let route: &'static str = if i == 0 { "/a" } else { "/b" };
                for n in 0..20_000u64 {
                    m.record_http(route, 200, n);
                    m.record_bridge("status", n % 2 == 0);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let s = r.metrics.snapshot();
    assert_eq!(s["http_requests"], 40_000);
    assert_eq!(
        s["bridge_requests_by_method"]["status"],
        serde_json::json!({"ok": 20_000, "error": 20_000})
    );
    assert_eq!(s["http_latency_us"]["count"], 40_000);
}

#[test]
fn many_distinct_routes_overflow_into_other_without_losing_counts() {
    let r = rig();
    for i in 0..300 {
        let route: &'static str = Box::leak(format!("/r/{i}").into_boxed_str());
        r.metrics.record_http(route, 200, 1);
    }
    let s = r.metrics.snapshot();
    assert_eq!(s["http_requests"], 300);
    let by_route = s["http_requests_by_route"].as_object().unwrap();
    assert!(
        by_route.contains_key("other"),
        "routes beyond the table go to 'other'"
    );
    let total: u64 = by_route.values().map(|v| v["2xx"].as_u64().unwrap()).sum();
    assert_eq!(total, 300);
    assert!(matches!(s["http_latency_us"], Value::Object(_)));
}
