//! Conformance: the bridge handshake (gateway-protocol.md §2) over real sockets, for
//! protocol 3 (MicroClaw) and protocol 4 (OpenClaw) clients.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{now_ms, openclaw_connect, sign_device, start, start_with, Frame};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn the_challenge_comes_first_with_a_uuid_v4_nonce_and_no_seq() {
    let srv = start().await;
    let mut c = srv.raw().await;
    let before = now_ms();
    let ch = c.read_challenge().await;
    assert_eq!(
        keys(&ch),
        set(&["type", "event", "payload"]),
        "connect.challenge has no seq: {ch}"
    );
    let nonce = ch["payload"]["nonce"].as_str().unwrap();
    let parsed = uuid::Uuid::parse_str(nonce).expect("nonce is a uuid");
    assert_eq!(parsed.get_version_num(), 4, "nonce is a v4 uuid");
    let ts = ch["payload"]["ts"].as_i64().unwrap();
    assert!((ts - before).abs() < 5000, "ts is epoch ms now: {ts}");
}

#[tokio::test]
async fn protocol_3_hello_ok_has_no_auth_block_and_a_tick_follows_at_once() {
    let srv = start().await;
    let key = srv.rw_key();
    let mut c = srv.raw().await;
    c.read_challenge().await;
    let res = c
        .connect(json!({"minProtocol": 3, "maxProtocol": 3, "auth": {"token": key}}))
        .await;
    assert_eq!(keys(&res), set(&["type", "id", "ok", "payload"]));
    let hello = &res["payload"];
    assert_eq!(
        (hello["type"].as_str(), hello["protocol"].as_u64()),
        (Some("hello-ok"), Some(3))
    );
    assert!(hello.get("auth").is_none(), "auth is a protocol-4 key");
    assert_eq!(hello["policy"]["maxPayload"], 1 << 20);
    assert_eq!(hello["policy"]["tickIntervalMs"], 15000);
    let methods: Vec<&str> = hello["features"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for m in [
        "health",
        "chat.send",
        "sessions.setThinking",
        "chat.cancel",
        "node.list",
    ] {
        assert!(methods.contains(&m), "features.methods lists {m}");
    }
    let tick = c.next_json().await;
    assert_eq!(tick["event"], "tick", "an immediate tick follows hello-ok");
    assert!(tick.get("seq").is_none(), "protocol 3 has no seq");
}

#[tokio::test]
async fn protocol_4_hello_ok_carries_only_schema_keys_and_the_effective_scopes() {
    let srv = start().await;
    let key = srv.rw_key();
    let mut c = srv.raw().await;
    c.read_challenge().await;
    let res = c
        .connect(openclaw_connect(&key, Some(&["operator.read"])))
        .await;
    let hello = &res["payload"];
    assert_eq!(hello["protocol"], 4);
    assert_eq!(
        keys(hello),
        set(&["type", "protocol", "server", "features", "snapshot", "auth", "policy"])
    );
    assert_eq!(keys(&hello["server"]), set(&["version", "connId"]));
    assert_eq!(keys(&hello["features"]), set(&["methods", "events"]));
    assert_eq!(
        keys(&hello["snapshot"]),
        set(&["presence", "health", "stateVersion", "uptimeMs", "authMode"])
    );
    assert_eq!(
        keys(&hello["snapshot"]["stateVersion"]),
        set(&["presence", "health"])
    );
    assert_eq!(
        keys(&hello["policy"]),
        set(&["maxPayload", "maxBufferedBytes", "tickIntervalMs"])
    );
    assert_eq!(
        hello["auth"],
        json!({"role": "operator", "scopes": ["operator.read"], "method": "token"})
    );
    assert_eq!(hello["snapshot"]["health"]["ok"], true);
    let tick = c.next_json().await;
    assert_eq!(
        (tick["event"].as_str(), tick["seq"].as_u64()),
        (Some("tick"), Some(1))
    );
    let err = c
        .call_err("chat.send", json!({"sessionKey": "x", "message": "hi"}))
        .await;
    assert_eq!(
        err["details"],
        json!({"code": "MISSING_SCOPE", "missingScope": "operator.write"}),
        "scopes were narrowed"
    );
}

#[tokio::test]
async fn a_first_frame_that_is_not_connect_is_refused_and_closed_with_1008() {
    let srv = start().await;
    for (frame, id) in [
        (
            json!({"type": "req", "id": "h1", "method": "health"}).to_string(),
            json!("h1"),
        ),
        ("definitely not json".to_string(), Value::Null),
    ] {
        let mut c = srv.raw().await;
        c.read_challenge().await;
        c.send_text(frame).await;
        let res = c.next_json().await;
        assert_eq!((res["ok"].as_bool(), res["id"].clone()), (Some(false), id));
        assert_eq!(res["error"]["code"], "INVALID_REQUEST");
        assert!(res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("connect request is required first"));
        assert_eq!(c.expect_close().await, Some(1008));
    }
}

#[tokio::test]
async fn no_connect_within_the_configured_timeout_closes_with_1008() {
    let srv = start_with(|c| c.server.handshake_timeout_ms = 300).await;
    let mut c = srv.raw().await;
    c.read_challenge().await;
    let t0 = Instant::now();
    assert_eq!(c.expect_close().await, Some(1008));
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "closed after {waited:?}"
    );
}

