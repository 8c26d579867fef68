//! One bridge request whose whole response is wanted (the payload, not only `ok`), and one
//! authenticated HTTP GET whose body size is wanted.

use crate::client::{self, Ws};
use crate::frames;
use anyhow::{anyhow, Context, Result};
use futures_util::SinkExt;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Sends one request and waits for the response with the same id (events are skipped).
/// Outer error: the connection failed or timed out; inner error: the server answered
/// `ok:false` (`CODE: message`).
pub async fn call(
    ws: &mut Ws,
    id: &str,
    method: &str,
    params: Option<&Value>,
    timeout: Duration,
) -> Result<std::result::Result<Value, String>> {
    tokio::time::timeout(timeout, call_inner(ws, id, method, params))
        .await
        .map_err(|_| anyhow!("{method} got no response within {timeout:?}"))?
}

async fn call_inner(
    ws: &mut Ws,
    id: &str,
    method: &str,
    params: Option<&Value>,
) -> Result<std::result::Result<Value, String>> {
    ws.send(Message::text(frames::request(id, method, params)))
        .await
        .with_context(|| format!("sending {method}"))?;
    loop {
        let text = client::next_text(ws).await?;
        let v: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => continue,
        };
        if v["type"] != "res" || v["id"].as_str() != Some(id) {
            continue;
        }
        if v["ok"] == true {
            return Ok(Ok(v["payload"].clone()));
        }
        let e = &v["error"];
        return Ok(Err(format!(
            "{}: {}",
            e["code"].as_str().unwrap_or("?"),
            e["message"].as_str().unwrap_or("no message")
        )));
    }
}

/// What one GET returned.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub took: Duration,
    pub status: u16,
    pub body: Vec<u8>,
}

/// `GET url` with `Authorization: Bearer token`, the whole body read, bounded by `timeout`.
pub async fn get(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    timeout: Duration,
) -> Result<Fetched> {
    let started = Instant::now();
    let resp = http
        .get(url)
        .bearer_auth(token)
        .timeout(timeout)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .with_context(|| format!("reading the body of GET {url}"))?
        .to_vec();
    Ok(Fetched {
        took: started.elapsed(),
        status,
        body,
    })
}
