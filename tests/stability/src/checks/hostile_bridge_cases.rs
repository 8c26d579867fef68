//! The hostile bridge corpus: each case sends something malformed or abusive and checks the
//! documented answer (gateway-protocol.md §2, §5): an error response, a close code, or both.

use crate::bridge::{next_frame, upgrade, Conn, Frame, Ws};
use futures_util::SinkExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

const T: Duration = Duration::from_secs(10);

/// `[[[…]]]` nested `depth` times.
pub fn deep(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// Reads until a close (or end of stream); returns the error response seen before it and
/// the close code.
async fn until_close(ws: &mut Ws) -> Result<(Option<Value>, Option<u16>), String> {
    let mut err = None;
    for _ in 0..1000 {
        match next_frame(ws, T)
            .await
            .map_err(|e| format!("the server did not close: {e}"))?
        {
            Frame::Json(v) if v["type"] == "res" => err = Some(v),
            Frame::Closed(code) => return Ok((err, code)),
            _ => {}
        }
    }
    Err("the server kept sending without closing".into())
}

fn check_error(res: &Option<Value>, code: &str, detail: Option<&str>) -> Result<(), String> {
    let Some(r) = res else {
        return Err(format!("no error response (expected {code})"));
    };
    if r["ok"] != false || r["error"]["code"] != code {
        return Err(format!("expected error {code}, got {r}"));
    }
    if let Some(d) = detail {
        if r["error"]["details"]["code"] != d {
            return Err(format!("expected details.code {d}, got {}", r["error"]));
        }
    }
    Ok(())
}

/// Before connect: the first frame is `frame`; expect `code` (+ details) and close `close`.
pub async fn first_frame(
    addr: SocketAddr,
    frame: Message,
    code: Option<&str>,
    detail: Option<&str>,
    close: u16,
) -> Result<(), String> {
    let mut ws = upgrade(addr, None).await?;
    match next_frame(&mut ws, T).await? {
        Frame::Json(v) if v["event"] == "connect.challenge" => {}
        other => return Err(format!("expected connect.challenge, got {other:?}")),
    }
    ws.send(frame).await.map_err(|e| format!("send: {e}"))?;
    let (res, got) = until_close(&mut ws).await?;
    if let Some(code) = code {
        check_error(&res, code, detail)?;
    }
    if got != Some(close) {
        return Err(format!("closed with {got:?}, expected {close}"));
    }
    Ok(())
}

pub fn connect_params(params: Value) -> Message {
    Message::text(json!({"type":"req","id":"c","method":"connect","params": params}).to_string())
}

/// After connect: `text` gets an error response with id null and the connection stays usable.
pub async fn malformed_stays_open(conn: &mut Conn, text: String, code: &str) -> Result<(), String> {
    conn.send_text(text).await?;
    let res = conn.await_response(&Value::Null, T).await?;
    check_error(&Some(res), code, None)?;
    still_serves(conn).await
}

/// The connection still answers a request.
pub async fn still_serves(conn: &mut Conn) -> Result<(), String> {
    let r = conn
        .request("ping", json!({}), T)
        .await
        .map_err(|e| format!("connection unusable afterwards: {e}"))?;
    if r["ok"] != true {
        return Err(format!("ping failed afterwards: {r}"));
    }
    Ok(())
}

/// A request with bad params gets INVALID_REQUEST naming the method.
pub async fn bad_params(conn: &mut Conn, method: &str, params: Value) -> Result<(), String> {
    let r = conn.request(method, params.clone(), T).await?;
    let msg = r["error"]["message"].as_str().unwrap_or_default();
    if r["ok"] != false
        || r["error"]["code"] != "INVALID_REQUEST"
        || !msg.contains(&format!("invalid {method} params"))
    {
        return Err(format!(
            "{method} {params} → {r}: expected INVALID_REQUEST 'invalid {method} params: …'"
        ));
    }
    Ok(())
}

/// A frame the server must answer by closing with `close`.
pub async fn closes_with(conn: &mut Conn, msg: Message, close: u16) -> Result<(), String> {
    conn.ws.send(msg).await.map_err(|e| format!("send: {e}"))?;
    let (_, got) = until_close(&mut conn.ws).await?;
    if got != Some(close) {
        return Err(format!("closed with {got:?}, expected {close}"));
    }
    Ok(())
}

/// Writes a masked text frame whose payload is not UTF-8 straight to the socket (no client
/// library sends one); the server must drop the connection, not crash or hang.
pub async fn invalid_utf8(conn: &mut Conn) -> Result<Option<u16>, String> {
    let payload = [0xffu8, 0xfe, 0x80, 0x41, 0xc3, 0x28];
    let mask = [0x11u8, 0x22, 0x33, 0x44];
    let mut frame = vec![0x81u8, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    let tcp = conn.ws.get_mut();
    tcp.write_all(&frame)
        .await
        .map_err(|e| format!("raw write: {e}"))?;
    tcp.flush().await.map_err(|e| format!("raw flush: {e}"))?;
    // RFC 6455 wants close 1007 here; the protocol doc names no code, so any close (or a
    // dropped socket) is accepted and the code is reported.
    match until_close(&mut conn.ws).await {
        Ok((_, code)) => Ok(code),
        Err(e) => Err(format!("invalid UTF-8 text frame: {e}")),
    }
}

/// 10,000 tiny `ping` requests sent back to back; every one must be answered.
pub async fn flood(conn: &mut Conn, n: usize) -> Result<String, String> {
    let t = std::time::Instant::now();
    for i in 0..n {
        let f = json!({"type":"req","id": format!("f{i}"),"method":"ping"}).to_string();
        conn.ws
            .feed(Message::text(f))
            .await
            .map_err(|e| format!("flood send {i}: {e}"))?;
    }
    conn.ws
        .flush()
        .await
        .map_err(|e| format!("flood flush: {e}"))?;
    let sent_in = t.elapsed();
    let mut answered = 0usize;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while answered < n {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next_frame(&mut conn.ws, left).await {
            Ok(Frame::Json(v)) if v["type"] == "res" => {
                if v["ok"] != true {
                    return Err(format!("flood ping answered with an error: {v}"));
                }
                answered += 1;
            }
            Ok(Frame::Closed(c)) => {
                return Err(format!("closed ({c:?}) after {answered}/{n} flood answers"))
            }
            Ok(_) => {}
            Err(_) => {
                return Err(format!(
                    "only {answered}/{n} flood pings answered within 30 s"
                ))
            }
        }
    }
    Ok(format!(
        "{n} frames sent in {} ms, all answered in {} ms",
        sent_in.as_millis(),
        t.elapsed().as_millis()
    ))
}

pub async fn binary_stays_open(c: &mut Conn) -> Result<(), String> {
    c.ws.send(Message::binary(vec![1u8, 2, 3]))
        .await
        .map_err(|e| format!("send: {e}"))?;
    let r = c
        .await_response(&serde_json::Value::Null, Duration::from_secs(10))
        .await?;
    if r["error"]["code"] != "INVALID_REQUEST" {
        return Err(format!("expected INVALID_REQUEST, got {r}"));
    }
    still_serves(c).await
}

pub async fn unknown_method(c: &mut Conn, code: &str) -> Result<(), String> {
    let r = c
        .request("no.such.method", json!({}), Duration::from_secs(10))
        .await?;
    let msg = r["error"]["message"].as_str().unwrap_or_default();
    if r["error"]["code"] != code || !msg.contains("unknown method: no.such.method") {
        return Err(format!(
            "expected {code} 'unknown method: no.such.method', got {r}"
        ));
    }
    Ok(())
}

pub async fn second_connect(c: &mut Conn) -> Result<(), String> {
    let r = c
        .request(
            "connect",
            json!({"minProtocol":3,"maxProtocol":4}),
            Duration::from_secs(10),
        )
        .await?;
    let msg = r["error"]["message"].as_str().unwrap_or_default();
    if r["error"]["code"] != "INVALID_REQUEST" || !msg.contains("already connected") {
        return Err(format!(
            "expected INVALID_REQUEST 'already connected', got {r}"
        ));
    }
    still_serves(c).await
}

/// A 512 KiB label (under maxPayload): stored or refused with INVALID_REQUEST, never a hang.
pub async fn huge_string(c: &mut Conn) -> Result<(), String> {
    let r = c
        .request(
            "sessions.setLabel",
            json!({"sessionKey": "huge", "label": "L".repeat(512 * 1024)}),
            Duration::from_secs(15),
        )
        .await?;
    if r["ok"] != true && r["error"]["code"] != "INVALID_REQUEST" {
        return Err(format!(
            "expected ok or INVALID_REQUEST, got {}",
            r["error"]
        ));
    }
    Ok(())
}
