//! Device pairing over real WebSockets with real Ed25519 signatures (issue 11, devices):
//! required approval, approve / reject / rename / remove / revoke / rotate, scopes and who
//! gets the pairing events.
#![allow(clippy::unwrap_used)]
mod common;

use common::{now_ms, openclaw_connect, sign_device, start, start_with, Client, TestServer};
use ed25519_dalek::SigningKey;
use microclaw_engine::EngineEvent;
use serde_json::{json, Value};

const PAIRING: &[&str] = &["operator.read", "operator.pairing"];

/// A device connect (protocol 4, signed v3) on `key`: the client and the response frame.
async fn device_connect(srv: &TestServer, key: &str, sk: &SigningKey) -> (Client, Value) {
    let mut c = srv.raw().await;
    c.read_challenge().await;
    let mut params = openclaw_connect(key, None);
    params["client"]["displayName"] = json!("Ada's laptop");
    sign_device(&mut params, sk, &c.nonce(), now_ms(), "v3");
    let res = c.connect(params).await;
    (c, res)
}

fn device_id(sk: &SigningKey) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(sk.verifying_key().to_bytes()))
}

async fn approval_server() -> TestServer {
    start_with(|c| c.auth.require_device_approval = true).await
}

#[tokio::test]
async fn with_approval_required_a_new_device_waits_and_connects_once_approved() {
    let srv = approval_server().await;
    let (mut op, _) = srv.client_v4(&srv.key(PAIRING)).await;
    let (mut op3, _) = srv.client_v3(&srv.key(PAIRING)).await;
    let sk = SigningKey::from_bytes(&[21; 32]);
    let key = srv.rw_key();

    let (mut dev, res) = device_connect(&srv, &key, &sk).await;
    let err = &res["error"];
    assert_eq!(err["code"], "INVALID_REQUEST", "{res}");
    assert_eq!(err["details"]["code"], "PAIRING_REQUIRED", "{res}");
    assert_eq!(err["details"]["reason"], "not-paired", "{res}");
    let request_id = err["details"]["requestId"].as_str().unwrap().to_string();
    assert_eq!(dev.expect_close().await, Some(1008));

    let ev = op.next_event("device.pair.requested").await;
    assert_eq!(ev["payload"]["requestId"], request_id.as_str());
    assert_eq!(ev["payload"]["deviceId"], device_id(&sk).as_str());
    assert_eq!(ev["payload"]["displayName"], "Ada's laptop");
    assert_eq!(ev["payload"]["isRepair"], false);

    // Both protocols list it as pending; a second attempt keeps the same request.
    for c in [&mut op, &mut op3] {
        let list = c.call("device.pair.list", json!({})).await;
        assert_eq!(
            list["pending"][0]["requestId"],
            request_id.as_str(),
            "{list}"
        );
        assert_eq!(list["paired"], json!([]), "{list}");
    }
    let (_, res) = device_connect(&srv, &key, &sk).await;
    assert_eq!(
        res["error"]["details"]["requestId"],
        request_id.as_str(),
        "{res}"
    );

    let ok = op3
        .call("device.pair.approve", json!({"requestId": request_id}))
        .await;
    assert_eq!(ok["requestId"], request_id.as_str());
    assert_eq!(ok["device"]["deviceId"], device_id(&sk).as_str());
    assert_eq!(ok["device"]["approvedVia"], "owner");
    let resolved = op.next_event("device.pair.resolved").await;
    assert_eq!(resolved["payload"]["decision"], "approved");
    assert_eq!(resolved["payload"]["requestId"], request_id.as_str());

    let (_dev, res) = device_connect(&srv, &key, &sk).await;
    assert_eq!(res["ok"], true, "an approved device connects: {res}");
    let list = op.call("device.pair.list", json!({})).await;
    assert_eq!(list["pending"], json!([]), "{list}");
    assert_eq!(list["paired"][0]["deviceId"], device_id(&sk).as_str());
    assert_eq!(list["paired"][0]["connected"], true, "{list}");
}

