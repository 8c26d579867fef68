//! API keys: `mk_` + 32 hex, stored only as HMAC-SHA-256 under the installation secret and
//! compared in constant time. Lookups go through the [`AccessCache`], which follows the
//! store's key revision, so a key created or revoked by another process (the offline CLI)
//! takes effect within its refresh interval.

use super::access_check::AccessCache;
use super::rate_limit::KeyRateLimiter;
use crate::principal::{AuthStamp, Principal, PrincipalKind};
use hmac::{Hmac, Mac};
use microclaw_core::{Error, ScopeSet};
use microclaw_store::{ApiKeyRow, Store};
use parking_lot::Mutex;
use serde::Serialize;
use sha2::Sha256;
use std::collections::HashMap;
use subtle::ConstantTimeEq;

pub const DAY_MS: i64 = 86_400_000;
/// `last_used_at` is written at most this often per key.
const TOUCH_INTERVAL_MS: i64 = 60_000;

#[derive(Debug, Clone, Serialize)]
pub struct CreatedKey {
    pub id: i64,
    pub api_key: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<i64>,
    pub label: String,
}

/// A validated new key, not yet stored.
#[derive(Debug, Clone)]
pub struct PreparedKey {
    pub raw: String,
    pub prefix: String,
    pub hash: String,
    pub label: String,
    pub scopes: ScopeSet,
    pub expires_at: Option<i64>,
}

impl PreparedKey {
    pub fn created(self, id: i64) -> CreatedKey {
        CreatedKey {
            id,
            api_key: self.raw,
            prefix: self.prefix,
            scopes: self.scopes.to_strings(),
            expires_at: self.expires_at,
            label: self.label,
        }
    }
}

pub struct ApiKeys {
    secret: Vec<u8>,
    pub(crate) access: AccessCache,
    pub(crate) limiter: KeyRateLimiter,
    last_touch: Mutex<HashMap<i64, i64>>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeys { secret: [redacted], .. }")
    }
}

/// True when `raw` has the shape of an API key.
pub fn looks_like_key(raw: &str) -> bool {
    raw.len() == 35 && raw.starts_with("mk_") && raw[3..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks `expires_days` (1..3650).
pub fn validate_expires_days(expires_days: Option<u32>) -> Result<(), Error> {
    match expires_days {
        Some(d) if !(1..=3650).contains(&d) => Err(Error::invalid(format!(
            "expires_days = {d}: expected 1..3650"
        ))),
        _ => Ok(()),
    }
}

/// The principal for a key row that passed every check.
pub(crate) fn key_principal(row: &ApiKeyRow, now: i64) -> Principal {
    Principal {
        kind: PrincipalKind::ApiKey { id: row.id },
        scopes: row.scopes,
        actor: format!("key:{}", row.id),
        csrf: None,
        stamp: AuthStamp {
            expires_at: row.expires_at,
            password_revision: 0,
            auth_at: now,
        },
    }
}

/// UNAUTHORIZED when the row is revoked or expired at `now`.
pub(crate) fn check_row(row: &ApiKeyRow, now: i64) -> Result<(), Error> {
    if row.revoked_at.is_some() {
        return Err(Error::unauthorized("API key has been revoked"));
    }
    if row.expires_at.is_some_and(|e| e <= now) {
        return Err(Error::unauthorized("API key has expired"));
    }
    Ok(())
}

impl ApiKeys {
    pub fn new(secret: Vec<u8>) -> ApiKeys {
        ApiKeys {
            secret,
            access: AccessCache::default(),
            limiter: KeyRateLimiter::default(),
            last_touch: Mutex::new(HashMap::new()),
        }
    }

    /// The keyed hash stored for a raw key.
    pub fn hash(&self, raw: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.secret) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        mac.update(raw.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Validates the request for a new key and draws its secret; nothing is stored yet.
    pub fn prepare(
        &self,
        label: &str,
        scopes: ScopeSet,
        expires_at: Option<i64>,
    ) -> Result<PreparedKey, Error> {
        let label = label.trim();
        if label.is_empty() {
            return Err(Error::invalid(
                "label is empty: expected a short name for the key",
            ));
        }
        if label.chars().count() > 128 {
            return Err(Error::invalid("label is longer than 128 characters"));
        }
        if scopes.is_empty() {
            return Err(Error::invalid(
                "scopes is empty: expected at least one of operator.read, operator.write, operator.admin, operator.approvals, operator.pairing",
            ));
        }
        let raw = format!("mk_{}", super::random_hex(16));
        Ok(PreparedKey {
            prefix: raw[..11].to_string(),
            hash: self.hash(&raw),
            raw,
            label: label.to_string(),
            scopes,
            expires_at,
        })
    }

    /// Creates a key on the calling thread (offline CLI, tests); the raw key is returned once.
    pub fn create_blocking(
        &self,
        store: &Store,
        label: &str,
        scopes: ScopeSet,
        expires_days: Option<u32>,
        now: i64,
    ) -> Result<CreatedKey, Error> {
        validate_expires_days(expires_days)?;
        let k = self.prepare(
            label,
            scopes,
            expires_days.map(|d| now + i64::from(d) * DAY_MS),
        )?;
        let row = store.api_key_insert(
            &k.label,
            &k.prefix,
            &k.hash,
            k.scopes,
            k.expires_at,
            None,
            now,
        )?;
        self.access.invalidate();
        Ok(k.created(row.id))
    }

    /// Validates a raw key: shape, known, not revoked, not expired. The per-request limit is
    /// charged separately ([`crate::Engine::charge_request`]).
    pub async fn authenticate(
        &self,
        store: &Store,
        raw: &str,
        now: i64,
    ) -> Result<Principal, Error> {
        if !looks_like_key(raw) {
            return Err(Error::unauthorized(
                "invalid API key: expected mk_ followed by 32 hex characters",
            ));
        }
        let hash = self.hash(raw);
        let Some(row) = self.access.key_by_hash(store, &hash).await? else {
            return Err(Error::unauthorized("invalid API key"));
        };
        if !bool::from(row.key_hash.as_bytes().ct_eq(hash.as_bytes())) {
            return Err(Error::unauthorized("invalid API key"));
        }
        check_row(&row, now)?;
        self.touch(store, row.id, now);
        Ok(key_principal(&row, now))
    }

    /// Forgets cached rows and counters (after a change made in this process).
    pub fn invalidate(&self) {
        self.access.invalidate();
    }

    pub fn forget_limits(&self, key_id: i64) {
        self.limiter.forget(key_id);
    }

    /// Records `last_used_at` in the background, at most once a minute per key.
    fn touch(&self, store: &Store, id: i64, now: i64) {
        {
            let mut t = self.last_touch.lock();
            if t.get(&id).is_some_and(|at| now - at < TOUCH_INTERVAL_MS) {
                return;
            }
            if t.len() > 10_000 {
                t.clear();
            }
            t.insert(id, now);
        }
        let store = store.clone();
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            if let Err(e) = store.write_async(move |s| s.api_key_touch(id, now)).await {
                tracing::debug!("could not record last use of key {id}: {e}");
            }
        });
    }
}
