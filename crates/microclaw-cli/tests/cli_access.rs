//! The offline CLI changing credentials under a running `microclaw start` (a separate
//! process on the same data dir): an open bridge socket stops working after
//! `auth keys revoke`; `auth password set` ends the setup token, password sockets and cookie
//! sessions. The server notices through the database (engine-core issue, item 4).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod cli_support;

use cli_support::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const PASSWORD: &str = "correct horse battery staple 42";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame within WAIT");
        match frame {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).unwrap(),
            Some(Ok(Message::Close(f))) => panic!("closed while waiting: {f:?}"),
            Some(Ok(_)) => continue,
            other => panic!("socket ended: {other:?}"),
        }
    }
}

async fn response(ws: &mut Ws, id: &str) -> Value {
    loop {
        let v = next_json(ws).await;
        if v["type"] == "res" && v["id"] == id {
            return v;
        }
    }
}

/// A connected protocol-3 socket with these `auth` params.
async fn connect(server: &Server, auth: Value) -> Ws {
    let url = format!("ws://127.0.0.1:{}/", server.port);
    let (mut ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next_json(&mut ws).await["event"], "connect.challenge");
    let req = json!({"type":"req","id":"c","method":"connect",
                     "params":{"minProtocol":3,"maxProtocol":3,"auth":auth}});
    ws.send(Message::text(req.to_string())).await.unwrap();
    let res = response(&mut ws, "c").await;
    assert_eq!(res["ok"], true, "connect: {res}");
    ws
}

async fn works(ws: &mut Ws) {
    let req = json!({"type":"req","id":"w","method":"sessions.list","params":{}});
    ws.send(Message::text(req.to_string())).await.unwrap();
    let res = response(ws, "w").await;
    assert_eq!(res["ok"], true, "{res}");
}

/// Probes every 100 ms until the socket closes (1008) or a request is refused UNAUTHORIZED.
async fn stops_working(ws: &mut Ws) -> Duration {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(10) {
        n += 1;
        let req = json!({"type":"req","id":format!("p{n}"),"method":"sessions.list","params":{}});
        if ws.send(Message::text(req.to_string())).await.is_err() {
            return start.elapsed();
        }
        let until = tokio::time::Instant::now() + Duration::from_millis(100);
        loop {
            match tokio::time::timeout_at(until, ws.next()).await {
                Err(_) => break,
                Ok(None) | Ok(Some(Err(_))) => return start.elapsed(),
                Ok(Some(Ok(Message::Close(f)))) => {
                    assert_eq!(f.map(|f| u16::from(f.code)), Some(1008));
                    return start.elapsed();
                }
                Ok(Some(Ok(Message::Text(t)))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    if v["type"] == "res" && v["ok"] == false {
                        assert_eq!(v["error"]["code"], "UNAUTHORIZED", "{v}");
                        return start.elapsed();
                    }
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }
    panic!("the socket still works 10 s after the CLI changed its credential");
}

fn key_id(dir: &std::path::Path, key: &str) -> String {
    let list = run_in(dir, &["auth", "keys", "list", "--json"]);
    assert_eq!(list.code, 0, "{list:?}");
    let keys: Value = serde_json::from_str(list.stdout.trim()).unwrap();
    keys.as_array()
        .unwrap()
        .iter()
        .find(|k| key.starts_with(k["prefix"].as_str().unwrap()))
        .expect("the key is listed")["id"]
        .to_string()
}

fn set_password(dir: &std::path::Path, pw: &str) {
    let mut c = microclaw();
    c.args(["auth", "password", "set", "--data-dir"]).arg(dir);
    let out = run(c, &format!("{pw}\n"));
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn an_open_socket_stops_working_when_the_offline_cli_revokes_its_key() {
    let (_tmp, dir) = data_dir();
    let key = create_key(
        dir.as_path(),
        "victim",
        &["operator.read", "operator.write"],
    );
    let other = create_key(dir.as_path(), "bystander", &["operator.read"]);
    let server = start_server(dir.as_path());
    let rt = runtime();
    let (mut ws, mut bystander) = rt.block_on(async {
        let mut ws = connect(&server, json!({"token": key})).await;
        let mut b = connect(&server, json!({"token": other})).await;
        works(&mut ws).await;
        works(&mut b).await;
        (ws, b)
    });
    let id = key_id(dir.as_path(), &key);
    let revoke = run_in(dir.as_path(), &["auth", "keys", "revoke", &id]);
    assert_eq!(revoke.code, 0, "{revoke:?}");
    let took = rt.block_on(stops_working(&mut ws));
    eprintln!(
        "the revoked key's socket stopped {} ms after the CLI exited",
        took.as_millis()
    );
    rt.block_on(works(&mut bystander));
    assert_eq!(
        http_status(&server, "/api/sessions", &key),
        401,
        "and HTTP refuses it"
    );
}

fn setup_token(server: &Server) -> String {
    let line = server.lines.recv_timeout(WAIT).unwrap();
    line.split("token=")
        .nth(1)
        .map(|t| t.trim().to_string())
        .unwrap_or_else(|| panic!("the second line carries the setup URL: {line}"))
}

#[test]
fn the_setup_token_dies_when_the_offline_cli_sets_a_password() {
    let (_tmp, dir) = data_dir();
    let server = start_server(dir.as_path());
    let token = setup_token(&server);
    set_password(dir.as_path(), PASSWORD);
    let rt = runtime();
    let (status, body) = rt.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}/api/auth/password", server.url()))
            .header("x-setup-token", &token)
            .json(&json!({"password": "an attacker's own password"}))
            .timeout(WAIT)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    assert_eq!(status, 401, "the setup token is dead: {body}");
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{}/api/auth/status", server.url()))
            .timeout(WAIT)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    assert_eq!(status["setup_required"], false, "{status}");
}

#[test]
fn a_cli_password_reset_stops_password_sockets_and_cookie_sessions() {
    let (_tmp, dir) = data_dir();
    set_password(dir.as_path(), PASSWORD);
    let server = start_server(dir.as_path());
    let rt = runtime();
    let client = reqwest::Client::new();
    let (mut ws, cookie) = rt.block_on(async {
        let mut ws = connect(&server, json!({"password": PASSWORD})).await;
        works(&mut ws).await;
        let r = client
            .post(format!("{}/api/auth/login", server.url()))
            .json(&json!({"password": PASSWORD}))
            .timeout(WAIT)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let body: Value = r.json().await.unwrap();
        (ws, body["session_id"].as_str().unwrap().to_string())
    });
    let get_sessions = |cookie: String| {
        let c = client.clone();
        let url = format!("{}/api/sessions", server.url());
        async move {
            c.get(url)
                .header("cookie", format!("mc_session={cookie}"))
                .timeout(WAIT)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(rt.block_on(get_sessions(cookie.clone())), 200);
    set_password(dir.as_path(), "a recovered passphrase 45");
    rt.block_on(stops_working(&mut ws));
    assert_eq!(
        rt.block_on(get_sessions(cookie)),
        401,
        "the cookie session died with the old password"
    );
}
