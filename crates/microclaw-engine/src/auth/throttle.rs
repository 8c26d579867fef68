//! The login throttle: at most `max_attempts` per `window` per client address. Over the
//! limit the wait is the time until the oldest attempt leaves the window.

use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};

#[derive(Debug, Default)]
pub struct LoginThrottle {
    attempts: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl LoginThrottle {
    /// Records an attempt for `client`; Err(ms to wait) when over the limit (not recorded).
    pub fn attempt(
        &self,
        client: &str,
        max_attempts: u32,
        window_ms: i64,
        now_ms: i64,
    ) -> Result<(), u64> {
        let mut map = self.attempts.lock();
        if map.len() > 10_000 {
            // Bound memory under a flood of distinct addresses: drop clients with no recent attempt.
            map.retain(|_, q| q.back().is_some_and(|t| now_ms - t < window_ms));
        }
        let q = map.entry(client.to_string()).or_default();
        while q.front().is_some_and(|t| now_ms - t >= window_ms) {
            q.pop_front();
        }
        if q.len() >= max_attempts as usize {
            let oldest = q.front().copied().unwrap_or(now_ms);
            return Err((oldest + window_ms - now_ms).max(1) as u64);
        }
        q.push_back(now_ms);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_the_limit_waits_until_the_oldest_attempt_leaves_the_window() {
        let t = LoginThrottle::default();
        for i in 0..5 {
            assert!(t.attempt("1.2.3.4", 5, 60_000, i * 1000).is_ok());
        }
        assert_eq!(t.attempt("1.2.3.4", 5, 60_000, 10_000), Err(50_000));
        assert!(
            t.attempt("5.6.7.8", 5, 60_000, 10_000).is_ok(),
            "another client has its own bucket"
        );
        assert!(
            t.attempt("1.2.3.4", 5, 60_000, 60_000).is_ok(),
            "after the cooldown it passes"
        );
    }
}
