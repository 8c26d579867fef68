//! One connection's outbound side: a queue bounded by bytes (§5: a slow reader must not grow
//! server memory; when `maxBufferedBytes` is exceeded the connection closes with 1013), the
//! protocol-4 event `seq`, and the writer task that owns the socket's sink.
//!
//! Delivery under pressure (decisions.md "Events"): every event gets its `seq` when it is
//! taken in, before anything may drop it, so a dropped event leaves a visible gap. A
//! [`Delivery::Droppable`] event (delta, tick, health, presence) is dropped (counted, logged)
//! once the queue holds more than half of `maxBufferedBytes` or when it is larger than
//! `maxPayload`; an [`Delivery::Essential`] one (run-terminal, approvals, the rest) is never
//! dropped: if it cannot be queued the connection is closed with 1013.
//!
//! The queue is a `VecDeque` behind a lock with a [`Notify`] for the writer rather than a
//! tokio channel: an idle connection then holds no pre-allocated channel block (a channel's
//! first block of 32 slots is ~1.5 KiB per connection, 3 MB at 2,000 connections).

use super::errors::BridgeError;
use super::frames::{self, Proto};
use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt};
use microclaw_metrics::Metrics;
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub const CLOSE_POLICY: u16 = 1008;
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;
pub const CLOSE_TOO_BIG: u16 = 1009;
pub const CLOSE_TRY_AGAIN_LATER: u16 = 1013;
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// What may happen to an event when the connection cannot keep up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Deltas, `tick`, `health`, `presence`: dropped for a lagging connection (a `seq` gap).
    Droppable,
    /// Never dropped: queued, or the connection closes with 1013.
    Essential,
}

/// The sending half, cloned into every request task.
pub struct Outbound(Arc<Shared>);

impl Clone for Outbound {
    fn clone(&self) -> Self {
        self.0.senders.fetch_add(1, Ordering::Relaxed);
        Outbound(self.0.clone())
    }
}

impl Drop for Outbound {
    fn drop(&mut self) {
        if self.0.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last sender is gone: the writer ends once the queue is empty.
            self.0.ready.notify_one();
        }
    }
}

/// A queue above this capacity is shrunk when it runs empty (after an unusual burst).
const SHRINK_ABOVE: usize = 1024;

struct Shared {
    /// Frames waiting for the writer, in order.
    queue: Mutex<VecDeque<Message>>,
    /// Wakes the writer: a frame was queued, or the last sender went away.
    ready: Notify,
    /// Live [`Outbound`] handles.
    senders: AtomicUsize,
    queued_bytes: AtomicUsize,
    max_buffered: usize,
    max_payload: usize,
    proto: OnceLock<Proto>,
    /// The last protocol-4 event seq; the lock also keeps queue order equal to seq order.
    seq: Mutex<u64>,
    closing: AtomicBool,
    /// Droppable events dropped on this connection (also counted in the metrics).
    dropped: AtomicU64,
    metrics: OnceLock<Arc<Metrics>>,
    /// Cancelled when the queue overflowed (close 1013 now, skipping what is queued).
    overflow: CancellationToken,
    /// Cancelled when the writer has stopped (socket gone or close sent).
    writer_done: CancellationToken,
    /// The receiving half was dropped: queueing fails.
    rx_gone: AtomicBool,
}

/// The receiving half, driven by [`run_writer`].
pub struct OutboundRx {
    shared: Arc<Shared>,
}

impl OutboundRx {
    /// The next queued frame without waiting.
    fn try_next(&self) -> Option<Message> {
        let mut q = self.shared.queue.lock();
        let msg = q.pop_front();
        if q.is_empty() && q.capacity() > SHRINK_ABOVE {
            q.shrink_to(16);
        }
        msg
    }

    /// The next queued frame; None once every sender is gone and the queue is empty.
    async fn next(&self) -> Option<Message> {
        loop {
            if let Some(m) = self.try_next() {
                return Some(m);
            }
            if self.shared.senders.load(Ordering::Acquire) == 0 {
                return self.try_next();
            }
            // A frame queued after the check above leaves a permit: this returns at once.
            self.shared.ready.notified().await;
        }
    }
}

impl Drop for OutboundRx {
    fn drop(&mut self) {
        // Nothing will be written any more: senders see a closed queue.
        self.shared.rx_gone.store(true, Ordering::Release);
        self.shared.queue.lock().clear();
    }
}

