//! Access checks that hold from every path (engine-core issue, item 4), through a real
//! gateway on 127.0.0.1:0 and real WebSocket/HTTP clients: open sockets stop working after key
//! expiry (ManualClock) and a password change (password and cookie principals); the per-key
//! limit per bridge request; right-most untrusted X-Forwarded-For; a password change needs
//! the current one; rotation keeps the expiry period; the scope rule on both transports.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;
mod http_common;

use common::{openclaw_connect, Client};
use futures_util::{SinkExt, StreamExt};
use http_common::{start_full, start_with, Api, Cred};
use microclaw_core::{ManualClock, SharedClock};
use microclaw_engine::ops::auth as ops;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "correct horse battery staple 42";
const DAY_MS: i64 = 86_400_000;

async fn socket(api: &Api, cookie: Option<&str>) -> Client {
    let mut req = format!("ws://{}/", api.addr).into_client_request().unwrap();
    if let Some(session) = cookie {
        req.headers_mut()
            .insert("Cookie", format!("mc_session={session}").parse().unwrap());
    }
    let (ws, _) = tokio::time::timeout(common::WAIT, tokio_tungstenite::connect_async(req))
        .await
        .unwrap()
        .unwrap();
    let mut c = Client::from_ws(ws);
    c.read_challenge().await;
    c
}

async fn connected(api: &Api, params: Value, cookie: Option<&str>) -> Client {
    let mut c = socket(api, cookie).await;
    let res = c.connect(params).await;
    assert_eq!(res["ok"], true, "connect: {res}");
    c
}

