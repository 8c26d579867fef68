//! Conformance: limits and bad input (gateway-protocol.md §5): malformed, binary and oversized
//! frames, oversized responses, a second connect, pings, pipelining and slow readers.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{start, start_with, Frame};
use futures_util::SinkExt;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn malformed_frames_get_an_id_null_error_and_the_connection_stays_open() {
    let srv = start().await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    for (frame, needle) in [
        ("{not json".to_string(), "not valid JSON"),
        (
            json!({"type": "event", "id": "1", "method": "health"}).to_string(),
            "type 'event'",
        ),
        (
            json!({"type": "req", "method": "health"}).to_string(),
            "no \"id\"",
        ),
    ] {
        c.send_text(frame).await;
        let res = c.response_for_null().await;
        assert_eq!(
            (res["ok"].as_bool(), res["error"]["code"].as_str()),
            (Some(false), Some("INVALID_REQUEST"))
        );
        assert!(
            res["error"]["message"].as_str().unwrap().contains(needle),
            "{res}"
        );
    }
    c.ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    let res = c.response_for_null().await;
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("binary frames are not supported"),
        "{res}"
    );
    // Unknown top-level keys such as traceparent are fine.
    c.send_json(
        &json!({"type": "req", "id": "t", "method": "health", "traceparent": "00-abc-def-01"}),
    )
    .await;
    assert_eq!(
        c.response_for("t").await["ok"],
        true,
        "the connection stays open"
    );
}

#[tokio::test]
async fn more_than_twenty_malformed_frames_in_ten_seconds_close_with_1008() {
    let srv = start().await;
    let (mut c, _) = srv.client_v3(&srv.rw_key()).await;
    for _ in 0..21 {
        c.send_text("garbage").await;
    }
    let mut errors = 0;
    let code = loop {
        match c.next_frame().await {
            Frame::Json(v) if v["type"] == "res" => errors += 1,
            Frame::Close(code) => break code,
            _ => {}
        }
    };
    assert_eq!(
        (errors, code),
        (21, Some(1008)),
        "21 error responses, then close"
    );
}

#[tokio::test]
async fn an_inbound_frame_over_max_payload_closes_with_1009() {
    let srv = start_with(|c| c.server.max_payload_bytes = 4096).await;
    let (mut c, hello) = srv.client_v4(&srv.rw_key()).await;
    assert_eq!(hello["policy"]["maxPayload"], 4096);
    let big = json!({"type": "req", "id": "big", "method": "chat.send", "params": {"message": "x".repeat(5000)}});
    c.send_json(&big).await;
    assert_eq!(c.expect_close().await, Some(1009));
}

#[tokio::test]
async fn a_frame_far_over_max_payload_also_closes_with_1009() {
    // The socket layer refuses frames past twice maxPayload before the bridge sees them;
    // the client must still learn why.
    let srv = start_with(|c| c.server.max_payload_bytes = 4096).await;
    let (mut c, _) = srv.client_v3(&srv.rw_key()).await;
    c.send_text("x".repeat(40_000)).await;
    assert_eq!(c.expect_close().await, Some(1009));
}

#[tokio::test]
async fn a_response_over_max_payload_becomes_internal_error() {
    let srv = start_with(|c| c.server.max_payload_bytes = 4096).await;
    let (mut c, _) = srv.client_v3(&srv.rw_key()).await;
    // 30 sessions with 200-character labels: a list reply of ~8 KB (history messages are cut
    // to fit a frame instead, so a list is the reply that can outgrow it).
    for i in 0..30 {
        c.call(
            "sessions.patch",
            json!({"key": format!("big-{i}"), "label": "y".repeat(200)}),
        )
        .await;
    }
    let e = c.call_err("sessions.list", json!({"limit": 100})).await;
    assert_eq!(e["code"], "INTERNAL_ERROR");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("response too large"),
        "{e}"
    );
    assert_eq!(
        c.call("health", json!({})).await["ok"],
        true,
        "the connection stays usable"
    );
}

#[tokio::test]
async fn a_second_connect_is_refused_but_the_connection_stays_open() {
    let srv = start().await;
    let key = srv.rw_key();
    for v4 in [false, true] {
        let (mut c, _) = if v4 {
            srv.client_v4(&key).await
        } else {
            srv.client_v3(&key).await
        };
        let e = c
            .call_err(
                "connect",
                json!({"minProtocol": 3, "maxProtocol": 4, "auth": {"token": key}}),
            )
            .await;
        assert_eq!(
            (e["code"].as_str(), e["message"].as_str()),
            (Some("INVALID_REQUEST"), Some("already connected"))
        );
        assert!(
            c.call("ping", json!({})).await["ts"].is_i64(),
            "the connection stays open"
        );
    }
}

#[tokio::test]
async fn client_pings_are_answered() {
    let srv = start().await;
    let (mut c, _) = srv.client_v3(&srv.rw_key()).await;
    c.ws.send(Message::Ping(b"are-you-there".to_vec().into()))
        .await
        .unwrap();
    loop {
        match c.next_frame().await {
            Frame::Other(Message::Pong(p)) => {
                assert_eq!(&p[..], b"are-you-there");
                break;
            }
            Frame::Close(code) => panic!("closed {code:?}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn pipelined_requests_are_all_answered_even_beyond_the_in_flight_bound() {
    let srv = start().await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    for i in 0..64 {
        let method = if i % 2 == 0 {
            "health"
        } else {
            "sessions.list"
        };
        c.send_json(&json!({"type": "req", "id": format!("p{i}"), "method": method}))
            .await;
    }
    let mut seen = std::collections::HashSet::new();
    while seen.len() < 64 {
        let v = c.next_json().await;
        if v["type"] == "res" {
            assert_eq!(v["ok"], true, "{v}");
            seen.insert(v["id"].as_str().unwrap().to_string());
        }
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_with_1013() {
    let srv = start_with(|c| c.server.max_buffered_bytes = 1 << 20).await;
    let (mut c, _) = srv.client_v3(&srv.rw_key()).await;
    let chunk = "z".repeat(100_000);
    for _ in 0..6 {
        srv.engine
            .store()
            .message_append("hoard", "user", &chunk, 1)
            .unwrap();
    }
    // ~600 KB per answer, 40 answers: far more than socket buffers plus maxBufferedBytes.
    for i in 0..40 {
        c.send_json(&json!({"type": "req", "id": format!("h{i}"), "method": "chat.history", "params": {"sessionKey": "hoard"}})).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        c.expect_close().await,
        Some(1013),
        "the server gave up on the slow reader"
    );
}

trait NullResponse {
    async fn response_for_null(&mut self) -> Value;
}

impl NullResponse for common::Client {
    async fn response_for_null(&mut self) -> Value {
        loop {
            let v = self.next_json().await;
            if v["type"] == "res" && v["id"].is_null() {
                return v;
            }
        }
    }
}
