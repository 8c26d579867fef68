//! Mission Control pointed at the console (issue 20): the upgrade's origin policy (loopback
//! and private-network pages accepted, others refused with a reason the browser can read),
//! the cookie honoured only from our own or an allowed origin, the `/gateway-ws` and `/gw`
//! aliases, and a Mission Control-style connect whose ticks carry `snapshot.sessions`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{now_ms, openclaw_connect, sign_device, start, start_with, Client, TestServer, WAIT};
use ed25519_dalek::SigningKey;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "correct horse battery staple";
const MC_ORIGIN: &str = "http://127.0.0.1:3300";

/// A WebSocket to `path` with extra request headers (Origin, Cookie).
async fn ws_with(srv: &TestServer, path: &str, headers: &[(&'static str, String)]) -> Client {
    let mut req = format!("ws://{}{path}", srv.addr)
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        req.headers_mut().insert(*name, value.parse().unwrap());
    }
    let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(req))
        .await
        .unwrap()
        .unwrap();
    Client::from_ws(ws)
}

fn origin(o: &str) -> Vec<(&'static str, String)> {
    vec![("Origin", o.to_string())]
}

/// Mission Control's browser connect: control-UI client, "Mission Control", a v2-signed device.
fn mission_control_connect(token: &str, nonce: &str) -> Value {
    let mut p = json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "openclaw-control-ui", "displayName": "Mission Control",
                   "mode": "webchat", "version": "2.3.0", "platform": "web"},
        "role": "operator",
        "scopes": ["operator.read", "operator.write", "operator.admin"],
        "caps": [], "userAgent": "Mozilla/5.0 Mission Control",
        "auth": {"token": token},
    });
    let sk = SigningKey::from_bytes(&[7u8; 32]);
    sign_device(&mut p, &sk, nonce, now_ms(), "v2");
    p
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

async fn set_password_and_login(srv: &TestServer) -> String {
    let token = srv.engine.setup_token().unwrap();
    let change = microclaw_engine::ops::auth::PasswordChange {
        setup_token: Some(&token),
        current_password: None,
        new_password: PASSWORD,
    };
    microclaw_engine::ops::auth::set_password(&srv.engine, None, "127.0.0.1", change)
        .await
        .unwrap();
    microclaw_engine::ops::auth::login(&srv.engine, "127.0.0.1", PASSWORD, Some("test"), None)
        .await
        .unwrap()
        .session_id
}

/// The close frame the server sends first: (code, reason).
async fn first_close(c: &mut Client) -> (u16, String) {
    loop {
        let msg = tokio::time::timeout(WAIT, c.ws.next())
            .await
            .expect("timed out waiting for the close")
            .expect("the socket ended without a close frame")
            .unwrap();
        match msg {
            Message::Close(Some(f)) => return (u16::from(f.code), f.reason.to_string()),
            Message::Close(None) => panic!("close without a code"),
            Message::Text(t) => panic!("a refused upgrade sends nothing but the close: {t}"),
            _ => continue,
        }
    }
}

