//! Budgets edited at run time: `budgets.get/set` on the bridge and `GET/PUT /api/budgets`,
//! admin only for changes, each cap shown with its use and reset time, bad values named, an
//! agent's own caps applied to its runs, and the edit stored (it wins over the file at the next start).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
mod usage_support;

use serde_json::{json, Value};
use std::time::Duration;
use usage_support::{config, gateway, provider, run, Script, NOON_MS};

#[tokio::test]
async fn admins_edit_budgets_at_run_time_and_everyone_with_read_sees_use_and_reset() {
    let p = provider().await;
    let gw = gateway(config(&p.base_url)).await;
    let mut admin = gw.client(&["operator.admin"], false).await;
    let mut rw = gw.client(&["operator.read", "operator.write"], false).await;

    let e = rw
        .call_err("budgets.set", json!({"daily_tokens": 10}))
        .await;
    assert_eq!(e["code"], "FORBIDDEN", "{e}");

    let set = admin
        .call(
            "budgets.set",
            json!({"daily_tokens": 5000, "daily_usd": 1.5, "agents": {"free": {"per_run_tokens": 40}}, "bogus": 1}),
        )
        .await;
    assert_eq!(set["daily_tokens"], 5000);
    assert_eq!(set["agents"]["free"]["per_run_tokens"], 40);
    assert_eq!(set["ignored"], json!(["bogus"]));

    // The agent's own cap stops its run mid-stream; the message names it.
    p.push(Script::long("abcdefghij", 300, Duration::from_millis(2)));
    let res = rw
        .call("sessions.spawn", json!({"task": "go", "model": "free"}))
        .await;
    let evs = rw.run_events(res["runId"].as_str().unwrap()).await;
    let last = &evs.last().unwrap()["payload"];
    assert_eq!(last["stopReason"], "budget", "{last}");
    assert!(
        last["errorMessage"]
            .as_str()
            .unwrap()
            .contains("budgets.agents.free.per_run_tokens = 40"),
        "{last}"
    );
    // The default agent has no such cap.
    p.push(Script::text("paid reply", Some((100, 100))));
    let evs = run(&mut rw, "paid-session", "go").await;
    assert_eq!(evs.last().unwrap()["payload"]["state"], "final");

    let got = rw.call("budgets.get", json!({})).await;
    let caps = got["caps"].as_array().unwrap();
    let daily = caps
        .iter()
        .find(|c| c["name"] == "budgets.daily_tokens")
        .unwrap();
    assert!(daily["used"].as_f64().unwrap() >= 200.0, "{daily}");
    assert_eq!(daily["resetsAtMs"].as_i64(), Some(NOON_MS + 12 * 3_600_000));
    assert_eq!(daily["window"], "day");
    let usd = caps
        .iter()
        .find(|c| c["name"] == "budgets.daily_usd")
        .unwrap();
    let spent = usd["used"].as_f64().unwrap();
    assert!(
        (spent - 0.0012).abs() < 1e-9,
        "100*2/1e6 + 100*10/1e6: {usd}"
    );
    let agent_cap = caps
        .iter()
        .find(|c| c["name"] == "budgets.agents.free.per_run_tokens")
        .unwrap();
    assert_eq!(
        (agent_cap["scope"].as_str(), agent_cap["window"].as_str()),
        (Some("agent"), Some("run"))
    );
    assert!(
        agent_cap["used"].is_null(),
        "per-run use is shown on the run, not here"
    );

    // HTTP: read may GET, only admin may PUT; a bad value is named; null clears.
    let http = gw.http();
    let read_key = gw.key(&["operator.read"]);
    let admin_key = gw.key(&["operator.admin"]);
    let r = http
        .get(gw.url("/api/budgets"))
        .bearer_auth(&read_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["daily_tokens"], 5000);
    let r = http
        .put(gw.url("/api/budgets"))
        .bearer_auth(&read_key)
        .json(&json!({"daily_tokens": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .put(gw.url("/api/budgets"))
        .bearer_auth(&admin_key)
        .json(&json!({"per_run_tokens": "lots"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let err: Value = r.json().await.unwrap();
    let msg = err["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("budgets.per_run_tokens") && msg.contains("whole number"),
        "{msg}"
    );
    let r = http
        .put(gw.url("/api/budgets"))
        .bearer_auth(&admin_key)
        .json(&json!({"daily_tokens": null, "timezone": "Asia/Tokyo", "agents": {"free": null}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(body["daily_tokens"].is_null(), "{body}");
    assert_eq!(body["agents"], json!({}));
    // 21:00 in Tokyo: the window resets in 3 h.
    assert_eq!(body["resetsAtMs"].as_i64(), Some(NOON_MS + 3 * 3_600_000));
    assert!(
        gw.engine
            .store()
            .setting_get("budgets.runtime")
            .unwrap()
            .is_some(),
        "the edit is stored"
    );
}