pub fn channel(max_buffered: usize, max_payload: usize) -> (Outbound, OutboundRx) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(VecDeque::new()),
        ready: Notify::new(),
        senders: AtomicUsize::new(1),
        rx_gone: AtomicBool::new(false),
        queued_bytes: AtomicUsize::new(0),
        max_buffered,
        max_payload,
        proto: OnceLock::new(),
        seq: Mutex::new(0),
        closing: AtomicBool::new(false),
        dropped: AtomicU64::new(0),
        metrics: OnceLock::new(),
        overflow: CancellationToken::new(),
        writer_done: CancellationToken::new(),
    });
    (Outbound(shared.clone()), OutboundRx { shared })
}

impl Outbound {
    /// Fixes the protocol after hello-ok: from now on protocol-4 events carry `seq`.
    pub fn set_proto(&self, proto: Proto) {
        let _ = self.0.proto.set(proto);
    }

    pub fn proto(&self) -> Option<Proto> {
        self.0.proto.get().copied()
    }

    /// Where drops and 1013 closes are counted.
    pub fn set_metrics(&self, metrics: Arc<Metrics>) {
        let _ = self.0.metrics.set(metrics);
    }

    /// Droppable events dropped so far on this connection.
    pub fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }

    /// Bytes queued and not yet handed to the socket.
    pub fn queued_bytes(&self) -> usize {
        self.0.queued_bytes.load(Ordering::Acquire)
    }

    /// Closes with 1013 at once, skipping what is queued (the client reconnects and reads
    /// state): for a connection that lost, or cannot take, an event it must not miss.
    pub fn close_lagging(&self, why: &str) {
        tracing::warn!("bridge connection closed with 1013: {why}");
        if let Some(m) = self.0.metrics.get() {
            m.bridge_lag_closed();
        }
        self.0.closing.store(true, Ordering::Release);
        self.0.overflow.cancel();
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
            self.0.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            self.close_lagging(&format!(
                "outbound queue full ({total} bytes queued, maxBufferedBytes {})",
                self.0.max_buffered
            ));
            return false;
        }
        if self.enqueue(Message::Text(text.into())) {
            return true;
        }
        self.0.queued_bytes.fetch_sub(len, Ordering::AcqRel);
        false
    }

    /// Appends a frame for the writer; false when the writer is gone.
    fn enqueue(&self, msg: Message) -> bool {
        if self.0.rx_gone.load(Ordering::Acquire) {
            return false;
        }
        self.0.queue.lock().push_back(msg);
        self.0.ready.notify_one();
        true
    }

    /// Sends a response; one larger than `maxPayload` becomes `INTERNAL_ERROR` "response too large".
    pub fn respond(&self, proto: Proto, id: &Value, result: Result<Value, BridgeError>) -> bool {
        let text = match result {
            Ok(payload) => frames::text::response_ok(id, &payload),
            Err(e) => frames::text::response_err(id, &e.render(proto)),
        };
        self.push_response(proto, id, text)
    }

    /// Like [`Outbound::respond`] for a success whose payload is already serialized.
    pub fn respond_raw(
        &self,
        proto: Proto,
        id: &Value,
        payload: &serde_json::value::RawValue,
    ) -> bool {
        self.push_response(proto, id, frames::text::response_ok_raw(id, payload.get()))
    }

    /// Queues a response frame, or the "response too large" error in its place.
    fn push_response(&self, proto: Proto, id: &Value, text: String) -> bool {
        if text.len() > self.0.max_payload {
            let err = microclaw_core::Error::internal(format!(
                "response too large: {} bytes, the limit (maxPayload) is {}",
                text.len(),
                self.0.max_payload
            ));
            return self.push_text(frames::text::response_err(
                id,
                &BridgeError::Op(err).render(proto),
            ));
        }
        self.push_text(text)
    }

    /// Sends an event that must not be dropped ([`Delivery::Essential`]).
    pub fn event(&self, name: &str, payload: Value) -> bool {
        self.event_with(name, payload, Delivery::Essential)
    }

    /// Sends an event that a lagging connection may miss ([`Delivery::Droppable`]).
    pub fn event_droppable(&self, name: &str, payload: Value) -> bool {
        self.event_with(name, payload, Delivery::Droppable)
    }

    /// Sends an event; protocol-4 events after hello-ok take the next `seq` here, at intake,
    /// whether or not they are then queued. True when it was queued.
    pub fn event_with(&self, name: &str, payload: Value, delivery: Delivery) -> bool {
        self.queue_event(name, delivery, |seq| {
            frames::text::event(name, &payload, seq)
        })
    }

    /// A droppable event whose payload is already JSON text (one serialization shared by
    /// every connection it goes to).
    pub fn event_raw_droppable(&self, name: &str, payload: &str) -> bool {
        self.queue_event(name, Delivery::Droppable, |seq| {
            frames::text::event_raw(name, payload, seq)
        })
    }

    fn queue_event(
        &self,
        name: &str,
        delivery: Delivery,
        build: impl FnOnce(Option<u64>) -> String,
    ) -> bool {
        if self.is_closing() {
            return false;
        }
        // The lock keeps queue order equal to seq order.
        let mut seq = self.0.seq.lock();
        let next = match self.proto() {
            Some(Proto::V4) => {
                *seq += 1;
                Some(*seq)
            }
            _ => None,
        };
        let text = build(next);
        if text.len() > self.0.max_payload {
            let why = format!(
                "{} bytes, the limit (maxPayload) is {}",
                text.len(),
                self.0.max_payload
            );
            return match delivery {
                Delivery::Droppable => self.drop_event(name, next, &why),
                Delivery::Essential => {
                    self.close_lagging(&format!("event '{name}' too large to send: {why}"));
                    false
                }
            };
        }
        if delivery == Delivery::Droppable
            && self.queued_bytes() + text.len() > self.0.max_buffered / 2
        {
            let why = format!(
                "the client lags: {} bytes queued, more than half of maxBufferedBytes {}",
                self.queued_bytes(),
                self.0.max_buffered
            );
            return self.drop_event(name, next, &why);
        }
        self.push_text(text)
    }

    fn drop_event(&self, name: &str, seq: Option<u64>, why: &str) -> bool {
        let n = self.0.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(m) = self.0.metrics.get() {
            m.bridge_event_dropped();
        }
        // The first drop on a connection is a warning; later ones (a burst) are debug.
        if n == 1 {
            tracing::warn!(seq, "bridge event '{name}' dropped: {why}");
        } else {
            tracing::debug!(seq, dropped = n, "bridge event '{name}' dropped: {why}");
        }
        false
    }

    /// Queues a control frame (ping).
    pub fn control(&self, msg: Message) -> bool {
        !self.is_closing() && self.enqueue(msg)
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
        let _ = self.enqueue(Message::Close(Some(frame)));
    }
}

