#![allow(clippy::unwrap_used)]
mod common;

use common::*;
use microclaw_metrics::AlertEvent;
use tokio::sync::broadcast::error::TryRecvError;

/// `minutes` minutes of traffic, `ok`/`err` runs per minute, flushing every minute.
fn traffic(r: &Rig, minutes: u32, ok: u64, err: u64, latency_ms: u64) {
    for _ in 0..minutes {
        runs(&r.metrics, ok, "final", latency_ms);
        runs(&r.metrics, err, "error", latency_ms);
        r.engine.flush().unwrap();
        r.clock.advance_ms(MIN);
    }
}

fn drain(rx: &mut tokio::sync::broadcast::Receiver<AlertEvent>) -> Vec<AlertEvent> {
    let mut out = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(e) => out.push(e),
            Err(TryRecvError::Empty) => return out,
            Err(e) => panic!("alert channel: {e}"),
        }
    }
}

#[test]
fn no_data_reports_sample_size_zero_not_healthy() {
    let r = rig();
    let s = r.engine.summary();
    assert_eq!(s["ok"], true);
    assert_eq!(s["window"], "rolling");
    let slo = &s["slo"];
    // decisions.md: no samples → value null and state no_data, never a healthy 1.0.
    for name in [
        "request_success_rate",
        "e2e_latency_p95_ms",
        "tool_reliability",
        "scheduler_recoverability_7d",
    ] {
        assert!(slo[name]["value"].is_null(), "{name}: {}", slo[name]);
        assert_eq!(slo[name]["state"], "no_data", "{name}");
        assert_eq!(slo[name]["sample_size"], 0, "{name}");
    }
    for w in ["5m", "1h", "6h", "24h", "7d"] {
        let win = &slo["request_success_rate"]["windows"][w];
        assert_eq!(win["sample_size"], 0, "window {w}");
        assert!(win["value"].is_null(), "window {w}: {win}");
    }
    assert_eq!(s["alerts"].as_array().unwrap().len(), 0);
    assert_eq!(s["error_budget"]["request_success_rate"]["period_days"], 28);
    assert_eq!(
        s["error_budget"]["request_success_rate"]["remaining_ratio"],
        1.0
    );
    assert!(s["metrics"]["uptime_ms"].is_number());
    assert_eq!(s["otlp"]["enabled"], false);
    let b = r.engine.slo_brief();
    assert_eq!(b["state"], "no_data");
    assert!(b["request_success_rate"].is_null(), "{b}");
    assert!(b["e2e_latency_p95_ms"].is_null(), "{b}");
    assert!(b["firing"].as_array().unwrap().is_empty());
    // With samples the value is a number and the state ok.
    runs(&r.metrics, 3, "final", 200);
    let slo = r.engine.summary()["slo"].clone();
    assert_eq!(slo["request_success_rate"]["value"], 1.0);
    assert_eq!(slo["request_success_rate"]["state"], "ok");
    assert!(slo["e2e_latency_p95_ms"]["value"].as_u64().unwrap() > 0);
    assert!(slo["tool_reliability"]["value"].is_null(), "no tool ran");
}

#[test]
fn windows_see_history_and_the_live_minute() {
    let r = rig();
    traffic(&r, 120, 10, 0, 500); // two hours of clean traffic
    runs(&r.metrics, 0, "final", 0);
    runs(&r.metrics, 5, "error", 500); // live, not flushed
    let s = r.engine.summary();
    let w = &s["slo"]["request_success_rate"]["windows"];
    assert_eq!(
        w["5m"]["sample_size"],
        4 * 10 + 5,
        "4 flushed minutes + the live minute"
    );
    assert_eq!(w["1h"]["sample_size"], 59 * 10 + 5);
    assert_eq!(w["6h"]["sample_size"], 120 * 10 + 5);
    assert_eq!(w["24h"]["sample_size"], 120 * 10 + 5);
    assert_eq!(
        s["slo"]["request_success_rate"]["sample_size"],
        59 * 10 + 5,
        "value = last 60 minutes"
    );
    let budget = &s["error_budget"]["request_success_rate"];
    assert_eq!(budget["consumed"], 5.0);
    let allowed = budget["allowed"].as_f64().unwrap();
    assert!((allowed - 0.005 * 1205.0).abs() < 1e-6);
    let p95 = s["slo"]["e2e_latency_p95_ms"]["value"].as_u64().unwrap();
    assert!((470..=530).contains(&p95), "p95 ≈ 500, got {p95}");
}