#[tokio::test]
async fn a_rejected_request_is_gone_and_the_device_asks_again() {
    let srv = approval_server().await;
    let (mut op, _) = srv.client_v4(&srv.key(PAIRING)).await;
    let sk = SigningKey::from_bytes(&[22; 32]);
    let key = srv.rw_key();
    let (_, res) = device_connect(&srv, &key, &sk).await;
    let first = res["error"]["details"]["requestId"]
        .as_str()
        .unwrap()
        .to_string();

    let out = op
        .call("device.pair.reject", json!({"requestId": first}))
        .await;
    assert_eq!(out, json!({"requestId": first, "deviceId": device_id(&sk)}));
    let ev = op.next_event("device.pair.resolved").await;
    assert_eq!(ev["payload"]["decision"], "rejected");
    let err = op
        .call_err("device.pair.approve", json!({"requestId": first}))
        .await;
    assert_eq!(err["code"], "INVALID_REQUEST");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("unknown requestId"),
        "{err}"
    );
    let list = op.call("device.pair.list", json!({})).await;
    assert_eq!(list, json!({"pending": [], "paired": []}));

    let (_, res) = device_connect(&srv, &key, &sk).await;
    let second = res["error"]["details"]["requestId"].as_str().unwrap();
    assert_ne!(second, first, "a new request after the rejection");
    let err = op.call_err("device.pair.reject", json!({})).await;
    assert!(
        err["message"].as_str().unwrap().contains("requestId"),
        "names the missing param: {err}"
    );
}

#[tokio::test]
async fn rename_labels_a_device_and_remove_closes_its_socket() {
    let srv = start().await;
    let (mut op, _) = srv.client_v4(&srv.key(PAIRING)).await;
    let sk = SigningKey::from_bytes(&[23; 32]);
    let id = device_id(&sk);
    let (mut dev, res) = device_connect(&srv, &srv.rw_key(), &sk).await;
    assert_eq!(res["ok"], true, "no approval required by default: {res}");
    op.next_event("device.pair.changed").await;

    let out = op
        .call(
            "device.pair.rename",
            json!({"deviceId": id, "label": "  Kitchen tablet "}),
        )
        .await;
    assert_eq!(out, json!({"deviceId": id, "label": "Kitchen tablet"}));
    op.next_event("device.pair.changed").await;
    let list = op.call("device.pair.list", json!({})).await;
    assert_eq!(list["paired"][0]["operatorLabel"], "Kitchen tablet");
    assert_eq!(list["paired"][0]["approvedVia"], "silent");
    for (label, why) in [
        (json!("   "), "label required"),
        (json!("x".repeat(65)), "1..64"),
    ] {
        let err = op
            .call_err(
                "device.pair.rename",
                json!({"deviceId": id, "label": label}),
            )
            .await;
        assert!(err["message"].as_str().unwrap().contains(why), "{err}");
    }
    let err = op
        .call_err(
            "device.pair.rename",
            json!({"deviceId": "nope", "label": "x"}),
        )
        .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("unknown deviceId"),
        "{err}"
    );

    let out = op.call("device.pair.remove", json!({"deviceId": id})).await;
    assert_eq!(out, json!({"deviceId": id}));
    assert_eq!(
        dev.expect_close().await,
        Some(1008),
        "removed: its socket closes"
    );
    let list = op.call("device.pair.list", json!({})).await;
    assert_eq!(list["paired"], json!([]));
    let err = op
        .call_err("device.pair.remove", json!({"deviceId": id}))
        .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("unknown deviceId"),
        "{err}"
    );
}

#[tokio::test]
async fn a_revoked_device_is_closed_and_refused_and_rotate_changes_nothing() {
    let srv = start().await;
    let (mut op, _) = srv.client_v3(&srv.key(PAIRING)).await;
    let sk = SigningKey::from_bytes(&[24; 32]);
    let id = device_id(&sk);
    let key = srv.rw_key();
    let (mut dev, res) = device_connect(&srv, &key, &sk).await;
    assert_eq!(res["ok"], true, "{res}");

    let rotated = op
        .call(
            "device.token.rotate",
            json!({"deviceId": id, "role": "operator"}),
        )
        .await;
    assert_eq!(
        (rotated["ok"].clone(), rotated["rotated"].clone()),
        (json!(true), json!(false))
    );
    assert!(rotated["note"]
        .as_str()
        .unwrap()
        .contains("no device tokens"));
    let err = op
        .call_err("device.token.rotate", json!({"deviceId": "nope"}))
        .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("device token rotation denied"),
        "{err}"
    );
    let err = op
        .call_err(
            "device.token.revoke",
            json!({"deviceId": id, "role": "node"}),
        )
        .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("device token revocation denied"),
        "{err}"
    );

    let out = op
        .call(
            "device.token.revoke",
            json!({"deviceId": id, "role": "operator"}),
        )
        .await;
    assert_eq!(
        (out["deviceId"].as_str(), out["role"].as_str()),
        (Some(id.as_str()), Some("operator"))
    );
    let at = out["revokedAtMs"].as_i64().unwrap();
    assert_eq!(
        dev.expect_close().await,
        Some(1008),
        "revoked: its socket closes"
    );
    let again = op
        .call("device.token.revoke", json!({"deviceId": id}))
        .await;
    assert_eq!(
        again["revokedAtMs"], at,
        "revoking again keeps the first time"
    );

    let (_, res) = device_connect(&srv, &key, &sk).await;
    assert_eq!(res["error"]["details"]["code"], "DEVICE_REVOKED", "{res}");
    let list = op.call("device.pair.list", json!({})).await;
    assert_eq!(list["paired"][0]["revokedAtMs"], at, "{list}");
}

