//! Per-connection limits and timers (§5), from the server config plus fixed keep-alive rules,
//! and the listener-wide count of bridge sockets (the unauthenticated cap, the shutdown drain).

use microclaw_core::config::ServerConfig;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct Limits {
    pub handshake_timeout: Duration,
    pub tick_interval: Duration,
    pub max_payload: usize,
    pub max_buffered: usize,
    /// Ping a client silent for this long.
    pub idle_ping: Duration,
    /// Close a client silent for this long.
    pub idle_close: Duration,
    /// Requests handled at once per connection.
    pub max_in_flight: usize,
    pub malformed_max: usize,
    pub malformed_window: Duration,
    /// After a `shutdown` event, close once runs had this long to end.
    pub shutdown_close_after: Duration,
}

impl Limits {
    pub fn from_config(cfg: &ServerConfig) -> Limits {
        Limits {
            handshake_timeout: Duration::from_millis(cfg.handshake_timeout_ms.max(1)),
            tick_interval: Duration::from_millis(cfg.tick_interval_ms.max(1)),
            max_payload: cfg.max_payload_bytes,
            max_buffered: cfg.max_buffered_bytes,
            idle_ping: Duration::from_secs(30),
            idle_close: Duration::from_secs(60),
            max_in_flight: 16,
            malformed_max: 20,
            malformed_window: Duration::from_secs(10),
            shutdown_close_after: Duration::from_millis(cfg.shutdown_grace_ms + 500),
        }
    }
}

/// The live bridge sockets of one listener: how many are open (the graceful stop waits for
/// them) and how many have not completed `connect` (bounded by
/// `server.max_unauthenticated_connections`).
#[derive(Debug)]
pub struct SocketCounts {
    open: AtomicUsize,
    unauthenticated: AtomicUsize,
    max_unauthenticated: usize,
    changed: Notify,
}

impl SocketCounts {
    pub fn new(max_unauthenticated: usize) -> Arc<SocketCounts> {
        Arc::new(SocketCounts {
            open: AtomicUsize::new(0),
            unauthenticated: AtomicUsize::new(0),
            max_unauthenticated: max_unauthenticated.max(1),
            changed: Notify::new(),
        })
    }

    /// A slot for a new socket, or `None` when the unauthenticated ones are at their cap.
    pub fn admit(self: &Arc<Self>) -> Option<SocketSlot> {
        let admitted = self
            .unauthenticated
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_unauthenticated).then_some(n + 1)
            })
            .is_ok();
        if !admitted {
            return None;
        }
        self.open.fetch_add(1, Ordering::AcqRel);
        Some(SocketSlot {
            counts: self.clone(),
            authenticated: AtomicBool::new(false),
        })
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    pub fn unauthenticated(&self) -> usize {
        self.unauthenticated.load(Ordering::Acquire)
    }

    pub fn max_unauthenticated(&self) -> usize {
        self.max_unauthenticated
    }

    /// Waits until no socket is open, at most `limit`; true when they all closed.
    pub async fn wait_closed(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.changed.notified();
            if self.open() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.open() == 0;
            }
        }
    }
}

/// One socket's place in [`SocketCounts`]; released when dropped.
#[derive(Debug)]
pub struct SocketSlot {
    counts: Arc<SocketCounts>,
    authenticated: AtomicBool,
}

impl SocketSlot {
    /// `connect` succeeded: the socket no longer counts against the unauthenticated cap.
    pub fn authenticated(&self) {
        if !self.authenticated.swap(true, Ordering::AcqRel) {
            self.counts.unauthenticated.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        self.authenticated();
        self.counts.open.fetch_sub(1, Ordering::AcqRel);
        self.counts.changed.notify_waiters();
    }
}

/// Counts malformed frames in a sliding window.
pub struct MalformedWindow {
    hits: VecDeque<Instant>,
    max: usize,
    window: Duration,
}

impl MalformedWindow {
    pub fn new(max: usize, window: Duration) -> Self {
        MalformedWindow {
            hits: VecDeque::new(),
            max,
            window,
        }
    }

    /// Records one malformed frame at `now`; true when more than `max` fell in the window.
    pub fn record(&mut self, now: Instant) -> bool {
        while self
            .hits
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.window)
        {
            self.hits.pop_front();
        }
        self.hits.push_back(now);
        self.hits.len() > self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unauthenticated_cap_counts_sockets_until_connect_succeeds() {
        let counts = SocketCounts::new(2);
        let a = counts.admit().unwrap();
        let b = counts.admit().unwrap();
        assert!(
            counts.admit().is_none(),
            "a third unauthenticated socket is refused"
        );
        a.authenticated();
        a.authenticated();
        assert_eq!((counts.open(), counts.unauthenticated()), (2, 1));
        let c = counts
            .admit()
            .expect("an authenticated socket frees its place");
        drop(b);
        drop(c);
        assert_eq!((counts.open(), counts.unauthenticated()), (1, 0));
        drop(a);
        assert_eq!(counts.open(), 0);
    }

    #[test]
    fn more_than_max_in_the_window_trips_but_old_hits_expire() {
        let t0 = Instant::now();
        let mut w = MalformedWindow::new(20, Duration::from_secs(10));
        for i in 0..20 {
            assert!(
                !w.record(t0 + Duration::from_millis(i)),
                "20 malformed frames are tolerated"
            );
        }
        assert!(
            w.record(t0 + Duration::from_millis(20)),
            "the 21st within 10 s trips"
        );
        let mut w = MalformedWindow::new(20, Duration::from_secs(10));
        for i in 0..40 {
            assert!(
                !w.record(t0 + Duration::from_secs(i)),
                "one per second never trips"
            );
        }
    }
}
