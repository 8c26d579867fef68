//! The writers of the crash cycles: each drives chat.send / sessions.setLabel / sessions.fork
//! over its own bridge connection and creates API keys over HTTP, recording every write that
//! got an `ok` response, until the server dies under it.

use crate::bridge::{chat_state, Conn};
use crate::env::Env;
use crate::http::Http;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;

/// A label session's history: the last acknowledged value, and the value sent after it whose
/// response never came (it may or may not have been committed when the process died).
#[derive(Debug, Clone, Default)]
pub struct LabelTrack {
    pub session: String,
    pub acked: Option<String>,
    pub pending: Option<String>,
}

/// Everything acknowledged by the server during the crash cycles.
#[derive(Debug, Default)]
pub struct Acks {
    /// (session, user message text) of every acknowledged chat.send.
    pub chats: Vec<(String, String)>,
    pub labels: Vec<LabelTrack>,
    /// (target session, fork_point) of every acknowledged fork.
    pub forks: Vec<(String, i64)>,
    /// Raw keys of every acknowledged key creation.
    pub keys: Vec<String>,
    /// When each of our runs' `final` event arrived.
    pub finals: Vec<Instant>,
}

impl Acks {
    pub fn merge(&mut self, other: Acks) {
        self.chats.extend(other.chats);
        self.labels.extend(other.labels);
        self.forks.extend(other.forks);
        self.keys.extend(other.keys);
        self.finals.extend(other.finals);
    }

    pub fn total(&self) -> usize {
        self.chats.len()
            + self.labels.iter().filter(|l| l.acked.is_some()).count()
            + self.forks.len()
            + self.keys.len()
    }
}

pub struct Writer {
    pub env: Env,
    pub addr: SocketAddr,
    pub token: String,
    pub cycle: usize,
    pub index: usize,
}

/// Writes until an error (the kill) or `limit`; returns what was acknowledged.
pub async fn write_until_dead(w: Writer, limit: Duration) -> Acks {
    let mut acks = Acks::default();
    let deadline = Instant::now() + limit;
    let proto = if w.index % 2 == 0 { 3 } else { 4 };
    let Ok(mut conn) = Conn::connect(w.addr, &w.token, proto).await else {
        return acks;
    };
    let Ok(http) = Http::new(&format!("http://{}", w.addr)) else {
        return acks;
    };
    let chat_session = format!("crash-c{}-w{}", w.cycle, w.index);
    let mut label = LabelTrack {
        session: format!("label-c{}-w{}", w.cycle, w.index),
        ..Default::default()
    };
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let ok = match n % 5 {
            1 | 3 => chat(&mut conn, &chat_session, &w, n, &mut acks).await,
            2 => set_label(&mut conn, &mut label, n).await,
            4 => fork(&mut conn, &chat_session, &w, n, &mut acks).await,
            _ => create_key(&http, &w, n, &mut acks).await,
        };
        if !ok {
            break;
        }
    }
    acks.labels.push(label);
    acks
}

async fn chat(conn: &mut Conn, session: &str, w: &Writer, n: u64, acks: &mut Acks) -> bool {
    let text = format!(
        "/echo crash c{} w{} n{} {}",
        w.cycle,
        w.index,
        n,
        uuid::Uuid::new_v4().simple()
    );
    let params = json!({"sessionKey": session, "message": text, "idempotencyKey": uuid::Uuid::new_v4().to_string()});
    let Ok(res) = conn
        .request("chat.send", params, Duration::from_secs(10))
        .await
    else {
        return false;
    };
    if res["ok"] != true {
        // Refused (e.g. RATE_LIMITED): not acknowledged, nothing to verify; keep writing.
        return true;
    }
    acks.chats.push((session.to_string(), text));
    let Some(run_id) = res["payload"]["runId"].as_str().map(str::to_string) else {
        return true;
    };
    let pred = |ev: &serde_json::Value| matches!(chat_state(ev), Some((r, s)) if r == run_id && s != "delta");
    match conn.wait_event(pred, Duration::from_secs(5)).await {
        Ok(ev) => {
            if ev["payload"]["state"] == "final" {
                acks.finals.push(Instant::now());
            }
            true
        }
        Err(_) => false,
    }
}

async fn set_label(conn: &mut Conn, label: &mut LabelTrack, n: u64) -> bool {
    let value = format!("label n{n} {}", uuid::Uuid::new_v4().simple());
    label.pending = Some(value.clone());
    let params = json!({"sessionKey": label.session, "label": value});
    match conn
        .request("sessions.setLabel", params, Duration::from_secs(10))
        .await
    {
        Ok(res) if res["ok"] == true => {
            label.acked = Some(value);
            label.pending = None;
            true
        }
        Ok(_) => {
            label.pending = None;
            true
        }
        Err(_) => false,
    }
}

async fn fork(conn: &mut Conn, session: &str, w: &Writer, n: u64, acks: &mut Acks) -> bool {
    let target = format!("fork-c{}-w{}-n{}", w.cycle, w.index, n);
    let params = json!({"sessionKey": session, "targetKey": target});
    match conn
        .request("sessions.fork", params, Duration::from_secs(10))
        .await
    {
        Ok(res) if res["ok"] == true => {
            let point = res["payload"]["fork_point"].as_i64().unwrap_or(-1);
            acks.forks.push((target, point));
            true
        }
        Ok(_) => true,
        Err(_) => false,
    }
}

async fn create_key(http: &Http, w: &Writer, n: u64, acks: &mut Acks) -> bool {
    let body = json!({"label": format!("crash c{} w{} n{}", w.cycle, w.index, n), "scopes": ["operator.read"]});
    match http
        .post_json("/api/auth/api_keys", Some(&w.token), &body)
        .await
    {
        Ok(r) if r.status == 200 => {
            if let Some(k) = r.json["api_key"].as_str() {
                w.env.secret(k);
                acks.keys.push(k.to_string());
            }
            true
        }
        Ok(_) => true,
        Err(_) => false,
    }
}
