//! `/api/devices` over real HTTP: the pairing list and actions (scope pairing), and pending
//! requests lapsing after 5 minutes of the engine clock.
#![allow(clippy::unwrap_used)]
mod http_common;

use http_common::{start_full, Cred};
use microclaw_core::clock::ManualClock;
use microclaw_engine::ops::devices::{self, Admit, DeviceSeen, PENDING_TTL_MS};
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;

fn seen(id: &str) -> DeviceSeen {
    DeviceSeen {
        device_id: id.into(),
        public_key: format!("pk-{id}"),
        client_id: "control-ui".into(),
        scopes: Some("operator.read".into()),
        ..DeviceSeen::default()
    }
}

async fn pending(engine: &microclaw_engine::Engine, id: &str) -> String {
    match devices::admit(engine, seen(id)).await.unwrap() {
        Admit::PairingRequired { request_id } => request_id,
        other => panic!("expected a pending request, got {other:?}"),
    }
}

#[tokio::test]
async fn devices_are_listed_and_managed_over_http_with_the_pairing_scope() {
    let clock = ManualClock::new(1_700_000_000_000);
    let api = start_full(
        |c| c.auth.require_device_approval = true,
        Some(Arc::new(clock.clone())),
    )
    .await;
    let op = Cred::bearer(&api.key(&["operator.pairing"]));
    let rw = Cred::bearer(&api.key(&["operator.read", "operator.write"]));
    let req = pending(&api.engine, "dev-a").await;

    let r = api.get("/api/devices", &rw).await;
    r.assert_error(403, "FORBIDDEN", "a write key lacks pairing");
    assert!(r.message().contains("operator.pairing"), "{}", r.text);
    let r = api
        .send(
            Method::POST,
            &format!("/api/devices/requests/{req}/approve"),
            &rw,
            None,
        )
        .await;
    r.assert_error(403, "FORBIDDEN", "approving needs pairing");

    let r = api.get("/api/devices", &op).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["pending"][0]["requestId"], req.as_str());
    assert_eq!(r.json["pending"][0]["scopes"], json!(["operator.read"]));

    let r = api
        .send(
            Method::POST,
            &format!("/api/devices/requests/{req}/approve"),
            &op,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["device"]["deviceId"], "dev-a");
    let r = api
        .send(
            Method::POST,
            "/api/devices/dev-a/rename",
            &op,
            Some(json!({"label": "Desk"})),
        )
        .await;
    assert_eq!(
        r.json,
        json!({"ok": true, "deviceId": "dev-a", "label": "Desk"}),
        "{}",
        r.text
    );
    let r = api.get("/api/devices", &op).await;
    assert_eq!(r.json["paired"][0]["operatorLabel"], "Desk");
    assert_eq!(r.json["paired"][0]["connected"], false);

    let r = api
        .send(Method::POST, "/api/devices/dev-a/revoke", &op, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        devices::admit(&api.engine, seen("dev-a")).await.unwrap(),
        Admit::Revoked
    );
    let r = api
        .send(Method::POST, "/api/devices/dev-a/remove", &op, None)
        .await;
    assert_eq!(
        r.json,
        json!({"ok": true, "deviceId": "dev-a"}),
        "{}",
        r.text
    );
    let r = api
        .send(Method::POST, "/api/devices/dev-a/remove", &op, None)
        .await;
    r.assert_error(400, "INVALID_REQUEST", "removing twice");
    assert!(r.message().contains("unknown deviceId"), "{}", r.text);

    // Rejecting over HTTP.
    let req = pending(&api.engine, "dev-b").await;
    let r = api
        .send(
            Method::POST,
            &format!("/api/devices/requests/{req}/reject"),
            &op,
            None,
        )
        .await;
    assert_eq!(
        r.json,
        json!({"ok": true, "requestId": req, "deviceId": "dev-b"}),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_pending_request_lapses_after_five_minutes_of_the_engine_clock() {
    let clock = ManualClock::new(1_700_000_000_000);
    let api = start_full(
        |c| c.auth.require_device_approval = true,
        Some(Arc::new(clock.clone())),
    )
    .await;
    let op = Cred::bearer(&api.key(&["operator.pairing"]));
    let req = pending(&api.engine, "dev-c").await;
    clock.advance_ms(PENDING_TTL_MS - 1);
    assert_eq!(
        pending(&api.engine, "dev-c").await,
        req,
        "a retry refreshes the request"
    );
    clock.advance_ms(PENDING_TTL_MS - 1);
    let r = api.get("/api/devices", &op).await;
    assert_eq!(
        r.json["pending"][0]["requestId"],
        req.as_str(),
        "refreshed: still there"
    );
    clock.advance_ms(2);
    let r = api.get("/api/devices", &op).await;
    assert_eq!(r.json["pending"], json!([]), "lapsed: {}", r.text);
    let r = api
        .send(
            Method::POST,
            &format!("/api/devices/requests/{req}/approve"),
            &op,
            None,
        )
        .await;
    r.assert_error(
        400,
        "INVALID_REQUEST",
        "a lapsed request cannot be approved",
    );
    assert!(r.message().contains("unknown requestId"), "{}", r.text);
    assert_ne!(
        pending(&api.engine, "dev-c").await,
        req,
        "a new request after it lapsed"
    );
}
