//! API keys: `mk_` + 32 hex, stored only as HMAC-SHA-256 under the installation secret and
//! compared in constant time. Validated keys are cached; the cache follows the store's key
//! revision, so a key created or revoked by another process (the offline CLI) takes effect at once.

use super::rate_limit::KeyRateLimiter;
use crate::principal::{Principal, PrincipalKind};
use hmac::{Hmac, Mac};
use microclaw_core::{Error, ScopeSet};
use microclaw_store::{ApiKeyRow, Store};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use sha2::Sha256;
use std::collections::HashMap;
use subtle::ConstantTimeEq;

const DAY_MS: i64 = 86_400_000;
/// How often the store's key revision is re-read on the authentication path.
const REVISION_CHECK_MS: i64 = 50;
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

#[derive(Debug)]
struct CacheState {
    revision: i64,
    checked_at: i64,
    keys: HashMap<String, ApiKeyRow>,
}

pub struct ApiKeys {
    secret: Vec<u8>,
    cache: RwLock<CacheState>,
    limiter: KeyRateLimiter,
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

impl ApiKeys {
    pub fn new(secret: Vec<u8>) -> ApiKeys {
        ApiKeys {
            secret,
            cache: RwLock::new(CacheState {
                revision: -1,
                checked_at: i64::MIN,
                keys: HashMap::new(),
            }),
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

    /// Creates a key; the raw key is returned once and never stored.
    pub fn create(
        &self,
        store: &Store,
        label: &str,
        scopes: ScopeSet,
        expires_days: Option<u32>,
        rotated_from: Option<i64>,
        now: i64,
    ) -> Result<CreatedKey, Error> {
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
                "scopes is empty: expected at least one of operator.read, operator.write, operator.admin, operator.approvals",
            ));
        }
        if let Some(d) = expires_days {
            if !(1..=3650).contains(&d) {
                return Err(Error::invalid(format!(
                    "expires_days = {d}: expected 1..3650"
                )));
            }
        }
        let raw = format!("mk_{}", super::random_hex(16));
        let prefix = raw[..11].to_string();
        let expires_at = expires_days.map(|d| now + i64::from(d) * DAY_MS);
        let row = store.api_key_insert(
            label,
            &prefix,
            &self.hash(&raw),
            scopes,
            expires_at,
            rotated_from,
            now,
        )?;
        Ok(CreatedKey {
            id: row.id,
            api_key: raw,
            prefix,
            scopes: scopes.to_strings(),
            expires_at,
            label: label.to_string(),
        })
    }

    /// Validates a raw key: shape, known, not revoked, not expired, within its rate limit.
    pub fn authenticate(
        &self,
        store: &Store,
        raw: &str,
        limit_per_minute: u32,
        now: i64,
    ) -> Result<Principal, Error> {
        if !looks_like_key(raw) {
            return Err(Error::unauthorized(
                "invalid API key: expected mk_ followed by 32 hex characters",
            ));
        }
        let hash = self.hash(raw);
        let row = self.lookup(store, &hash, now)?;
        let Some(row) = row else {
            return Err(Error::unauthorized("invalid API key"));
        };
        if !bool::from(row.key_hash.as_bytes().ct_eq(hash.as_bytes())) {
            return Err(Error::unauthorized("invalid API key"));
        }
        if row.revoked_at.is_some() {
            return Err(Error::unauthorized("API key has been revoked"));
        }
        if row.expires_at.is_some_and(|e| e <= now) {
            return Err(Error::unauthorized("API key has expired"));
        }
        if let Err(wait_ms) = self.limiter.check(row.id, limit_per_minute, now) {
            return Err(Error::rate_limited(
                format!(
                    "API key rate limit of {limit_per_minute} requests per 60 s exceeded: retry in {} s",
                    wait_ms.div_ceil(1000)
                ),
                wait_ms,
            ));
        }
        self.touch(store, row.id, now);
        Ok(Principal {
            kind: PrincipalKind::ApiKey { id: row.id },
            scopes: row.scopes,
            actor: format!("key:{}", row.id),
            csrf: None,
        })
    }

    fn lookup(&self, store: &Store, hash: &str, now: i64) -> Result<Option<ApiKeyRow>, Error> {
        {
            let c = self.cache.read();
            if now.saturating_sub(c.checked_at) < REVISION_CHECK_MS {
                if let Some(r) = c.keys.get(hash) {
                    return Ok(Some(r.clone()));
                }
            }
        }
        let revision = store.api_keys_revision()?;
        let mut c = self.cache.write();
        if revision != c.revision {
            c.keys.clear();
            c.revision = revision;
        }
        c.checked_at = now;
        if let Some(r) = c.keys.get(hash) {
            return Ok(Some(r.clone()));
        }
        let row = store.api_key_by_hash(hash)?;
        if let Some(r) = &row {
            c.keys.insert(hash.to_string(), r.clone());
        }
        Ok(row)
    }

    /// Forgets cached rows (after a revoke in this process).
    pub fn invalidate(&self) {
        let mut c = self.cache.write();
        c.keys.clear();
        c.checked_at = i64::MIN;
    }

    pub fn forget_limits(&self, key_id: i64) {
        self.limiter.forget(key_id);
    }

    fn touch(&self, store: &Store, id: i64, now: i64) {
        {
            let mut t = self.last_touch.lock();
            if t.get(&id).is_some_and(|at| now - at < TOUCH_INTERVAL_MS) {
                return;
            }
            t.insert(id, now);
        }
        if let Err(e) = store.api_key_touch(id, now) {
            tracing::debug!("could not record last use of key {id}: {e}");
        }
    }
}