#[tokio::test]
async fn token_only_clients_are_not_asked_to_pair() {
    let srv = approval_server().await;
    let key = srv.rw_key();
    let (mut c4, hello) = srv.client_v4(&key).await;
    assert_eq!(hello["type"], "hello-ok");
    let (mut c3, _) = srv.client_v3(&key).await;
    for c in [&mut c4, &mut c3] {
        assert_eq!(c.call("health", json!({})).await["ok"], true);
    }
    let list = srv.engine.store().devices_list().unwrap();
    assert!(list.is_empty(), "no device was recorded: {list:?}");
}

#[tokio::test]
async fn device_methods_need_pairing_and_admin_satisfies_it() {
    let srv = start().await;
    let rw = srv.rw_key();
    let (mut c4, _) = srv.client_v4(&rw).await;
    let (mut c3, _) = srv.client_v3(&rw).await;
    let calls = [
        ("device.pair.list", json!({})),
        ("device.pair.approve", json!({"requestId": "r"})),
        ("device.pair.reject", json!({"requestId": "r"})),
        ("device.pair.remove", json!({"deviceId": "d"})),
        ("device.pair.rename", json!({"deviceId": "d", "label": "l"})),
        (
            "device.token.revoke",
            json!({"deviceId": "d", "role": "operator"}),
        ),
        (
            "device.token.rotate",
            json!({"deviceId": "d", "role": "operator"}),
        ),
    ];
    for c in [&mut c4, &mut c3] {
        for (m, params) in &calls {
            let err = c.call_err(m, params.clone()).await;
            assert_eq!(err["code"], "FORBIDDEN", "{m}: {err}");
            assert_eq!(err["details"]["code"], "MISSING_SCOPE", "{m}: {err}");
            assert_eq!(
                err["details"]["missingScope"], "operator.pairing",
                "{m}: {err}"
            );
        }
    }
    let (mut admin, hello) = srv.client_v4(&srv.key(&["operator.admin"])).await;
    let methods = hello["features"]["methods"].as_array().unwrap();
    for (m, _) in &calls {
        assert!(methods.iter().any(|x| x == m), "hello-ok advertises {m}");
    }
    let events = hello["features"]["events"].as_array().unwrap();
    for e in [
        "device.pair.requested",
        "device.pair.resolved",
        "device.pair.changed",
    ] {
        assert!(events.iter().any(|x| x == e), "hello-ok advertises {e}");
    }
    let list = admin.call("device.pair.list", json!({})).await;
    assert_eq!(list, json!({"pending": [], "paired": []}));
}

#[tokio::test]
async fn pairing_events_reach_only_pairing_holders() {
    let srv = approval_server().await;
    let (mut op, _) = srv.client_v4(&srv.key(PAIRING)).await;
    let (mut admin, _) = srv.client_v3(&srv.key(&["operator.admin"])).await;
    let (mut plain, _) = srv.client_v4(&srv.rw_key()).await;
    let sk = SigningKey::from_bytes(&[25; 32]);
    let (_, res) = device_connect(&srv, &srv.rw_key(), &sk).await;
    assert_eq!(res["error"]["details"]["code"], "PAIRING_REQUIRED", "{res}");
    op.next_event("device.pair.requested").await;
    admin.next_event("device.pair.requested").await;
    // A later event every reader gets: had the pairing event reached `plain`, it would have
    // come first (one engine stream, delivered in order).
    srv.engine.emit(EngineEvent::SloAlert(
        json!({"name": "marker", "state": "firing"}),
    ));
    plain.next_event("slo.alert").await;
    let leaked: Vec<_> = plain
        .events
        .iter()
        .filter(|e| e["event"].as_str().unwrap_or("").starts_with("device.pair"))
        .collect();
    assert!(
        leaked.is_empty(),
        "no pairing event without pairing: {leaked:?}"
    );
}