#[tokio::test]
async fn a_loopback_page_with_a_token_connects_as_mission_control_and_its_ticks_carry_sessions() {
    let srv = start_with(|c| c.server.tick_interval_ms = 50).await;
    // The engine's loops count finished runs' tokens (as `microclaw start` runs them).
    srv.engine.start_background();
    let key = srv.key(&["operator.admin"]);
    // A session with a finished run, made by an ordinary client.
    let (mut cli, _) = srv.client_v4(&key).await;
    let sent = cli
        .call(
            "sessions.send",
            json!({"sessionKey": "ops", "message": "status summary"}),
        )
        .await;
    let run_id = sent["runId"].as_str().unwrap().to_string();
    let events = cli.run_events(&run_id).await;
    assert_eq!(events.last().unwrap()["payload"]["state"], "final");

    let mut mc = ws_with(&srv, "/", &origin(MC_ORIGIN)).await;
    mc.read_challenge().await;
    let nonce = mc.nonce();
    let res = mc.connect(mission_control_connect(&key, &nonce)).await;
    assert_eq!(
        res["ok"], true,
        "a loopback page with a token connects: {res}"
    );
    assert_eq!(res["payload"]["protocol"], 4);
    assert_eq!(res["payload"]["auth"]["method"], "token");

    let first = mc.next_event("tick").await;
    assert_eq!(first["seq"], 1, "the tick comes first after hello-ok");
    let sessions = first["payload"]["snapshot"]["sessions"].as_array().unwrap();
    let row = sessions
        .iter()
        .find(|r| r["key"] == "ops")
        .unwrap_or_else(|| panic!("ops in the snapshot: {first}"));
    assert_eq!(
        keys(row),
        [
            "key",
            "kind",
            "updatedAt",
            "model",
            "totalTokens",
            "contextTokens",
            "messageCount",
            "cost"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<BTreeSet<_>>()
    );
    assert_eq!(row["kind"], "direct");
    assert_eq!(
        row["model"], "builtin-operator",
        "the built-in agent's model"
    );
    assert_eq!(row["messageCount"], 2, "the message and the reply");
    assert!(row["updatedAt"].as_i64().unwrap() > 0);
    assert!(row["cost"].is_number());

    // Periodic ticks carry the snapshot too (each followed by health); the finished run's
    // tokens show once the engine has counted them (bounded: at most 200 ticks of 50 ms).
    let mut counted = None;
    for _ in 0..200 {
        let tick = mc.next_event("tick").await;
        let rows = tick["payload"]["snapshot"]["sessions"].as_array().unwrap();
        let row = rows.iter().find(|r| r["key"] == "ops").unwrap().clone();
        if row["totalTokens"].as_u64().unwrap() > 0 {
            counted = Some(row);
            break;
        }
    }
    let row = counted.expect("the run's tokens reach the tick");
    let (total, context) = (
        row["totalTokens"].as_u64().unwrap(),
        row["contextTokens"].as_u64().unwrap(),
    );
    assert!(context > 0 && context <= total, "{row}");
    mc.next_event("health").await;
    // ping answers as OpenClaw's does.
    let pong = mc.call("ping", json!({})).await;
    assert!(pong["ts"].is_i64(), "{pong}");

    // A strict OpenClaw client on the same gateway keeps the closed `{ts}`.
    let mut strict = ws_with(&srv, "/", &origin(MC_ORIGIN)).await;
    strict.read_challenge().await;
    assert_eq!(
        strict.connect(openclaw_connect(&key, None)).await["ok"],
        true
    );
    for _ in 0..2 {
        let tick = strict.next_event("tick").await;
        assert_eq!(keys(&tick["payload"]), BTreeSet::from(["ts".to_string()]));
    }
}

#[tokio::test]
async fn a_private_network_page_is_accepted_and_must_bring_credentials() {
    let srv = start().await;
    let key = srv.rw_key();
    let mut c = ws_with(&srv, "/", &origin("http://192.168.1.20:3000")).await;
    c.read_challenge().await;
    assert_eq!(c.connect(openclaw_connect(&key, None)).await["ok"], true);

    let mut c = ws_with(&srv, "/", &origin("http://[::1]:3300")).await;
    c.read_challenge().await;
    let res = c.connect(json!({"minProtocol": 3, "maxProtocol": 4})).await;
    assert_eq!(
        res["error"]["details"]["code"], "AUTH_TOKEN_MISSING",
        "{res}"
    );
    assert_eq!(c.expect_close().await, Some(1008));
}

#[tokio::test]
async fn the_login_cookie_counts_only_from_our_own_or_an_allowed_origin() {
    let srv = start_with(|c| c.server.allowed_origins = vec!["http://localhost:4400".into()]).await;
    let session = set_password_and_login(&srv).await;
    let cookie = ("Cookie", format!("mc_session={session}"));
    let bare = json!({"minProtocol": 3, "maxProtocol": 4,
                      "client": {"id": "webchat", "mode": "webchat"}});

    // Mission Control's page on another loopback port: the cookie is not a credential there.
    let mut c = ws_with(&srv, "/", &[("Origin", MC_ORIGIN.into()), cookie.clone()]).await;
    c.read_challenge().await;
    let res = c.connect(bare.clone()).await;
    assert_eq!(res["ok"], false, "cookie riding from a foreign page: {res}");
    assert_eq!(res["error"]["details"]["code"], "AUTH_TOKEN_MISSING");
    let msg = res["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("server.allowed_origins") && msg.contains(MC_ORIGIN),
        "the refusal says why and how: {msg}"
    );
    assert_eq!(c.expect_close().await, Some(1008));

    // Our own origin, and a configured one, may use it.
    let own = format!("http://{}", srv.addr);
    for o in [own.as_str(), "http://localhost:4400"] {
        let mut c = ws_with(&srv, "/", &[("Origin", o.into()), cookie.clone()]).await;
        c.read_challenge().await;
        let res = c.connect(bare.clone()).await;
        assert_eq!(res["ok"], true, "the cookie counts from {o}: {res}");
    }
}

#[tokio::test]
async fn a_public_origin_is_refused_with_a_reason_the_browser_can_read() {
    let srv = start().await;
    let mut c = ws_with(&srv, "/", &origin("http://evil.example")).await;
    let (code, reason) = first_close(&mut c).await;
    assert_eq!(code, 1008);
    assert!(
        reason.contains("http://evil.example") && reason.contains("server.allowed_origins"),
        "{reason}"
    );

    // A broken upgrade from that origin gets an HTTP error whose body says the same.
    let r = reqwest::Client::new()
        .get(format!("http://{}/gw", srv.addr))
        .header("Origin", "http://evil.example")
        .header("Upgrade", "websocket")
        .header("Connection", "upgrade")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "FORBIDDEN");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("add it to server.allowed_origins"),
        "{body}"
    );

    // A page that rebinds its own name to our address is refused on its Host.
    let rebound = format!("evil.example:{}", srv.addr.port());
    let mut c = ws_with(
        &srv,
        "/",
        &[
            ("Origin", format!("http://{rebound}")),
            ("Host", rebound.clone()),
        ],
    )
    .await;
    let (code, _) = first_close(&mut c).await;
    assert_eq!(code, 1008, "DNS rebinding stays refused");
}

