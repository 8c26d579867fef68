//! The gateway's own recent log: a bounded in-memory ring of formatted lines
//! (`<RFC 3339 ts> <LEVEL> <target>: <message>`, secrets redacted), numbered from 1, fed by the
//! [`LogRingLayer`] of the process's `tracing` subscriber and read by `logs.tail`.
//!
//! The binaries install one process ring ([`install_process_ring`]) when they build their
//! subscriber; an engine opened afterwards uses it (with its `[logging]` bounds). An engine
//! opened without one (tests, offline CLI commands) gets a ring of its own that nothing feeds
//! unless a test attaches a layer to it ([`LogRing::capture`]).

mod layer;
pub mod redact;

pub use layer::LogRingLayer;

use microclaw_core::config::LoggingConfig;
use parking_lot::Mutex;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

/// One line is cut to this many bytes (plus a marker) before it is kept.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// What `logs.tail` answers (`file` is `"memory"`: no log file is configured).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tail {
    pub file: String,
    /// The number the next line will get: pass it back to read only newer lines.
    pub cursor: u64,
    /// Bytes held by the ring (each line counts its length plus a newline).
    pub size: usize,
    pub lines: Vec<String>,
    /// Lines after the cursor (or held, without one) were left out for `limit` / `maxBytes`.
    pub truncated: bool,
    /// The cursor fell out of the ring (older than the oldest line held) or is ahead of it (a
    /// cursor from a previous process): the lines read are the newest ones.
    pub reset: bool,
}

#[derive(Debug)]
struct State {
    lines: VecDeque<String>,
    /// The number of `lines[0]` (line numbers start at 1).
    first: u64,
    bytes: usize,
    max_lines: usize,
    max_bytes: usize,
}

impl State {
    fn next(&self) -> u64 {
        self.first + self.lines.len() as u64
    }

    fn trim(&mut self) {
        while self.lines.len() > self.max_lines || self.bytes > self.max_bytes {
            let Some(old) = self.lines.pop_front() else {
                break;
            };
            self.bytes -= old.len() + 1;
            self.first += 1;
        }
    }
}

#[derive(Debug)]
pub struct LogRing {
    state: Mutex<State>,
}

impl LogRing {
    /// A ring holding at most `max_lines` lines and `max_bytes` bytes.
    pub fn new(max_lines: usize, max_bytes: usize) -> Arc<LogRing> {
        Arc::new(LogRing {
            state: Mutex::new(State {
                lines: VecDeque::new(),
                first: 1,
                bytes: 0,
                max_lines: max_lines.max(1),
                max_bytes: max_bytes.max(1),
            }),
        })
    }

    pub fn from_config(c: &LoggingConfig) -> Arc<LogRing> {
        LogRing::new(c.ring_lines, c.ring_bytes)
    }

    /// New bounds; the oldest lines beyond them go now.
    pub fn set_limits(&self, max_lines: usize, max_bytes: usize) {
        let mut st = self.state.lock();
        st.max_lines = max_lines.max(1);
        st.max_bytes = max_bytes.max(1);
        st.trim();
    }

    /// Keeps one line: secrets redacted, line breaks escaped, cut at [`MAX_LINE_BYTES`].
    pub fn push(&self, line: &str) {
        let mut line = redact::redact_secrets(line);
        if line.contains(['\n', '\r']) {
            line = line.replace('\n', "\\n").replace('\r', "\\r");
        }
        if line.len() > MAX_LINE_BYTES {
            let mut cut = MAX_LINE_BYTES;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            let dropped = line.len() - cut;
            line.truncate(cut);
            line.push_str(&format!("…[cut {dropped} bytes]"));
        }
        let mut st = self.state.lock();
        st.bytes += line.len() + 1;
        st.lines.push_back(line);
        st.trim();
    }

    /// The number the next line will get.
    pub fn next_cursor(&self) -> u64 {
        self.state.lock().next()
    }

    /// Lines numbered `cursor` and later (all held lines without a cursor), the newest kept
    /// when more than `limit` lines or `max_bytes` bytes qualify.
    pub fn tail(&self, cursor: Option<u64>, limit: usize, max_bytes: usize) -> Tail {
        let st = self.state.lock();
        let next = st.next();
        // Cursor 0 (nothing read yet) asks for line 1 onwards.
        let (from, reset) = match cursor.map(|c| c.max(1)) {
            None => (st.first, false),
            Some(c) if c < st.first || c > next => (st.first, true),
            Some(c) => (c, false),
        };
        let available = (next - from) as usize;
        let mut picked = Vec::new();
        let mut bytes = 0usize;
        for line in st.lines.iter().rev().take(available) {
            if picked.len() >= limit || bytes + line.len() + 1 > max_bytes {
                break;
            }
            bytes += line.len() + 1;
            picked.push(line.clone());
        }
        picked.reverse();
        // Without a cursor, lines held but not returned count as truncation (OpenClaw:
        // "started mid-file"); after a cursor, lines newer than it that were left out.
        let truncated = picked.len() < available;
        Tail {
            file: "memory".into(),
            cursor: next,
            size: st.bytes,
            lines: picked,
            truncated,
            reset,
        }
    }

    /// Runs `f` with a thread-local subscriber that feeds this ring (everything at TRACE and
    /// above): how tests and tools log into a ring of their own.
    pub fn capture<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        tracing::subscriber::with_default(subscriber(self.clone()), f)
    }
}

/// A subscriber that feeds only `ring` (every level), e.g. for `set_global_default` in a test
/// process; the binaries add the [`LogRingLayer`] to their own filtered subscriber instead.
pub fn subscriber(ring: Arc<LogRing>) -> impl tracing::Subscriber + Send + Sync {
    use tracing_subscriber::layer::SubscriberExt;
    tracing_subscriber::registry().with(LogRingLayer::new(ring))
}

static PROCESS_RING: OnceLock<Arc<LogRing>> = OnceLock::new();

/// The process's ring (created with the default bounds on first call): binaries call this
/// when building their `tracing` subscriber and add a [`LogRingLayer`] over it.
pub fn install_process_ring() -> Arc<LogRing> {
    PROCESS_RING
        .get_or_init(|| LogRing::from_config(&LoggingConfig::default()))
        .clone()
}

/// The process ring, if a binary installed one.
pub fn process_ring() -> Option<Arc<LogRing>> {
    PROCESS_RING.get().cloned()
}

#[cfg(test)]
mod tests;