#[tokio::test]
async fn a_protocol_mismatch_is_invalid_request_for_v4_clients_and_unsupported_for_v3_ones() {
    let srv = start().await;
    let key = srv.rw_key();
    for (min, max, code) in [(5, 6, "INVALID_REQUEST"), (1, 2, "UNSUPPORTED_PROTOCOL")] {
        let mut c = srv.raw().await;
        c.read_challenge().await;
        let res = c
            .connect(json!({"minProtocol": min, "maxProtocol": max, "auth": {"token": key}}))
            .await;
        assert_eq!(res["error"]["code"], code, "{min}..{max}: {res}");
        assert!(res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("protocol mismatch"));
        assert_eq!(
            res["error"]["details"],
            json!({"code": "PROTOCOL_MISMATCH", "expectedProtocol": 4, "minimumProtocol": 3})
        );
        assert_eq!(c.expect_close().await, Some(1002));
    }
}

#[tokio::test]
async fn bad_and_missing_tokens_are_refused_per_protocol_and_closed_with_1008() {
    let srv = start().await;
    let mut c = srv.raw().await;
    c.read_challenge().await;
    let res = c
        .connect(json!({"minProtocol": 3, "maxProtocol": 3, "auth": {"token": "mk_wrong"}}))
        .await;
    assert_eq!(res["error"]["code"], "UNAUTHORIZED", "protocol 3: {res}");
    assert_eq!(c.expect_close().await, Some(1008));

    let mut c = srv.raw().await;
    c.read_challenge().await;
    let res = c.connect(openclaw_connect("mk_wrong", None)).await;
    assert_eq!(
        (
            res["error"]["code"].as_str(),
            res["error"]["details"]["code"].as_str()
        ),
        (Some("INVALID_REQUEST"), Some("AUTH_TOKEN_MISMATCH"))
    );
    assert_eq!(c.expect_close().await, Some(1008));

    let mut c = srv.raw().await;
    c.read_challenge().await;
    let res = c.connect(json!({"minProtocol": 4, "maxProtocol": 4})).await;
    assert_eq!(
        res["error"]["details"]["code"], "AUTH_TOKEN_MISSING",
        "{res}"
    );
    assert_eq!(c.expect_close().await, Some(1008));
}

#[tokio::test]
async fn bad_connect_params_name_the_field() {
    let srv = start().await;
    let mut c = srv.raw().await;
    c.read_challenge().await;
    let res = c
        .connect(json!({"maxProtocol": 4, "auth": {"token": "x"}}))
        .await;
    assert_eq!(res["error"]["code"], "INVALID_REQUEST");
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("minProtocol"),
        "{res}"
    );
    assert_eq!(c.expect_close().await, Some(1008));
}

