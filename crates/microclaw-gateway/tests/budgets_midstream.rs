//! Budgets enforced while a reply streams, with a real OpenAI-compatible provider: a long
//! reply stopped at its cap (partial text kept and marked), the runaway guard, the refusal of
//! the next run with `retryAfterMs` until the daily window resets (engine clock), the
//! `budget.warning` event at 80 % once per window, and a per-session cap that never resets.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
mod usage_support;

use microclaw_engine::EngineEvent;
use serde_json::json;
use std::time::Duration;
use usage_support::{config, gateway, provider, run, Script, NOON_MS};

const READ_WRITE: &[&str] = &["operator.read", "operator.write"];
const FULL_REPLY_CHARS: usize = 10 * 300;

fn long_reply() -> Script {
    Script::long("abcdefghij", 300, Duration::from_millis(2))
}

#[tokio::test]
async fn a_long_streamed_reply_is_stopped_at_its_per_run_cap_and_its_partial_text_is_kept() {
    let p = provider().await;
    let mut cfg = config(&p.base_url);
    cfg.budgets.per_run_tokens = Some(100);
    let gw = gateway(cfg).await;
    for v3 in [false, true] {
        let mut c = gw.client(READ_WRITE, v3).await;
        let session = if v3 { "run-cap-3" } else { "run-cap-4" };
        p.push(long_reply());
        let evs = run(&mut c, session, "go").await;
        assert!(evs.len() > 1, "deltas streamed before the stop: {evs:?}");
        let last = &evs.last().unwrap()["payload"];
        assert_eq!(last["state"], "aborted", "{last}");
        assert_eq!(last["stopReason"], "budget", "{last}");
        let msg = last["errorMessage"].as_str().unwrap();
        assert!(msg.contains("budgets.per_run_tokens = 100"), "{msg}");
        let text = last["message"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            !text.is_empty() && text.len() < FULL_REPLY_CHARS,
            "cut short: {} chars",
            text.len()
        );
        // Stopped soon after the cap: ~400 characters is 100 tokens.
        assert!(
            text.len() <= 600,
            "stopped near the cap, not at the end: {} chars",
            text.len()
        );
        if v3 {
            let u = &last["usage"];
            assert_eq!(u["estimated"], true, "{u}");
            assert!(u["totalTokens"].as_u64().unwrap() > 100, "{u}");
        } else {
            assert!(
                last.get("usage").is_none(),
                "protocol 4 aborted carries no usage"
            );
        }
        let hist = c.call("chat.history", json!({"sessionKey": session})).await;
        let msgs = hist["messages"].as_array().unwrap();
        let m = msgs.last().unwrap();
        assert_eq!(m["role"], "assistant", "{m}");
        assert_eq!(
            m["stopReason"], "budget",
            "the stored partial reply is marked: {m}"
        );
        assert!(
            m["errorMessage"]
                .as_str()
                .unwrap()
                .contains("per_run_tokens"),
            "{m}"
        );
        let stored = m["content"][0]["text"]
            .as_str()
            .or(m["text"].as_str())
            .unwrap_or("");
        assert_eq!(stored, text, "the partial text is kept whole");
    }
    // A per-run cap does not refuse the next run.
    let mut c = gw.client(READ_WRITE, false).await;
    p.push(Script::text("short", Some((3, 2))));
    let evs = run(&mut c, "run-cap-next", "again").await;
    assert_eq!(evs.last().unwrap()["payload"]["state"], "final");
}

#[tokio::test]
async fn the_runaway_guard_stops_a_reply_that_streams_too_many_tokens_per_minute() {
    let p = provider().await;
    let mut cfg = config(&p.base_url);
    cfg.budgets.max_tokens_per_minute = Some(50);
    let gw = gateway(cfg).await;
    let mut c = gw.client(READ_WRITE, false).await;
    p.push(long_reply());
    let evs = run(&mut c, "fast", "go").await;
    let last = &evs.last().unwrap()["payload"];
    assert_eq!(last["state"], "aborted", "{last}");
    assert_eq!(last["stopReason"], "runaway", "{last}");
    let msg = last["errorMessage"].as_str().unwrap();
    assert!(
        msg.contains("runaway guard budgets.max_tokens_per_minute = 50"),
        "{msg}"
    );
}

