//! Credentials: API keys (keyed hash, constant-time compare, scopes, per-key rate limit),
//! the operator password (Argon2id), login sessions with CSRF, the login throttle, and the
//! re-check of an accepted credential on every later request (`access_check`).

pub mod access_check;
pub mod api_keys;
pub mod login_sessions;
pub mod passwords;
pub mod rate_limit;
pub mod secret;
pub mod throttle;

use rand::RngCore;

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}
