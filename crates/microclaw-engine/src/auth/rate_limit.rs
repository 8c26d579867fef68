//! A token bucket per API key: `limit` requests per 60 s, refilled continuously.

use parking_lot::Mutex;
use std::collections::HashMap;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

#[derive(Debug, Default)]
pub struct KeyRateLimiter {
    buckets: Mutex<HashMap<i64, Bucket>>,
}

impl KeyRateLimiter {
    /// Takes one token for `key_id`; Err(ms until one is available) when empty.
    pub fn check(&self, key_id: i64, limit_per_minute: u32, now_ms: i64) -> Result<(), u64> {
        let cap = f64::from(limit_per_minute.max(1));
        let per_ms = cap / 60_000.0;
        let mut buckets = self.buckets.lock();
        let b = buckets.entry(key_id).or_insert(Bucket {
            tokens: cap,
            at_ms: now_ms,
        });
        let elapsed = (now_ms - b.at_ms).max(0) as f64;
        b.tokens = (b.tokens + elapsed * per_ms).min(cap);
        b.at_ms = now_ms;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / per_ms).ceil() as u64)
        }
    }

    pub fn forget(&self, key_id: i64) {
        self.buckets.lock().remove(&key_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses_with_the_wait_until_a_token_refills() {
        let l = KeyRateLimiter::default();
        for _ in 0..10 {
            assert!(l.check(1, 10, 0).is_ok());
        }
        let wait = l.check(1, 10, 0).unwrap_err();
        assert_eq!(wait, 6000, "10/min refills one token every 6 s");
        assert!(
            l.check(1, 10, 6000).is_ok(),
            "after the wait one request passes"
        );
        assert!(l.check(2, 10, 0).is_ok(), "buckets are per key");
    }
}
