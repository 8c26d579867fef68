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
    // No samples: the budget is unknown, not a full-looking 1.0.
    assert!(s["error_budget"]["request_success_rate"]["remaining_ratio"].is_null());
    assert_eq!(
        s["error_budget"]["request_success_rate"]["state"],
        "no_data"
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

fn states(events: &[AlertEvent], rule: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.rule == rule)
        .map(|e| e.state.clone())
        .collect()
}

const PAGE: &str = "request_success_rate:page:1h/5m";

#[test]
fn error_burst_goes_pending_fires_then_resolves_as_stored_transitions() {
    let r = rig();
    let mut rx = r.engine.subscribe_alerts();
    traffic(&r, 60, 100, 0, 800);
    assert!(drain(&mut rx).is_empty(), "clean traffic fires nothing");
    assert_eq!(r.engine.slo_brief()["state"], "ok");

    // Pure errors: after 5 minutes the 1h burn is ≈ 16.7 and the 5m burn 200 → pending.
    traffic(&r, 5, 0, 100, 800);
    let events = drain(&mut rx);
    assert_eq!(states(&events, PAGE), ["pending"], "{events:?}");
    assert!(
        r.engine.firing_alerts().iter().all(|a| a.rule != PAGE),
        "pending is not firing yet"
    );
    let st = r.engine.alert_statuses();
    assert_eq!(st.iter().find(|s| s.rule == PAGE).unwrap().state, "pending");
    // `for` = 2 minutes of the condition holding → firing.
    traffic(&r, 2, 0, 100, 800);
    let events = drain(&mut rx);
    assert_eq!(states(&events, PAGE), ["firing"], "{events:?}");
    let page = events.iter().find(|e| e.rule == PAGE).unwrap().clone();
    assert_eq!(page.slo, "request_success_rate");
    assert_eq!(page.severity, "page");
    assert_eq!(page.from, "pending");
    assert!(page.burn_rate > 14.4, "burn {}", page.burn_rate);
    assert!(
        page.burn_rate_short > 14.4,
        "short burn {}",
        page.burn_rate_short
    );
    // The same source for every readout: summary alerts, SLO state, the brief.
    let s = r.engine.summary();
    let alerts = s["alerts"].as_array().unwrap();
    assert!(alerts
        .iter()
        .any(|a| a["rule"] == PAGE && a["since"].as_i64().unwrap() == page.since));
    assert_eq!(s["slo"]["request_success_rate"]["state"], "burning");
    assert_eq!(s["slo"]["request_success_rate"]["alert_state"], "firing");
    assert_eq!(s["slo"]["tool_reliability"]["state"], "no_data");
    let b = r.engine.slo_brief();
    assert_eq!(b["state"], "burning");
    assert!(b["firing"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["severity"] == "page"));
    traffic(&r, 1, 0, 100, 800);
    assert!(
        states(&drain(&mut rx), PAGE).is_empty(),
        "a still-firing alert is not announced twice"
    );

    // Recovery: the 5-minute window is clean after 5 minutes; keep_firing_for holds the page
    // 5 more minutes, then it resolves.
    traffic(&r, 6, 100, 0, 800);
    assert!(
        states(&drain(&mut rx), PAGE).is_empty(),
        "kept firing (keep_firing_for)"
    );
    assert!(r.engine.firing_alerts().iter().any(|a| a.rule == PAGE));
    traffic(&r, 5, 100, 0, 800);
    let events = drain(&mut rx);
    assert_eq!(states(&events, PAGE), ["resolved"], "{events:?}");
    let resolved = events.iter().find(|e| e.rule == PAGE).unwrap();
    assert_eq!(
        resolved.since, page.since,
        "resolved carries when it started firing"
    );
    assert!(r.engine.firing_alerts().iter().all(|a| a.rule != PAGE));

    // Every transition was stored, oldest to newest: pending, firing, resolved.
    let q = microclaw_store::alert_transitions::TransitionQuery {
        rule: Some(PAGE.into()),
        limit: 100,
        ..Default::default()
    };
    let mut stored: Vec<String> = r
        .store
        .alert_transitions_list(&q)
        .unwrap()
        .into_iter()
        .map(|t| format!("{}->{}", t.from_state, t.state))
        .collect();
    stored.reverse();
    assert_eq!(
        stored,
        ["inactive->pending", "pending->firing", "firing->resolved"]
    );
    let firing_only = r
        .store
        .alert_transitions_list(&microclaw_store::alert_transitions::TransitionQuery {
            state: Some("firing".into()),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert!(firing_only.iter().all(|t| t.state == "firing"));
    assert!(firing_only.iter().any(|t| t.rule == PAGE));
    let statuses = r.engine.alert_statuses();
    let st = statuses.iter().find(|s| s.rule == PAGE).unwrap();
    assert_eq!(st.state, "resolved");
    assert_eq!(st.windows, ["1h", "5m"]);
    assert_eq!(st.threshold, 14.4);
}

#[test]
fn a_handful_of_failures_cannot_page() {
    let r = rig();
    let mut rx = r.engine.subscribe_alerts();
    // ~8 samples, one of them failed: burn rates are huge but the 1h window has < 30 samples.
    runs(&r.metrics, 7, "final", 200);
    runs(&r.metrics, 1, "error", 200);
    for _ in 0..5 {
        r.engine.flush().unwrap();
        r.clock.advance_ms(MIN);
    }
    assert!(drain(&mut rx).is_empty(), "nothing even goes pending");
    let s = r.engine.summary();
    assert!(s["alerts"].as_array().unwrap().is_empty());
    let slo = &s["slo"]["request_success_rate"];
    assert_eq!(slo["state"], "ok");
    assert_eq!(slo["alert_state"], "inactive");
    assert_eq!(
        slo["below_objective"], true,
        "7/8 is below 0.995, but not an alert"
    );
    let st = r.engine.alert_statuses();
    let page = st.iter().find(|s| s.rule == PAGE).unwrap();
    assert_eq!((page.samples, page.min_samples), (8, 30));
    assert!(page.burn_rate > 14.4);
    // The spent budget reads exhausted with 0 remaining, never a negative percentage.
    let budget = &s["error_budget"]["request_success_rate"];
    assert_eq!(budget["state"], "exhausted");
    assert_eq!(budget["remaining_ratio"], 0.0);
    assert!(budget["consumed_ratio"].as_f64().unwrap() > 1.0);
}

#[test]
fn latency_and_tool_thresholds_fire_on_the_60_minute_value() {
    let r = rig();
    let mut rx = r.engine.subscribe_alerts();
    for _ in 0..40 {
        r.metrics.record_tool(true, false);
    }
    for _ in 0..4 {
        r.metrics.record_tool(false, false); // 40/44 = 0.909 < 0.97
    }
    for _ in 0..50 {
        r.metrics.record_tool(false, true); // blocks are excluded, not errors
    }
    traffic(&r, 5, 20, 0, 15_000); // p95 15 s > 10 s; 30+ samples after 2 minutes, then `for`
    let slos: Vec<String> = drain(&mut rx)
        .into_iter()
        .filter(|e| e.state == "firing")
        .map(|e| e.rule)
        .collect();
    assert!(
        slos.contains(&"e2e_latency_p95_ms:ticket:threshold".to_string()),
        "{slos:?}"
    );
    assert!(
        slos.contains(&"tool_reliability:ticket:threshold".to_string()),
        "{slos:?}"
    );
    let s = r.engine.summary();
    assert_eq!(s["slo"]["tool_reliability"]["policy_block_excluded"], 50);
    assert_eq!(s["slo"]["tool_reliability"]["error"], 4);
}

#[test]
fn a_firing_alert_keeps_firing_across_a_restart_and_resolves_after() {
    let r = rig();
    traffic(&r, 60, 100, 0, 800);
    traffic(&r, 8, 0, 100, 800);
    assert!(r.engine.firing_alerts().iter().any(|a| a.rule == PAGE));
    let since = r
        .engine
        .firing_alerts()
        .iter()
        .find(|a| a.rule == PAGE)
        .unwrap()
        .since;
    // A new process on the same database: the page is still firing, with its start.
    let (metrics, engine) = r.restart();
    let again = engine.firing_alerts();
    let page = again
        .iter()
        .find(|a| a.rule == PAGE)
        .expect("restored as firing");
    assert_eq!(page.since, since);
    let mut rx = engine.subscribe_alerts();
    for _ in 0..12 {
        runs(&metrics, 100, "final", 800);
        engine.flush().unwrap();
        r.clock.advance_ms(MIN);
    }
    let events = drain(&mut rx);
    assert_eq!(states(&events, PAGE), ["resolved"], "{events:?}");
}