#[tokio::test]
async fn a_key_without_read_scope_cannot_connect() {
    let srv = start().await;
    // Write implies read (OpenClaw's rule); approvals implies nothing.
    let approvals_only = srv.key(&["operator.approvals"]);
    let mut c = srv.raw().await;
    c.read_challenge().await;
    let res = c
        .connect(json!({"minProtocol": 3, "maxProtocol": 4, "auth": {"token": approvals_only}}))
        .await;
    assert_eq!(res["error"]["code"], "FORBIDDEN", "{res}");
    assert_eq!(
        res["error"]["details"],
        json!({"code": "MISSING_SCOPE", "missingScope": "operator.read"})
    );
    assert_eq!(c.expect_close().await, Some(1008));

    // A read key asking only for write ends up with no read either.
    let read = srv.key(&["operator.read"]);
    let mut c = srv.raw().await;
    c.read_challenge().await;
    let res = c
        .connect(openclaw_connect(&read, Some(&["operator.write"])))
        .await;
    assert_eq!(res["error"]["code"], "FORBIDDEN", "{res}");
}

#[tokio::test]
async fn a_signed_device_connects_with_v3_and_v2_payloads_and_is_remembered() {
    let srv = start().await;
    let key = srv.rw_key();
    for (seed, version) in [(1u8, "v3"), (2u8, "v2")] {
        let sk = SigningKey::from_bytes(&[seed; 32]);
        let mut c = srv.raw().await;
        c.read_challenge().await;
        let mut params = openclaw_connect(&key, Some(&["operator.read", "operator.write"]));
        sign_device(&mut params, &sk, &c.nonce(), now_ms(), version);
        let res = c.connect(params.clone()).await;
        assert_eq!(res["ok"], true, "{version}: {res}");
        let id = params["device"]["id"].as_str().unwrap().to_string();
        let devices = srv.engine.store().devices_list().unwrap();
        assert!(
            devices.iter().any(|d| d.device_id == id),
            "device {id} is remembered"
        );
    }
}

#[tokio::test]
async fn bad_devices_are_refused_with_their_detail_code() {
    let srv = start().await;
    let key = srv.rw_key();
    let sk = SigningKey::from_bytes(&[9; 32]);
    type Tamper = fn(&mut Value);
    let cases: [(&str, Tamper); 4] = [
        ("DEVICE_AUTH_NONCE_MISMATCH", |_| {}), // signed over a different nonce, below
        ("DEVICE_AUTH_SIGNATURE_INVALID", |p| {
            p["device"]["signature"] = json!("AAAA")
        }),
        ("DEVICE_AUTH_DEVICE_ID_MISMATCH", |p| {
            p["device"]["id"] = json!("00ff")
        }),
        ("DEVICE_AUTH_PUBLIC_KEY_INVALID", |p| {
            p["device"]["publicKey"] = json!("not-a-key")
        }),
    ];
    for (code, tamper) in cases {
        let mut c = srv.raw().await;
        c.read_challenge().await;
        let mut params = openclaw_connect(&key, None);
        let nonce = if code == "DEVICE_AUTH_NONCE_MISMATCH" {
            uuid::Uuid::new_v4().to_string()
        } else {
            c.nonce()
        };
        sign_device(&mut params, &sk, &nonce, now_ms(), "v3");
        tamper(&mut params);
        let res = c.connect(params).await;
        assert_eq!(res["error"]["details"]["code"], code, "{res}");
        assert_eq!(c.expect_close().await, Some(1008));
    }
    // A signature older than 10 minutes has expired.
    let mut c = srv.raw().await;
    c.read_challenge().await;
    let mut params = openclaw_connect(&key, None);
    sign_device(
        &mut params,
        &sk,
        &c.nonce(),
        now_ms() - 11 * 60 * 1000,
        "v3",
    );
    let res = c.connect(params).await;
    assert_eq!(
        res["error"]["details"]["code"], "DEVICE_AUTH_SIGNATURE_EXPIRED",
        "{res}"
    );
}

