//! The burn drill over HTTP on a real server (ManualClock, real `/fail` runs of the built-in
//! agent): a page alert fires, opens an incident and freezes; `PUT /api/config` answers 423
//! CHANGE_FREEZE until an admin overrides with `X-Microclaw-Override`; rollback works while
//! frozen; owner/notes need write and status admin; the postmortem exports as Markdown.
#![allow(clippy::unwrap_used)]

mod http_common;

use http_common::{start_full, Cred};
use microclaw_core::{ManualClock, SharedClock};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const T0: i64 = 1_772_884_800_000;

const FAST_SLO: &str = "[[slo]]\nname = \"request_success_rate\"\nobjective = 0.99\nsli = \"request_success\"\nmin_samples = 3\n\n[[slo.alert]]\nlong = \"1h\"\nshort = \"5m\"\nfactor = 14.4\nseverity = \"page\"\nfor = \"0m\"\nkeep_firing_for = \"0m\"\n";

async fn until(what: &str, mut f: impl AsyncFnMut() -> Option<Value>) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drill_over_http() {
    let clock = ManualClock::new(T0);
    let shared: SharedClock = Arc::new(clock.clone());
    let api = start_full(|_| {}, Some(shared)).await;
    let admin = Cred::bearer(&api.admin_key());
    let write = Cred::bearer(&api.key(&["operator.write"]));
    let read = Cred::bearer(&api.key(&["operator.read"]));
    let me = api.engine.metrics_engine().clone();
    me.set_slo_defs(microclaw_metrics::slo_file::parse("slos.toml", FAST_SLO).unwrap());
    // A config change before the burn: versions 1 (the file before) and 2.
    let r = api
        .send(
            Method::PUT,
            "/api/config",
            &admin,
            Some(json!({"auth": {"login_window_seconds": 120}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["version"], 2);

    for _ in 0..4 {
        let (_, _, out) =
            microclaw_engine::ops::chat::send_and_wait(&api.engine, Some("bad"), "/fail")
                .await
                .unwrap();
        assert_eq!(out.state.as_str(), "error");
    }
    let m = me.clone();
    tokio::task::spawn_blocking(move || m.flush())
        .await
        .unwrap()
        .unwrap();
    let alerts = api.get("/api/alerts?state=firing", &read).await;
    assert_eq!(alerts.status, 200, "{}", alerts.text);
    let rule = &alerts.json["rules"][0];
    assert_eq!(
        (rule["state"].clone(), rule["severity"].clone()),
        (json!("firing"), json!("page"))
    );
    assert!(alerts.json["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["state"] == "firing"));
    assert!(api
        .get("/api/alerts?state=burning", &read)
        .await
        .message()
        .contains("expected one of"));

    let inc = until("an incident", async || {
        let r = api.get("/api/incidents?status=open", &read).await;
        r.json["incidents"]
            .as_array()
            .and_then(|a| a.first().cloned())
    })
    .await;
    let id = inc["id"].as_i64().unwrap();
    let fz = until("the freeze", async || {
        let r = api.get("/api/freeze", &read).await;
        (r.json["active"] == true).then_some(r.json)
    })
    .await;
    assert_eq!(fz["incidentId"], id);

    // Frozen: 423 CHANGE_FREEZE with the incident; the header override goes through.
    let body = json!({"auth": {"login_window_seconds": 300}});
    let r = api
        .send(Method::PUT, "/api/config", &admin, Some(body.clone()))
        .await;
    assert_eq!(r.status, 423, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "CHANGE_FREEZE");
    assert_eq!(r.json["error"]["incidentId"], id);
    let r = read_with(&api, &admin, "hotfix: shorter window", body).await;
    assert_eq!(r.0, 200, "{}", r.1);
    // Budgets are a non-critical change too: refused, then allowed with a body override.
    let r = api
        .send(
            Method::PUT,
            "/api/budgets",
            &admin,
            Some(json!({"daily_tokens": 1000})),
        )
        .await;
    assert_eq!(r.status, 423, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "CHANGE_FREEZE");
    let r = api
        .send(
            Method::PUT,
            "/api/budgets",
            &admin,
            Some(json!({"daily_tokens": 1000, "override": {"reason": "cap for the incident"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        !r.text.contains("\"override\""),
        "the override is not a budget key: {}",
        r.text
    );
    // Sessions and chat are never frozen.
    let (_, _, out) = microclaw_engine::ops::chat::send_and_wait(&api.engine, Some("ok"), "hello")
        .await
        .unwrap();
    assert_ne!(out.state.as_str(), "error");

    // Rollback, also while frozen.
    let v = api.get("/api/config/versions", &read).await;
    assert_eq!(v.json["currentVersion"], 3, "{}", v.text);
    let r = api
        .post("/api/config/rollback", &admin, json!({"version": 2}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["rolledBackTo"], 2);
    assert_eq!(
        api.post("/api/config/rollback", &write, json!({"version": 2}))
            .await
            .status,
        403
    );

    // Owner and notes: write; status: admin.
    let path = |p: &str| format!("/api/incidents/{id}/{p}");
    assert_eq!(
        api.post(&path("owner"), &write, json!({"owner": "alice"}))
            .await
            .status,
        200
    );
    assert_eq!(
        api.post(&path("notes"), &write, json!({"text": "rolled back"}))
            .await
            .status,
        200
    );
    assert_eq!(
        api.post(&path("notes"), &read, json!({"text": "x"}))
            .await
            .status,
        403
    );
    assert_eq!(
        api.post(&path("status"), &write, json!({"status": "resolved"}))
            .await
            .status,
        403
    );
    let bad = api
        .post(&path("status"), &admin, json!({"status": "closed"}))
        .await;
    bad.assert_error(400, "INVALID_REQUEST", "unknown status");
    assert_eq!(
        api.post(&path("status"), &admin, json!({"status": "resolved"}))
            .await
            .status,
        200
    );
    let got = api.get(&format!("/api/incidents/{id}"), &read).await;
    let kinds: Vec<&str> = got.json["incident"]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    for k in ["alert", "override", "config", "owner", "note", "status"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let md = api
        .get(&format!("/api/incidents/{id}/export?format=md"), &read)
        .await;
    assert_eq!(md.status, 200);
    assert!(md
        .header("content-type")
        .unwrap()
        .starts_with("text/markdown"));
    assert!(md.text.contains("hotfix: shorter window"), "{}", md.text);
    assert_eq!(
        api.get("/api/incidents/999/export?format=md", &read)
            .await
            .status,
        404
    );

    // The burn ends: the page resolves and the automatic freeze lifts.
    clock.advance_ms(3_700_000);
    let m = me.clone();
    tokio::task::spawn_blocking(move || m.flush())
        .await
        .unwrap()
        .unwrap();
    until("the freeze to lift", async || {
        let r = api.get("/api/freeze", &read).await;
        (r.json["active"] == false).then_some(r.json)
    })
    .await;
}

async fn read_with(
    api: &http_common::Api,
    cred: &Cred,
    reason: &str,
    body: Value,
) -> (u16, String) {
    let r = api
        .request(Method::PUT, "/api/config", cred)
        .header("X-Microclaw-Override", reason)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}