#[tokio::test]
async fn the_runaway_guard_stops_a_run_that_makes_too_many_tool_calls() {
    let p = provider().await;
    let mut cfg = config(&p.base_url);
    cfg.budgets.max_tool_calls_per_run = Some(2);
    let gw = gateway(cfg).await;
    let mut c = gw.client(READ_WRITE, false).await;
    p.push(Script::tool_calls(3));
    let evs = run(&mut c, "loopy", "go").await;
    let last = &evs.last().unwrap()["payload"];
    assert_eq!(last["state"], "aborted", "{last}");
    assert_eq!(last["stopReason"], "runaway", "{last}");
    let msg = last["errorMessage"].as_str().unwrap();
    assert!(
        msg.contains("budgets.max_tool_calls_per_run = 2 tool calls: used 3"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_daily_cap_warns_at_80_percent_once_then_refuses_until_midnight() {
    let p = provider().await;
    let mut cfg = config(&p.base_url);
    cfg.budgets.daily_tokens = Some(1000);
    let gw = gateway(cfg).await;
    let mut events = gw.engine.subscribe();
    let mut watcher = gw.client(&["operator.read"], false).await;
    let mut c = gw.client(READ_WRITE, false).await;

    p.push(Script::text("big", Some((800, 50))));
    let evs = run(&mut c, "day-a", "one").await;
    assert_eq!(evs.last().unwrap()["payload"]["state"], "final");
    let w = watcher.next_event("budget.warning").await["payload"].clone();
    assert_eq!(
        (w["cap"].as_str(), w["scope"].as_str()),
        (Some("daily_tokens"), Some("global")),
        "{w}"
    );
    assert_eq!(
        (w["limit"].as_f64(), w["used"].as_f64()),
        (Some(1000.0), Some(850.0)),
        "{w}"
    );
    assert_eq!(w["ratio"].as_f64(), Some(0.85));
    assert_eq!(w["resetsAtMs"].as_i64(), Some(NOON_MS + 12 * 3_600_000));
    assert!(
        w["message"]
            .as_str()
            .unwrap()
            .contains("budgets.daily_tokens"),
        "{w}"
    );

    // Past the cap at the end of this run (the provider's count): it completes, no second warning.
    p.push(Script::text("more", Some((100, 100))));
    let evs = run(&mut c, "day-b", "two").await;
    assert_eq!(evs.last().unwrap()["payload"]["state"], "final");

    // Exhausted: the next run is refused until 00:00 UTC (12 h on the engine clock).
    let res = c
        .call_frame(
            "chat.send",
            json!({"sessionKey": "day-c", "message": "three"}),
        )
        .await;
    assert_eq!(res["ok"], false, "{res}");
    let e = &res["error"];
    assert_eq!(e["code"], "UNAVAILABLE", "{e}");
    assert_eq!(e["details"]["code"], "BUDGET_EXCEEDED", "{e}");
    assert_eq!(e["retryable"], true, "{e}");
    assert_eq!(e["retryAfterMs"].as_i64(), Some(12 * 3_600_000), "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("budgets.daily_tokens = 1000"),
        "{e}"
    );
    let status_http = gw
        .http()
        .post(gw.url("/api/send"))
        .bearer_auth(gw.key(READ_WRITE))
        .json(&json!({"session_key": "day-c", "message": "three"}))
        .send()
        .await
        .unwrap();
    assert_eq!(status_http.status(), 503, "HTTP refuses the same way");

    let mut warnings = 0;
    while let Ok(ev) = events.try_recv() {
        warnings += usize::from(matches!(ev, EngineEvent::BudgetWarning(_)));
    }
    assert_eq!(warnings, 1, "one warning per cap per window");

    // A new day: the window is empty again.
    gw.clock.advance_ms(12 * 3_600_000);
    p.push(Script::text("new day", Some((5, 5))));
    let evs = run(&mut c, "day-c", "three").await;
    assert_eq!(evs.last().unwrap()["payload"]["state"], "final");
}

#[tokio::test]
async fn a_queued_run_whose_cap_ran_out_while_it_waited_ends_without_calling_the_model() {
    let p = provider().await;
    let mut cfg = config(&p.base_url);
    cfg.budgets.daily_tokens = Some(1000);
    let gw = gateway(cfg).await;
    let mut c = gw.client(READ_WRITE, false).await;
    p.push(Script {
        pieces: vec!["slow ".into(); 5],
        delay: Duration::from_millis(40),
        usage: Some((1000, 10)),
        tools: 0,
    });
    let first = c
        .call(
            "chat.send",
            json!({"sessionKey": "queue", "message": "one"}),
        )
        .await;
    let second = c
        .call(
            "chat.send",
            json!({"sessionKey": "queue", "message": "two"}),
        )
        .await;
    assert_eq!(
        second["status"], "accepted",
        "queued behind the first: {second}"
    );
    let evs = c.run_events(first["runId"].as_str().unwrap()).await;
    assert_eq!(evs.last().unwrap()["payload"]["state"], "final");
    let evs = c.run_events(second["runId"].as_str().unwrap()).await;
    let last = &evs.last().unwrap()["payload"];
    assert_eq!(
        (last["state"].as_str(), last["stopReason"].as_str()),
        (Some("aborted"), Some("budget")),
        "{last}"
    );
    assert!(
        last["errorMessage"]
            .as_str()
            .unwrap()
            .contains("budgets.daily_tokens = 1000"),
        "{last}"
    );
    assert_eq!(
        *p.requests.lock(),
        1,
        "the model was not called for the refused run"
    );
    let u = c.call("sessions.usage", json!({"key": "queue"})).await;
    assert_eq!(
        u["totals"]["totalTokens"], 1010,
        "the refused run used nothing: {u}"
    );
}

#[tokio::test]
async fn an_exhausted_per_session_cap_refuses_that_session_without_a_retry_hint() {
    let p = provider().await;
    let mut cfg = config(&p.base_url);
    cfg.budgets.per_session_tokens = Some(20);
    let gw = gateway(cfg).await;
    let mut c = gw.client(READ_WRITE, false).await;
    p.push(Script::text("fine", Some((15, 10))));
    run(&mut c, "capped", "one").await;
    let e = c
        .call_err(
            "chat.send",
            json!({"sessionKey": "capped", "message": "two"}),
        )
        .await;
    assert_eq!(e["code"], "UNAVAILABLE", "{e}");
    assert_eq!(e["details"]["code"], "BUDGET_EXCEEDED", "{e}");
    assert_eq!(e["retryable"], false, "a per-session cap never resets: {e}");
    assert!(e.get("retryAfterMs").is_none(), "{e}");
    // Another session is not affected.
    let evs = run(&mut c, "other", "one").await;
    assert_eq!(evs.last().unwrap()["payload"]["state"], "final");
}