/// Sends a request every 100 ms until the socket is closed or a request is refused as
/// UNAUTHORIZED; returns which (or panics after 10 s while requests still succeed).
async fn stops_working(c: &mut Client) -> String {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(10) {
        n += 1;
        let id = format!("probe{n}");
        let req = json!({"type": "req", "id": id, "method": "sessions.list", "params": {}});
        if c.ws.send(Message::text(req.to_string())).await.is_err() {
            return "closed (send failed)".into();
        }
        let until = tokio::time::Instant::now() + Duration::from_millis(100);
        loop {
            match tokio::time::timeout_at(until, c.ws.next()).await {
                Err(_) => break, // no answer yet: probe again
                Ok(None) | Ok(Some(Err(_))) => return "closed (no close frame)".into(),
                Ok(Some(Ok(Message::Close(f)))) => {
                    let code = f.map(|f| u16::from(f.code));
                    assert_eq!(code, Some(1008), "a revoked credential closes with 1008");
                    return "closed 1008".into();
                }
                Ok(Some(Ok(Message::Text(t)))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    if v["type"] == "res" && v["ok"] == false {
                        let code = v["error"]["code"].as_str().unwrap_or("").to_string();
                        assert_eq!(code, "UNAUTHORIZED", "refused for the credential: {v}");
                        return "refused".into();
                    }
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }
    panic!("the socket still works 10 s after its credential went away");
}

/// Still answering: one successful `sessions.list`.
async fn works(c: &mut Client) {
    let res = c.call_frame("sessions.list", json!({})).await;
    assert_eq!(res["ok"], true, "{res}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_socket_and_http_stop_when_the_key_expires() {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let api = start_full(|_| {}, Some(clock.clone() as SharedClock)).await;
    let scopes = vec!["operator.read".to_string(), "operator.write".to_string()];
    let k = ops::key_create_blocking(&api.engine, "t", "expiring", &scopes, Some(1)).unwrap();
    let mut c = connected(&api, openclaw_connect(&k.api_key, None), None).await;
    works(&mut c).await;
    let bearer = Cred::bearer(&k.api_key);
    assert_eq!(api.get("/api/sessions", &bearer).await.status, 200);

    clock.advance_ms(DAY_MS + 1);
    let how = stops_working(&mut c).await;
    eprintln!("after expiry the socket was {how}");
    api.get("/api/sessions", &bearer).await.assert_error(
        401,
        "UNAUTHORIZED",
        "an expired key is refused over HTTP",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_stops_password_and_other_cookie_sockets() {
    let api = start_with(|c| c.auth.login_max_attempts = 100).await;
    api.set_password(PASSWORD);
    let pw_params = json!({"minProtocol": 3, "maxProtocol": 4, "auth": {"password": PASSWORD}});
    let mut by_password = connected(&api, pw_params, None).await;
    let (other, _) = api.login(PASSWORD).await;
    let Cred::Cookie { session, .. } = &other else {
        panic!("login gives a cookie")
    };
    let webchat =
        json!({"minProtocol": 3, "maxProtocol": 4, "client": {"id": "webchat", "mode": "webchat"}});
    let mut by_cookie = connected(&api, webchat, Some(session)).await;
    works(&mut by_password).await;
    works(&mut by_cookie).await;

    let (mine, _) = api.login(PASSWORD).await;
    let new_pw = "another long passphrase 43";
    let r = api
        .post(
            "/api/auth/password",
            &mine,
            json!({"password": new_pw, "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    eprintln!("password socket: {}", stops_working(&mut by_password).await);
    eprintln!("cookie socket: {}", stops_working(&mut by_cookie).await);
    api.get("/api/sessions", &other).await.assert_error(
        401,
        "UNAUTHORIZED",
        "the other cookie session died",
    );
    assert_eq!(
        api.get("/api/sessions", &mine).await.status,
        200,
        "the caller's session (which proved the current password) stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_needs_the_current_one() {
    let api = start_with(|c| c.auth.login_max_attempts = 100).await;
    api.set_password(PASSWORD);
    let admin = Cred::bearer(&api.admin_key());
    let new_pw = "a different passphrase 44";
    let missing = api
        .post("/api/auth/password", &admin, json!({"password": new_pw}))
        .await;
    missing.assert_error(400, "INVALID_REQUEST", "no current_password");
    assert!(
        missing.message().contains("current_password"),
        "{}",
        missing.text
    );
    let wrong = api
        .post(
            "/api/auth/password",
            &admin,
            json!({"password": new_pw, "current_password": "not the password"}),
        )
        .await;
    wrong.assert_error(401, "UNAUTHORIZED", "a wrong current_password");
    api.login(PASSWORD).await; // unchanged
    let ok = api
        .post(
            "/api/auth/password",
            &admin,
            json!({"password": new_pw, "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    api.login(new_pw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_key_limit_applies_to_each_bridge_request() {
    let api = start_with(|c| c.auth.api_key_rate_limit_per_minute = 10).await;
    let key = api.key(&["operator.read"]);
    // The connect itself is one request of the ten.
    let mut c = connected(&api, openclaw_connect(&key, None), None).await;
    for i in 0..9 {
        let res = c.call_frame("sessions.list", json!({})).await;
        assert_eq!(res["ok"], true, "request {i} is within 10/min: {res}");
    }
    let res = c.call_frame("sessions.list", json!({})).await;
    assert_eq!(res["ok"], false, "the 11th request in a minute: {res}");
    assert_eq!(res["error"]["code"], "RATE_LIMITED", "{res}");
    assert!(
        res["error"]["retryAfterMs"]
            .as_u64()
            .is_some_and(|ms| ms > 0 && ms <= 6000),
        "with the wait: {res}"
    );
    // The socket stays open; HTTP shares the key's budget.
    let r = api.get("/api/sessions", &Cred::bearer(&key)).await;
    r.assert_error(
        429,
        "RATE_LIMITED",
        "HTTP and bridge share the key's budget",
    );

    let off = start_with(|c| c.auth.api_key_rate_limit_per_minute = 0).await;
    let key = off.key(&["operator.read"]);
    let mut c = connected(&off, openclaw_connect(&key, None), None).await;
    for _ in 0..30 {
        works(&mut c).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_throttle_keys_on_the_right_most_untrusted_forwarded_hop() {
    let api = start_with(|c| {
        c.auth.login_max_attempts = 2;
        c.server.trust_x_forwarded_for = true;
        c.server.trusted_proxies = vec!["127.0.0.1".into(), "10.0.0.0/8".into()];
    })
    .await;
    api.set_password(PASSWORD);
    let attempt = |xff: &'static str| {
        let b = api
            .request(Method::POST, "/api/auth/login", &Cred::None)
            .header("x-forwarded-for", xff)
            .json(&json!({"password": "wrong password!"}));
        http_common::read(b)
    };
    // The client spoofs a new left-most address each time; the proxy chain appends the truth.
    attempt("1.1.1.1, 203.0.113.5, 10.0.0.7").await;
    attempt("2.2.2.2, 203.0.113.5, 10.0.0.7").await;
    let third = attempt("3.3.3.3, 203.0.113.5, 10.0.0.7").await;
    third.assert_error(
        429,
        "RATE_LIMITED",
        "the spoofed left-most hop changes nothing",
    );
    let other = attempt("3.3.3.3, 203.0.113.6").await;
    assert_eq!(other.status, 401, "another real client has its own bucket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_a_key_keeps_its_expiry_period_or_sets_the_given_one() {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let api = start_full(|_| {}, Some(clock.clone() as SharedClock)).await;
    let admin = Cred::bearer(&api.admin_key());
    let k = api
        .post(
            "/api/auth/api_keys",
            &admin,
            json!({"label": "ci", "scopes": ["operator.read"], "expires_days": 30}),
        )
        .await;
    let id = k.json["id"].as_i64().unwrap();
    clock.advance_ms(10 * DAY_MS);
    let now = 1_800_000_000_000 + 10 * DAY_MS;
    let rot = api
        .post(
            &format!("/api/auth/api_keys/{id}/rotate"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(rot.status, 200, "{}", rot.text);
    assert_eq!(
        rot.json["expires_at"].as_i64(),
        Some(now + 30 * DAY_MS),
        "the old 30-day period, counted from now"
    );
    let id2 = rot.json["id"].as_i64().unwrap();
    let rot2 = api
        .post(
            &format!("/api/auth/api_keys/{id2}/rotate"),
            &admin,
            json!({"expires_days": 7}),
        )
        .await;
    assert_eq!(
        rot2.json["expires_at"].as_i64(),
        Some(now + 7 * DAY_MS),
        "{}",
        rot2.text
    );
    let old = Cred::bearer(k.json["api_key"].as_str().unwrap());
    api.get("/api/sessions", &old).await.assert_error(
        401,
        "UNAUTHORIZED",
        "the rotated-away key is dead",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_implies_read_and_only_approvals_deletes_on_both_transports() {
    let api = start_with(|_| {}).await;
    let rw = api.key(&["operator.read", "operator.write"]);
    // The real `openclaw gateway call chat.send` asks only for operator.write.
    let mut c = connected(&api, openclaw_connect(&rw, Some(&["operator.write"])), None).await;
    works(&mut c).await;
    let sent = c
        .call_frame(
            "chat.send",
            json!({"sessionKey": "main", "message": "/echo hi", "idempotencyKey": "k1"}),
        )
        .await;
    assert_eq!(sent["ok"], true, "write-only request may write: {sent}");
    let del = c.call_err("sessions.delete", json!({"key": "main"})).await;
    assert_eq!(
        del["details"]["missingScope"], "operator.approvals",
        "delete needs approvals on the bridge: {del}"
    );
    let w = Cred::bearer(&api.key(&["operator.write"]));
    assert_eq!(
        api.get("/api/sessions", &w).await.status,
        200,
        "HTTP: write reads"
    );
    api.post("/api/delete_session", &w, json!({"session_key": "main"}))
        .await
        .assert_error(403, "FORBIDDEN", "HTTP delete needs approvals");

    let appr = api.key(&["operator.approvals"]);
    let mut c = socket(&api, None).await;
    let res = c.connect(openclaw_connect(&appr, None)).await;
    assert_eq!(
        res["error"]["details"]["missingScope"], "operator.read",
        "{res}"
    );
    let mut c = connected(
        &api,
        openclaw_connect(&api.key(&["operator.read", "operator.approvals"]), None),
        None,
    )
    .await;
    let ok = c
        .call_frame("sessions.delete", json!({"key": "main"}))
        .await;
    assert_ne!(
        ok["error"]["details"]["code"], "MISSING_SCOPE",
        "read+approvals may delete: {ok}"
    );
}
