//! One connection's outbound side: a queue bounded by bytes (§5: a slow reader must not grow
//! server memory; when `maxBufferedBytes` is exceeded the connection closes with 1013), the
//! protocol-4 event `seq`, and the writer task that owns the socket's sink.

use super::errors::BridgeError;
use super::frames::{self, Proto};
use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt};
use parking_lot::Mutex;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub const CLOSE_POLICY: u16 = 1008;
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;
pub const CLOSE_TOO_BIG: u16 = 1009;
pub const CLOSE_TRY_AGAIN_LATER: u16 = 1013;
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// The sending half, cloned into every request task.
#[derive(Clone)]
pub struct Outbound(Arc<Shared>);

struct Shared {
    tx: mpsc::UnboundedSender<Message>,
    queued_bytes: AtomicUsize,
    max_buffered: usize,
    max_payload: usize,
    proto: OnceLock<Proto>,
    /// The last protocol-4 event seq; the lock also keeps queue order equal to seq order.
    seq: Mutex<u64>,
    closing: AtomicBool,
    /// Cancelled when the queue overflowed (close 1013 now, skipping what is queued).
    overflow: CancellationToken,
    /// Cancelled when the writer has stopped (socket gone or close sent).
    writer_done: CancellationToken,
}

/// The receiving half, driven by [`run_writer`].
pub struct OutboundRx {
    rx: mpsc::UnboundedReceiver<Message>,
    shared: Arc<Shared>,
}

pub fn channel(max_buffered: usize, max_payload: usize) -> (Outbound, OutboundRx) {
    let (tx, rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        tx,
        queued_bytes: AtomicUsize::new(0),
        max_buffered,
        max_payload,
        proto: OnceLock::new(),
        seq: Mutex::new(0),
        closing: AtomicBool::new(false),
        overflow: CancellationToken::new(),
        writer_done: CancellationToken::new(),
    });
    (Outbound(shared.clone()), OutboundRx { rx, shared })
}

impl Outbound {
    /// Fixes the protocol after hello-ok: from now on protocol-4 events carry `seq`.
    pub fn set_proto(&self, proto: Proto) {
        let _ = self.0.proto.set(proto);
    }

    pub fn proto(&self) -> Option<Proto> {
        self.0.proto.get().copied()
    }

    /// Resolves once the writer stopped (closed socket, close sent, or overflow).
    pub fn writer_done(&self) -> CancellationToken {
        self.0.writer_done.clone()
    }

    pub fn is_closing(&self) -> bool {
        self.0.closing.load(Ordering::Acquire)
    }

    /// Queues a text frame; false when the connection is closing or the queue overflowed.
    fn push_text(&self, text: String) -> bool {
        if self.is_closing() {
            return false;
        }
        let len = text.len();
        let total = self.0.queued_bytes.fetch_add(len, Ordering::AcqRel) + len;
        if total > self.0.max_buffered {
            tracing::warn!(
                queued = total,
                max = self.0.max_buffered,
                "bridge outbound queue full: closing with 1013"
            );
            self.0.closing.store(true, Ordering::Release);
            self.0.overflow.cancel();
            return false;
        }
        self.0.tx.send(Message::Text(text.into())).is_ok()
    }

    /// Sends a response; one larger than `maxPayload` becomes `INTERNAL_ERROR` "response too large".
    pub fn respond(&self, proto: Proto, id: &Value, result: Result<Value, BridgeError>) -> bool {
        let frame = match result {
            Ok(payload) => frames::response_ok(id, payload),
            Err(e) => frames::response_err(id, e.render(proto)),
        };
        self.push_response(proto, id, frame.to_string())
    }

    /// Like [`Outbound::respond`] for a success whose payload is already serialized.
    pub fn respond_raw(
        &self,
        proto: Proto,
        id: &Value,
        payload: &serde_json::value::RawValue,
    ) -> bool {
        let id_text = serde_json::to_string(id).unwrap_or_else(|_| "null".into());
        let text = format!(
            "{{\"type\":\"res\",\"id\":{id_text},\"ok\":true,\"payload\":{}}}",
            payload.get()
        );
        self.push_response(proto, id, text)
    }

