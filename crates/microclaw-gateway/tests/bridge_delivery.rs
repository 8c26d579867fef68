//! Delivery under pressure (decisions.md "Events"): a lagging protocol-4 client sees `seq`
//! gaps for droppable events and still gets every run-terminal event, or is closed with 1013;
//! a flood of in-flight requests does not stop event delivery; no event exceeds maxPayload.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{openclaw_connect, start_with, Client, Frame, TestServer, WAIT};
use futures_util::StreamExt;
use microclaw_engine::EngineEvent;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::MaybeTlsStream;

/// A protocol-4 client on a socket with a small receive buffer (so a client that does not
/// read backs up into the server's queue quickly). The hello and first tick are consumed.
async fn small_buffer_client(srv: &TestServer, token: &str) -> Client {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let tcp = sock.connect(srv.addr).await.unwrap();
    let url = format!("ws://{}/", srv.addr);
    let (ws, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
        .await
        .unwrap();
    let mut c = Client::from_ws(ws);
    c.read_challenge().await;
    let res = c.connect(openclaw_connect(token, None)).await;
    assert_eq!(res["ok"], true, "connect failed: {res}");
    c.next_event("tick").await;
    c
}

fn dropped(srv: &TestServer) -> u64 {
    srv.engine.metrics().totals().bridge_events_dropped
}

/// Emits presence events (droppable) in paced batches until the server counted a drop.
async fn flood_presence_until_dropping(srv: &TestServer) {
    for _ in 0..2000 {
        for _ in 0..64 {
            srv.engine.emit(EngineEvent::PresenceChanged);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        if dropped(srv) > 0 {
            return;
        }
    }
    panic!("no event was dropped for a client that does not read");
}

/// Every frame until the terminal `chat` event of `run_id` and its `agent` lifecycle end (the
/// run's last event), or the close, in order.
async fn read_until_terminal(c: &mut Client, run_id: &str) -> (Vec<Value>, Option<Option<u16>>) {
    let mut frames = Vec::new();
    let (mut seen_final, mut seen_end) = (false, false);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match c.next_frame().await {
            Frame::Json(v) => {
                let of_run = v["payload"]["runId"] == run_id;
                seen_final |= of_run && v["event"] == "chat" && v["payload"]["state"] != "delta";
                seen_end |= of_run
                    && v["event"] == "agent"
                    && v["payload"]["stream"] == "lifecycle"
                    && v["payload"]["data"]["phase"] != "start";
                frames.push(v);
                if seen_final && seen_end {
                    return (frames, None);
                }
            }
            Frame::Close(code) => return (frames, Some(code)),
            Frame::Other(_) => {}
        }
    }
    panic!("neither the terminal event nor a close arrived");
}

/// The seq values missing between the first and the last event read.
fn missing_seqs(frames: &[Value]) -> u64 {
    let seqs: Vec<u64> = frames.iter().filter_map(|f| f["seq"].as_u64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq only increases: {seqs:?}"
    );
    seqs.windows(2).map(|w| w[1] - w[0] - 1).sum()
}

#[tokio::test]
async fn a_lagging_client_sees_a_seq_gap_and_still_gets_the_final() {
    let srv = start_with(|c| c.server.max_buffered_bytes = 64 * 1024).await;
    let key = srv.rw_key();
    let mut lagging = small_buffer_client(&srv, &key).await;
    let before = dropped(&srv);
    flood_presence_until_dropping(&srv).await;
    // Another client runs a chat while the lagging one still reads nothing.
    let (mut other, _) = srv.client_v3(&key).await;
    let run = other
        .call(
            "chat.send",
            json!({"sessionKey": "lag", "message": "/echo the final must arrive"}),
        )
        .await;
    let run_id = run["runId"].as_str().unwrap().to_string();
    other.run_events(&run_id).await;
    let (frames, closed) = read_until_terminal(&mut lagging, &run_id).await;
    assert_eq!(
        closed, None,
        "the connection stays open: only droppable events were lost"
    );
    let fin = frames
        .iter()
        .rfind(|f| f["event"] == "chat" && f["payload"]["runId"] == run_id)
        .unwrap();
    assert_eq!(fin["payload"]["state"], "final");
    let missing = missing_seqs(&frames);
    assert!(missing > 0, "the dropped events show as a seq gap");
    assert_eq!(
        missing,
        dropped(&srv) - before,
        "every missing seq is a counted drop: nothing vanished silently"
    );
    assert_eq!(lagging.call("health", json!({})).await["ok"], true);
}

#[tokio::test]
async fn a_client_that_cannot_take_a_terminal_event_is_closed_with_1013() {
    let srv = start_with(|c| c.server.max_buffered_bytes = 64 * 1024).await;
    let key = srv.rw_key();
    let mut lagging = small_buffer_client(&srv, &key).await;
    flood_presence_until_dropping(&srv).await;
    let closes = srv.engine.metrics().totals().bridge_lag_closes;
    let (mut other, _) = srv.client_v3(&key).await;
    // The final carries the whole 48 KB reply: more than the half queue left for it.
    let text = "w ".repeat(24_000);
    let run = other
        .call(
            "chat.send",
            json!({"sessionKey": "lag", "message": format!("/echo {text}")}),
        )
        .await;
    let run_id = run["runId"].as_str().unwrap().to_string();
    other.run_events(&run_id).await;
    let (frames, closed) = read_until_terminal(&mut lagging, &run_id).await;
    assert_eq!(closed, Some(Some(1013)), "closed, never a silent loss");
    assert!(
        !frames
            .iter()
            .any(|f| f["payload"]["runId"] == run_id.as_str() && f["payload"]["state"] == "final"),
        "the final did not fit"
    );
    assert!(srv.engine.metrics().totals().bridge_lag_closes > closes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_in_flight_requests_does_not_stop_event_delivery() {
    let srv = start_with(|_| {}).await;
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    // Every store read and write waits ~2 s: the requests below hold all in-flight permits.
    let store = srv.engine.store().clone();
    let hold = Duration::from_millis(2000);
    let mut holders = Vec::new();
    for _ in 0..microclaw_store::READ_POOL_SIZE {
        let s = store.clone();
        holders.push(tokio::spawn(async move {
            s.read_async(move |_| {
                std::thread::sleep(hold);
                Ok(())
            })
            .await
        }));
    }
    let s = store.clone();
    holders.push(tokio::spawn(async move {
        s.write_async(move |_| {
            std::thread::sleep(hold);
            Ok(())
        })
        .await
    }));
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..40 {
        let (method, params) = if i % 2 == 0 {
            ("sessions.list", json!({}))
        } else {
            (
                "sessions.setLabel",
                json!({"sessionKey": format!("f{i}"), "label": "x"}),
            )
        };
        c.send_json(
            &json!({"type": "req", "id": format!("q{i}"), "method": method, "params": params}),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let sent = Instant::now();
    srv.engine.emit(EngineEvent::SessionsChanged {
        key: "flood-probe".into(),
        reason: "updated",
        row: None,
    });
    let mut answered_first = 0;
    loop {
        let v = c.next_json().await;
        if v["type"] == "res" {
            answered_first += 1;
        } else if v["event"] == "sessions.changed" && v["payload"]["key"] == "flood-probe" {
            break;
        }
    }
    let waited = sent.elapsed();
    assert!(
        waited < Duration::from_millis(800),
        "the event waited {waited:?} behind {answered_first} stuck requests"
    );
    let mut answered = answered_first;
    while answered < 40 {
        if c.next_json().await["type"] == "res" {
            answered += 1;
        }
    }
    for h in holders {
        h.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn no_event_larger_than_max_payload_is_sent() {
    // Big enough for hello-ok (it lists every method), small enough for a large presence list.
    let srv = start_with(|c| c.server.max_payload_bytes = 16 * 1024).await;
    let key = srv.rw_key();
    let (mut watcher, _) = srv.client_v4(&key).await;
    let before = dropped(&srv);
    // Two clients with long display names make the presence list larger than maxPayload.
    let mut others = Vec::new();
    for name in ["b", "c"] {
        let mut o = srv.raw().await;
        o.read_challenge().await;
        let mut params = openclaw_connect(&key, None);
        params["client"]["displayName"] = json!(name.repeat(9000));
        assert_eq!(o.connect(params).await["ok"], true);
        others.push(o);
    }
    // Presence events are coalesced and sent shortly after the change.
    let deadline = Instant::now() + WAIT;
    while dropped(&srv) == before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    srv.engine.emit(EngineEvent::SessionsChanged {
        key: "after-presence".into(),
        reason: "updated",
        row: None,
    });
    // The first tick (seq 1) was read by client_v4.
    let mut seqs = vec![1];
    loop {
        let msg = tokio::time::timeout(WAIT, watcher.ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let Message::Text(t) = msg else { continue };
        assert!(
            t.len() <= 4096,
            "a {} byte frame exceeds maxPayload",
            t.len()
        );
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        seqs.push(v["seq"].as_u64().unwrap());
        if v["event"] == "sessions.changed" && v["payload"]["key"] == "after-presence" {
            break;
        }
    }
    assert!(
        dropped(&srv) > before,
        "the oversized presence event was dropped and counted"
    );
    let gaps: u64 = seqs.windows(2).map(|w| w[1] - w[0] - 1).sum();
    assert!(gaps >= 1, "the dropped event left a seq gap: {seqs:?}");
}