#[tokio::test]
async fn a_revoked_device_is_refused() {
    let srv = start().await;
    let key = srv.rw_key();
    let sk = SigningKey::from_bytes(&[4; 32]);
    let mut c = srv.raw().await;
    c.read_challenge().await;
    let mut params = openclaw_connect(&key, None);
    sign_device(&mut params, &sk, &c.nonce(), now_ms(), "v3");
    assert_eq!(c.connect(params.clone()).await["ok"], true);
    let id = params["device"]["id"].as_str().unwrap();
    assert!(srv.engine.store().device_revoke(id, now_ms()).unwrap());
    let mut c = srv.raw().await;
    c.read_challenge().await;
    sign_device(&mut params, &sk, &c.nonce(), now_ms(), "v3");
    let res = c.connect(params).await;
    assert_eq!(res["error"]["details"]["code"], "DEVICE_REVOKED", "{res}");
    assert!(matches!(c.next_frame().await, Frame::Close(Some(1008))));
}

const PASSWORD: &str = "correct horse battery staple 42";

async fn set_password(srv: &common::TestServer) {
    let token = srv
        .engine
        .setup_token()
        .expect("a fresh data dir has a setup token");
    let change = microclaw_engine::ops::auth::PasswordChange {
        setup_token: Some(&token),
        current_password: None,
        new_password: PASSWORD,
    };
    microclaw_engine::ops::auth::set_password(&srv.engine, None, "127.0.0.1", change)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_operator_password_is_accepted_and_a_wrong_one_refused() {
    let srv = start().await;
    set_password(&srv).await;
    let mut c = srv.raw().await;
    c.read_challenge().await;
    let res = c
        .connect(json!({"minProtocol": 3, "maxProtocol": 4, "auth": {"password": PASSWORD}}))
        .await;
    assert_eq!(res["payload"]["auth"]["method"], "password", "{res}");

    let mut c = srv.raw().await;
    c.read_challenge().await;
    let res = c
        .connect(json!({"minProtocol": 3, "maxProtocol": 3, "auth": {"password": "wrong"}}))
        .await;
    assert_eq!(res["error"]["code"], "UNAUTHORIZED", "{res}");
    assert_eq!(c.expect_close().await, Some(1008));
}

#[tokio::test]
async fn a_logged_in_browser_connects_with_its_cookie_and_logout_closes_it() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let srv = start().await;
    set_password(&srv).await;
    let login =
        microclaw_engine::ops::auth::login(&srv.engine, "127.0.0.1", PASSWORD, Some("test"), None)
            .await
            .unwrap();
    let mut req = format!("ws://{}/", srv.addr).into_client_request().unwrap();
    req.headers_mut().insert(
        "Cookie",
        format!("mc_session={}", login.session_id).parse().unwrap(),
    );
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut c = common::Client::from_ws(ws);
    c.read_challenge().await;
    let res = c.connect(json!({"minProtocol": 3, "maxProtocol": 4, "client": {"id": "webchat", "mode": "webchat"}})).await;
    assert_eq!(res["ok"], true, "the cookie is the credential: {res}");
    assert!(
        microclaw_engine::ops::auth::logout(&srv.engine, &login.session_id)
            .await
            .unwrap()
    );
    assert_eq!(
        c.expect_close().await,
        Some(1008),
        "a revoked login session closes its sockets"
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_hit_the_login_throttle() {
    let srv = start_with(|c| c.auth.login_max_attempts = 2).await;
    set_password(&srv).await;
    let mut last = Value::Null;
    for _ in 0..4 {
        let mut c = srv.raw().await;
        c.read_challenge().await;
        last = c
            .connect(json!({"minProtocol": 4, "maxProtocol": 4, "auth": {"password": "nope"}}))
            .await;
        if last["error"]["details"]["code"] == "AUTH_RATE_LIMITED" {
            break;
        }
        assert_eq!(
            last["error"]["details"]["code"], "AUTH_TOKEN_MISMATCH",
            "{last}"
        );
    }
    assert_eq!(
        last["error"]["details"]["code"], "AUTH_RATE_LIMITED",
        "{last}"
    );
    assert_eq!(last["error"]["retryable"], true);
    assert!(last["error"]["retryAfterMs"].as_u64().unwrap() > 0);
}