    /// Queues a response frame, or the "response too large" error in its place.
    fn push_response(&self, proto: Proto, id: &Value, text: String) -> bool {
        if text.len() > self.0.max_payload {
            let err = microclaw_core::Error::internal(format!(
                "response too large: {} bytes, the limit (maxPayload) is {}",
                text.len(),
                self.0.max_payload
            ));
            return self.push_text(
                frames::response_err(id, BridgeError::Op(err).render(proto)).to_string(),
            );
        }
        self.push_text(text)
    }

    /// Sends an event; protocol-4 events after hello-ok get the next `seq`.
    pub fn event(&self, name: &str, payload: Value) -> bool {
        let mut seq = self.0.seq.lock();
        let next = match self.proto() {
            Some(Proto::V4) => Some(*seq + 1),
            _ => None,
        };
        let ok = self.push_text(frames::event(name, payload, next).to_string());
        if ok {
            if let Some(n) = next {
                *seq = n;
            }
        }
        ok
    }

    /// Queues a control frame (ping).
    pub fn control(&self, msg: Message) -> bool {
        !self.is_closing() && self.0.tx.send(msg).is_ok()
    }

    /// Queues a close frame after everything already queued; later sends are dropped.
    pub fn close(&self, code: u16, reason: &str) {
        if self.0.closing.swap(true, Ordering::AcqRel) {
            return;
        }
        let frame = CloseFrame {
            code,
            reason: reason.to_string().into(),
        };
        let _ = self.0.tx.send(Message::Close(Some(frame)));
    }
}

/// How long the writer tries to deliver the 1013 close frame to a client that stopped reading.
const OVERFLOW_CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Owns the sink: writes queued frames in order until a close frame was written, the socket
/// failed, or the queue overflowed; then it abandons even a send that is stuck on a client
/// that stopped reading, and tries (for a bounded time) to deliver close 1013.
/// Frames written per flush at most.
const WRITE_BATCH: usize = 64;

pub async fn run_writer<S>(mut sink: S, mut out: OutboundRx)
where
    S: Sink<Message> + Unpin,
    S::Error: std::fmt::Display,
{
    let shared = out.shared.clone();
    let mut overflowed = false;
    // Frames queued together are written together and flushed once (one syscall for a burst
    // of pipelined responses instead of one per frame).
    let mut batch: Vec<Message> = Vec::with_capacity(WRITE_BATCH);
    'outer: loop {
        let first = tokio::select! {
            biased;
            _ = shared.overflow.cancelled() => { overflowed = true; break; }
            msg = out.rx.recv() => match msg { Some(m) => m, None => break },
        };
        batch.push(first);
        while batch.len() < WRITE_BATCH {
            match out.rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let mut stop = false;
        for msg in batch.drain(..) {
            if let Message::Text(t) = &msg {
                shared.queued_bytes.fetch_sub(t.len(), Ordering::AcqRel);
            }
            let is_close = matches!(msg, Message::Close(_));
            let fed = tokio::select! {
                biased;
                _ = shared.overflow.cancelled() => { overflowed = true; break 'outer; }
                r = sink.feed(msg) => r,
            };
            if let Err(e) = fed {
                // A peer that went away is normal: debug, not an error.
                tracing::debug!("bridge send failed (socket closed): {e}");
                stop = true;
                break;
            }
            if is_close {
                stop = true;
                break;
            }
        }
        batch.clear();
        let flushed = tokio::select! {
            biased;
            _ = shared.overflow.cancelled() => { overflowed = true; break; }
            r = sink.flush() => r,
        };
        if let Err(e) = flushed {
            tracing::debug!("bridge flush failed (socket closed): {e}");
            break;
        }
        if stop {
            break;
        }
    }
    shared.closing.store(true, Ordering::Release);
    if overflowed {
        let frame = CloseFrame {
            code: CLOSE_TRY_AGAIN_LATER,
            reason: "outbound queue full: client reads too slowly".into(),
        };
        match tokio::time::timeout(OVERFLOW_CLOSE_WAIT, sink.send(Message::Close(Some(frame))))
            .await
        {
            Ok(Err(e)) => tracing::debug!("bridge close 1013 not delivered: {e}"),
            Err(_) => tracing::debug!("bridge close 1013 not delivered: the client is not reading"),
            Ok(Ok(())) => {}
        }
    }
    shared.writer_done.cancel();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), sink.close()).await;
}

#[cfg(test)]
mod tests {
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
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|m| (m, rx)) },
            );
        (Box::pin(sink), stream.boxed())
    }
}
