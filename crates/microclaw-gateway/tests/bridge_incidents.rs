//! The burn drill over the bridge: `freeze.set` (admin) pushes a `freeze` event; a frozen
//! `cron.add` answers UNAVAILABLE with `retryable:false` and `details.code:"CHANGE_FREEZE"`
//! until `override:{reason}`; `incidents.create/update/get/list`, `alerts.list`.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeze_incidents_and_alerts_on_the_bridge() {
    let srv = start().await;
    let admin = srv.key(&["operator.admin"]);
    let write = srv.key(&["operator.write"]);
    let (mut a, _) = srv.client_v4(&admin).await;
    let (mut w, _) = srv.client_v4(&write).await;

    let alerts = a.call("alerts.list", json!({})).await;
    assert!(alerts["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["rule"] == "request_success_rate:page:1h/5m" && r["state"] == "inactive"));
    let inc = a
        .call(
            "incidents.create",
            json!({"title": "drill", "severity": "sev2"}),
        )
        .await;
    let id = inc["incident"]["id"].as_i64().unwrap();
    let ev = w.next_event("incident").await;
    assert_eq!(ev["payload"]["id"], id);

    let err = w
        .call_err("freeze.set", json!({"active": true, "reason": "x"}))
        .await;
    assert_eq!(err["details"]["missingScope"], "operator.admin", "{err}");
    let fz = a
        .call(
            "freeze.set",
            json!({"active": true, "reason": "drill freeze"}),
        )
        .await;
    assert_eq!(
        (fz["active"].clone(), fz["incidentId"].clone()),
        (json!(true), json!(id))
    );
    let ev = w.next_event("freeze").await;
    assert_eq!(ev["payload"]["reason"], "drill freeze");

    let job = json!({"name": "nightly", "schedule": {"kind": "every", "everyMs": 3_600_000}, "payload": {"kind": "agentTurn", "message": "hi"}});
    let err = a.call_err("cron.add", job.clone()).await;
    assert_eq!(err["code"], "UNAVAILABLE", "{err}");
    assert_eq!(err["retryable"], false, "{err}");
    assert!(err.get("retryAfterMs").is_none(), "{err}");
    assert_eq!(err["details"]["code"], "CHANGE_FREEZE");
    assert_eq!(err["details"]["incidentId"], id);
    let mut with = job.clone();
    with["override"] = json!({"reason": "the nightly report is part of the fix"});
    let res = a.call_frame("cron.add", with).await;
    assert_ne!(res["error"]["details"]["code"], "CHANGE_FREEZE", "{res}");

    // Write may set the owner and notes, not the status.
    w.call(
        "incidents.update",
        json!({"id": id, "owner": "bob", "note": "looking"}),
    )
    .await;
    let err = w
        .call_err("incidents.update", json!({"id": id, "status": "resolved"}))
        .await;
    assert!(err.to_string().contains("operator.admin"), "{err}");
    let got = a
        .call("incidents.update", json!({"id": id, "status": "mitigated"}))
        .await;
    assert_eq!(got["incident"]["status"], "mitigated");
    assert_eq!(got["incident"]["owner"], "bob");
    let kinds: Vec<String> = got["incident"]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.contains(&"override".to_string()), "{kinds:?}");
    let list = w
        .call("incidents.list", json!({"status": "mitigated"}))
        .await;
    assert_eq!(list["incidents"].as_array().unwrap().len(), 1);
    let err = w.call_err("incidents.get", json!({"id": 999})).await;
    assert_eq!(err["code"], "NOT_FOUND", "{err}");
    a.call("freeze.set", json!({"active": false})).await;
    assert_eq!(w.call("freeze.get", json!({})).await["active"], false);
}