#[test]
fn error_burst_pages_then_resolves_as_events() {
    let r = rig();
    let mut rx = r.engine.subscribe_alerts();
    traffic(&r, 60, 100, 0, 800);
    assert!(drain(&mut rx).is_empty(), "clean traffic fires nothing");
    assert_eq!(r.engine.slo_brief()["state"], "ok");

    // Five minutes of pure errors: 1h burn ≈ 16.7, 5m burn = 200 → page; 6h/30m → ticket.
    traffic(&r, 5, 0, 100, 800);
    let events = drain(&mut rx);
    let page = events
        .iter()
        .find(|e| e.severity == "page")
        .expect("a page alert fires");
    assert_eq!(page.slo, "request_success_rate");
    assert_eq!(page.state, "firing");
    assert!(page.burn_rate > 14.4, "burn {}", page.burn_rate);
    assert!(events
        .iter()
        .any(|e| e.severity == "ticket" && e.state == "firing"));
    let s = r.engine.summary();
    let alerts = s["alerts"].as_array().unwrap();
    assert!(alerts
        .iter()
        .any(|a| a["severity"] == "page" && a["since"].as_i64().unwrap() == page.since));
    assert_eq!(s["slo"]["request_success_rate"]["state"], "burning");
    assert_eq!(s["slo"]["tool_reliability"]["state"], "no_data");
    let b = r.engine.slo_brief();
    assert_eq!(b["state"], "burning");
    assert!(b["firing"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["severity"] == "page"));
    assert!(
        drain(&mut rx).is_empty(),
        "a still-firing alert is not announced twice"
    );

    // Recovery: once the 5-minute window is clean the page clears; the ticket needs 30 minutes.
    traffic(&r, 6, 100, 0, 800);
    let events = drain(&mut rx);
    let resolved = events
        .iter()
        .find(|e| e.severity == "page")
        .expect("the page resolves");
    assert_eq!(resolved.state, "resolved");
    assert_eq!(
        resolved.since, page.since,
        "resolved carries when it started"
    );
    assert!(r
        .engine
        .firing_alerts()
        .iter()
        .all(|a| a.severity != "page"));
    assert!(r
        .engine
        .firing_alerts()
        .iter()
        .any(|a| a.severity == "ticket"));
    traffic(&r, 30, 100, 0, 800);
    let events = drain(&mut rx);
    assert!(events
        .iter()
        .any(|e| e.severity == "ticket" && e.state == "resolved"));
    assert!(r.engine.firing_alerts().is_empty());
    assert_eq!(r.engine.slo_brief()["state"], "ok");
}

#[test]
fn latency_and_tool_thresholds_fire_on_the_60_minute_value() {
    let r = rig();
    let mut rx = r.engine.subscribe_alerts();
    for _ in 0..10 {
        r.metrics.record_tool(true, false);
    }
    r.metrics.record_tool(false, false); // 10/11 = 0.909 < 0.97
    for _ in 0..50 {
        r.metrics.record_tool(false, true); // blocks are excluded, not errors
    }
    traffic(&r, 2, 20, 0, 15_000); // p95 15 s > 10 s
    let slos: Vec<String> = drain(&mut rx)
        .into_iter()
        .filter(|e| e.state == "firing")
        .map(|e| e.slo)
        .collect();
    assert!(slos.contains(&"e2e_latency_p95_ms".to_string()), "{slos:?}");
    assert!(slos.contains(&"tool_reliability".to_string()), "{slos:?}");
    let s = r.engine.summary();
    assert_eq!(s["slo"]["tool_reliability"]["policy_block_excluded"], 50);
    assert_eq!(s["slo"]["tool_reliability"]["error"], 1);
}