/// How long the writer tries to deliver the 1013 close frame to a client that stopped reading.
const OVERFLOW_CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Frames written per flush at most.
const WRITE_BATCH: usize = 64;
/// A text frame at least this large is written and flushed by itself.
const ALONE_BYTES: usize = 1024;

/// Owns the sink: writes queued frames in order until a close frame was written, the socket
/// failed, or the queue overflowed; then it abandons even a send that is stuck on a client
/// that stopped reading, and tries (for a bounded time) to deliver close 1013.
pub async fn run_writer<S>(mut sink: S, out: OutboundRx)
where
    S: Sink<Message> + Unpin,
    S::Error: std::fmt::Display,
{
    let shared = out.shared.clone();
    let mut overflowed = false;
    // Frames queued together are written together and flushed once (one syscall for a burst
    // of pipelined responses instead of one per frame). A large frame goes out on its own: the
    // socket's write buffer keeps the capacity of the largest batch it ever held, so batching
    // a 4 KB hello-ok with what follows would pin twice that on every idle connection.
    let mut carried: Option<Message> = None;
    'outer: loop {
        let mut next = match carried.take() {
            Some(m) => Some(m),
            None => tokio::select! {
                biased;
                _ = shared.overflow.cancelled() => { overflowed = true; break; }
                msg = out.next() => match msg { Some(m) => Some(m), None => break },
            },
        };
        let mut stop = false;
        let mut written = 0;
        while let Some(msg) = next.take() {
            let size = match &msg {
                Message::Text(t) => t.len(),
                _ => 0,
            };
            if written > 0 && size >= ALONE_BYTES {
                carried = Some(msg);
                break;
            }
            shared.queued_bytes.fetch_sub(size, Ordering::AcqRel);
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
            written += 1;
            if written < WRITE_BATCH && size < ALONE_BYTES {
                next = out.try_next();
            }
        }
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
#[path = "outbound_queue_tests.rs"]
mod tests;