#[tokio::test]
async fn an_allowed_public_origin_connects_with_its_token() {
    let srv =
        start_with(|c| c.server.allowed_origins = vec!["https://mc.example.com/".into()]).await;
    let key = srv.rw_key();
    let mut c = ws_with(&srv, "/", &origin("https://mc.example.com")).await;
    c.read_challenge().await;
    assert_eq!(c.connect(openclaw_connect(&key, None)).await["ok"], true);
}

#[tokio::test]
async fn the_bridge_answers_at_gateway_ws_and_gw_too() {
    let srv = start().await;
    let key = srv.rw_key();
    for path in ["/gateway-ws", "/gw"] {
        let mut c = ws_with(&srv, path, &origin(MC_ORIGIN)).await;
        c.read_challenge().await;
        let nonce = c.nonce();
        let res = c.connect(mission_control_connect(&key, &nonce)).await;
        assert_eq!(res["ok"], true, "{path}: {res}");
        let health = c.call("health", json!({})).await;
        assert_eq!(health["ok"], true, "{path}");

        // Without an upgrade the alias says what it is instead of serving the UI page.
        let r = reqwest::get(format!("http://{}{path}", srv.addr))
            .await
            .unwrap();
        assert_eq!(r.status(), 426, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("WebSocket"),
            "{body}"
        );
    }
    let r = reqwest::get(format!("http://{}/", srv.addr)).await.unwrap();
    assert_eq!(r.status(), 200, "GET / still serves the UI");
}
