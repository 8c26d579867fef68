//! The outbound queue over an in-memory sink: seq, drops and gaps, 1013, maxPayload.

use super::*;
use futures_util::StreamExt;
use serde_json::json;

fn text(m: &Message) -> Value {
    match m {
        Message::Text(t) => serde_json::from_str(t.as_str()).unwrap(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[tokio::test]
async fn protocol_4_events_get_consecutive_seq_and_protocol_3_none() {
    let (out, rx) = channel(1 << 20, 1 << 20);
    let (sink, mut stream) = futures_channel();
    let writer = tokio::spawn(run_writer(sink, rx));
    out.event("connect.challenge", json!({}));
    out.set_proto(Proto::V4);
    out.event("tick", json!({"ts": 1}));
    out.event("health", json!({}));
    out.close(1000, "bye");
    let seqs: Vec<Value> = vec![
        text(&stream.next().await.unwrap())["seq"].clone(),
        text(&stream.next().await.unwrap())["seq"].clone(),
        text(&stream.next().await.unwrap())["seq"].clone(),
    ];
    assert_eq!(
        seqs,
        vec![Value::Null, json!(1), json!(2)],
        "challenge has no seq; events count from 1"
    );
    assert!(matches!(stream.next().await, Some(Message::Close(Some(f))) if f.code == 1000));
    writer.await.unwrap();
    assert!(!out.event("late", json!({})), "nothing is sent after close");
}

#[tokio::test]
async fn a_dropped_droppable_event_leaves_a_seq_gap_and_an_essential_one_is_kept() {
    // No writer yet: everything stays queued, as for a client that does not read.
    let (out, rx) = channel(4000, 1 << 20);
    out.set_proto(Proto::V4);
    let pad = "d".repeat(300);
    let mut queued: usize = 0;
    for _ in 0..20 {
        if out.event_droppable("chat", json!({"pad": pad})) {
            queued += 1;
        }
    }
    assert!(
        queued < 20 && out.dropped() == (20 - queued) as u64,
        "deltas past half the queue are dropped"
    );
    assert!(
        out.event("chat", json!({"state": "final"})),
        "a terminal event still fits"
    );
    assert!(!out.is_closing());
    let (sink, mut stream) = futures_channel();
    tokio::spawn(run_writer(sink, rx));
    let mut seqs = Vec::new();
    for _ in 0..=queued {
        seqs.push(text(&stream.next().await.unwrap())["seq"].as_u64().unwrap());
    }
    assert_eq!(seqs[..queued], (1..=queued as u64).collect::<Vec<_>>()[..]);
    assert_eq!(
        seqs[queued], 21,
        "the final keeps its intake seq: the gap shows the drops"
    );
}

#[test]
fn an_essential_event_that_does_not_fit_closes_with_1013() {
    let (out, _rx) = channel(1000, 1 << 20);
    out.set_proto(Proto::V4);
    assert!(out.event_droppable("chat", json!({"pad": "p".repeat(300)})));
    assert!(!out.event("chat", json!({"pad": "f".repeat(800)})));
    assert!(
        out.is_closing() && out.0.overflow.is_cancelled(),
        "never a silent loss"
    );
}

#[test]
fn events_over_max_payload_are_never_queued() {
    let (out, _rx) = channel(1 << 20, 500);
    out.set_proto(Proto::V4);
    assert!(!out.event_droppable("presence", json!({"pad": "x".repeat(600)})));
    assert_eq!(
        (out.dropped(), out.is_closing()),
        (1, false),
        "a droppable one is dropped"
    );
    assert_eq!(out.queued_bytes(), 0);
    assert!(!out.event("chat", json!({"pad": "y".repeat(600)})));
    assert!(
        out.is_closing(),
        "an essential one closes the connection (1013)"
    );
}

#[tokio::test]
async fn an_oversized_response_becomes_an_internal_error() {
    let (out, rx) = channel(1 << 20, 200);
    let (sink, mut stream) = futures_channel();
    tokio::spawn(run_writer(sink, rx));
    out.respond(Proto::V3, &json!("1"), Ok(json!({"blob": "x".repeat(500)})));
    let v = text(&stream.next().await.unwrap());
    assert_eq!(
        (v["ok"].as_bool(), v["error"]["code"].as_str()),
        (Some(false), Some("INTERNAL_ERROR"))
    );
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("response too large"));
}

#[tokio::test]
async fn a_full_queue_closes_with_1013_without_flushing_the_backlog() {
    let (out, rx) = channel(1000, 1 << 20);
    for _ in 0..20 {
        out.event("tick", json!({"pad": "y".repeat(100)}));
    }
    assert!(
        out.is_closing(),
        "past maxBufferedBytes the connection is closing"
    );
    let (sink, mut stream) = futures_channel();
    run_writer(sink, rx).await;
    assert!(
        matches!(stream.next().await, Some(Message::Close(Some(f))) if f.code == CLOSE_TRY_AGAIN_LATER)
    );
}

#[tokio::test]
async fn a_writer_stuck_on_a_client_that_never_reads_gives_up_after_overflow() {
    let (out, rx) = channel(4096, 1 << 20);
    let stuck = futures_util::sink::unfold((), |(), _m: Message| {
        std::future::pending::<Result<(), String>>()
    });
    let writer = tokio::spawn(run_writer(Box::pin(stuck), rx));
    let done = out.writer_done();
    for _ in 0..100 {
        out.event("tick", json!({"pad": "z".repeat(200)}));
    }
    tokio::time::timeout(std::time::Duration::from_secs(30), done.cancelled())
        .await
        .expect("writer must stop");
    writer.await.unwrap();
}

/// A sink that records which frames went out together, one group per flush.
#[derive(Default)]
struct FlushRecorder {
    pending: Vec<String>,
    flushed: Arc<Mutex<Vec<Vec<String>>>>,
}

impl Sink<Message> for FlushRecorder {
    type Error = String;
    fn poll_ready(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), String>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn start_send(mut self: std::pin::Pin<&mut Self>, m: Message) -> Result<(), String> {
        let name = match &m {
            Message::Text(t) => {
                text(&m)["event"].as_str().unwrap_or("?").to_string()
                    + &format!(":{}", t.len() / 1000)
            }
            Message::Close(_) => "close".into(),
            _ => "other".into(),
        };
        self.pending.push(name);
        Ok(())
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), String>> {
        if !self.pending.is_empty() {
            let group = std::mem::take(&mut self.pending);
            self.flushed.lock().push(group);
        }
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), String>> {
        self.poll_flush(cx)
    }
}

#[tokio::test]
async fn small_frames_share_a_flush_and_a_large_one_goes_out_alone() {
    let (out, rx) = channel(1 << 20, 1 << 20);
    for name in ["a", "b", "c"] {
        out.event(name, json!({}));
    }
    out.event("big", json!({"pad": "x".repeat(ALONE_BYTES + 10)}));
    out.event("d", json!({}));
    out.event("e", json!({}));
    out.close(1000, "");
    let sink = FlushRecorder::default();
    let flushed = sink.flushed.clone();
    run_writer(sink, rx).await;
    assert_eq!(
        *flushed.lock(),
        vec![
            vec!["a:0", "b:0", "c:0"],
            vec!["big:1"],
            vec!["d:0", "e:0", "close"]
        ],
        "the large frame is written and flushed by itself, in order"
    );
}

#[tokio::test]
async fn the_writer_ends_when_every_sender_is_gone_after_writing_what_was_queued() {
    let (out, rx) = channel(1 << 20, 1 << 20);
    let second = out.clone();
    out.event("one", json!({}));
    drop(out);
    second.event("two", json!({}));
    let (sink, mut stream) = futures_channel();
    let writer = tokio::spawn(run_writer(sink, rx));
    assert_eq!(text(&stream.next().await.unwrap())["event"], "one");
    assert_eq!(text(&stream.next().await.unwrap())["event"], "two");
    drop(second);
    tokio::time::timeout(std::time::Duration::from_secs(10), writer)
        .await
        .expect("the writer stops once no sender is left")
        .unwrap();
}

#[tokio::test]
async fn nothing_is_queued_once_the_writer_is_gone() {
    let (out, rx) = channel(1 << 20, 1 << 20);
    drop(rx);
    assert!(
        !out.event("late", json!({})),
        "no writer: refused, not queued"
    );
    assert_eq!(
        out.queued_bytes(),
        0,
        "a refused frame is not counted as queued"
    );
}

fn futures_channel() -> (
    impl Sink<Message, Error = String> + Unpin,
    futures_util::stream::BoxStream<'static, Message>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Message>(64);
    let sink = futures_util::sink::unfold(tx, |tx, m: Message| async move {
        tx.send(m).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(tx)
    });
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
    (Box::pin(sink), stream.boxed())
}
