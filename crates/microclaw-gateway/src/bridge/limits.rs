//! Per-connection limits and timers (§5), from the server config plus fixed keep-alive rules.

use microclaw_core::config::ServerConfig;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

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
