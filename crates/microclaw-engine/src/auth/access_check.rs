//! Access checks that hold from every path: a credential accepted once (a bridge connect, an
//! HTTP request) is re-checked against the database on every later request.
//!
//! The database carries three counters (`api_keys_revision`, `auth_revision`,
//! `password_revision`) that every key insert/revoke, login-session revoke and password change
//! bumps — from this process or any other (the offline CLI). They are re-read at most every
//! [`COUNTER_TTL`]; rows are re-read only when a counter moved. So a revocation anywhere
//! bites within about [`COUNTER_TTL`], at the cost of one tiny query per interval.

use crate::engine::Engine;
use crate::principal::{Principal, PrincipalKind};
use microclaw_core::{Error, Result};
use microclaw_store::login_sessions::AuthCounters;
use microclaw_store::{ApiKeyRow, LoginSessionRow, Store};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long the counters read from the database are trusted (real time, not the engine
/// clock: it bounds how late another process's change is noticed).
pub const COUNTER_TTL: Duration = Duration::from_millis(100);
/// Cached rows per map before the map is dropped (bounds memory under garbage credentials).
const MAX_CACHED: usize = 10_000;

/// Rows cached for one value of a counter; dropped when the counter moves.
#[derive(Debug)]
struct Rows<K, V> {
    revision: i64,
    rows: HashMap<K, Option<V>>,
}

impl<K: std::hash::Hash + Eq, V: Clone> Rows<K, V> {
    fn get(&mut self, revision: i64, key: &K) -> Option<Option<V>> {
        if self.revision != revision {
            self.rows.clear();
            self.revision = revision;
        }
        self.rows.get(key).cloned()
    }
    fn put(&mut self, revision: i64, key: K, row: Option<V>) {
        if self.revision != revision {
            return;
        }
        if self.rows.len() >= MAX_CACHED {
            self.rows.clear();
        }
        self.rows.insert(key, row);
    }
}

impl<K, V> Default for Rows<K, V> {
    fn default() -> Self {
        Rows {
            revision: -1,
            rows: HashMap::new(),
        }
    }
}

#[derive(Debug, Default)]
pub struct AccessCache {
    counters: Mutex<Option<(Instant, AuthCounters)>>,
    keys_by_hash: Mutex<Rows<String, ApiKeyRow>>,
    keys_by_id: Mutex<Rows<i64, ApiKeyRow>>,
    sessions: Mutex<Rows<String, LoginSessionRow>>,
}

impl AccessCache {
    /// The counters, from memory when read less than [`COUNTER_TTL`] ago.
    pub async fn counters(&self, store: &Store) -> Result<AuthCounters> {
        if let Some((at, c)) = *self.counters.lock() {
            if at.elapsed() < COUNTER_TTL {
                return Ok(c);
            }
        }
        let c = store.read_async(|s| s.auth_counters()).await?;
        *self.counters.lock() = Some((Instant::now(), c));
        Ok(c)
    }

    /// Makes the next check re-read the counters (after a change made in this process).
    pub fn invalidate(&self) {
        *self.counters.lock() = None;
    }

    pub async fn key_by_hash(&self, store: &Store, hash: &str) -> Result<Option<ApiKeyRow>> {
        let rev = self.counters(store).await?.api_keys;
        if let Some(hit) = self.keys_by_hash.lock().get(rev, &hash.to_string()) {
            return Ok(hit);
        }
        let h = hash.to_string();
        let row = store.read_async(move |s| s.api_key_by_hash(&h)).await?;
        // Unknown hashes are not cached: a flood of bad keys must not evict good ones.
        if row.is_some() {
            self.keys_by_hash
                .lock()
                .put(rev, hash.to_string(), row.clone());
        }
        Ok(row)
    }

    pub async fn key_by_id(&self, store: &Store, id: i64) -> Result<Option<ApiKeyRow>> {
        let rev = self.counters(store).await?.api_keys;
        if let Some(hit) = self.keys_by_id.lock().get(rev, &id) {
            return Ok(hit);
        }
        let row = store.read_async(move |s| s.api_key_get(id)).await?;
        self.keys_by_id.lock().put(rev, id, row.clone());
        Ok(row)
    }

    pub async fn login_session(
        &self,
        store: &Store,
        id_hash: &str,
    ) -> Result<Option<LoginSessionRow>> {
        let rev = self.counters(store).await?.auth;
        if let Some(hit) = self.sessions.lock().get(rev, &id_hash.to_string()) {
            return Ok(hit);
        }
        let h = id_hash.to_string();
        let row = store.read_async(move |s| s.login_session_get(&h)).await?;
        if row.is_some() {
            self.sessions
                .lock()
                .put(rev, id_hash.to_string(), row.clone());
        }
        Ok(row)
    }
}

/// UNAUTHORIZED unless the login session row is live at `now`.
pub(crate) fn check_session(row: Option<&LoginSessionRow>, now: i64) -> Result<()> {
    match row {
        Some(r) if r.revoked_at.is_none() && r.expires_at > now => Ok(()),
        Some(_) => Err(Error::unauthorized(
            "login session expired or revoked: log in again",
        )),
        None => Err(Error::unauthorized("invalid session cookie")),
    }
}

impl Engine {
    /// Ok while the credential behind `p` is still valid: API key not revoked, not expired,
    /// not rotated away; login session alive; password principal not older than the last
    /// password change. Sees changes made by other processes (offline CLI) through the
    /// database, with a short cache ([`COUNTER_TTL`]). Errors are UNAUTHORIZED.
    pub async fn recheck_principal(&self, p: &Principal) -> Result<()> {
        let now = self.now_ms();
        let access = &self.api_keys.access;
        match &p.kind {
            PrincipalKind::Launch => Ok(()),
            PrincipalKind::ApiKey { id } => {
                if p.stamp.expires_at.is_some_and(|e| e <= now) {
                    return Err(Error::unauthorized("API key has expired"));
                }
                match access.key_by_id(self.store(), *id).await? {
                    Some(row) => crate::auth::api_keys::check_row(&row, now),
                    None => Err(Error::unauthorized("API key no longer exists")),
                }
            }
            PrincipalKind::LoginSession { id_hash } => {
                if p.stamp.expires_at.is_some_and(|e| e <= now) {
                    return Err(Error::unauthorized(
                        "login session expired or revoked: log in again",
                    ));
                }
                let row = access.login_session(self.store(), id_hash).await?;
                check_session(row.as_ref(), now)
            }
            PrincipalKind::Password => {
                let current = access.counters(self.store()).await?.password;
                if current != p.stamp.password_revision {
                    return Err(Error::unauthorized(
                        "the operator password was changed: connect again with the new password",
                    ));
                }
                Ok(())
            }
        }
    }

    /// The per-key request limit for one request (bridge requests and HTTP alike):
    /// `auth.api_key_rate_limit_per_minute` per key per 60 s, `0` = off. Err RATE_LIMITED
    /// with `retry_after_ms` when over. Launch, password and login-session principals are
    /// not limited.
    pub fn charge_request(&self, p: &Principal) -> Result<()> {
        let PrincipalKind::ApiKey { id } = p.kind else {
            return Ok(());
        };
        let limit = self.config().auth.api_key_rate_limit_per_minute;
        if limit == 0 {
            return Ok(());
        }
        self.api_keys
            .limiter
            .check(id, limit, self.now_ms())
            .map_err(|wait_ms| {
                Error::rate_limited(
                    format!(
                        "API key rate limit of {limit} requests per 60 s exceeded: retry in {} s",
                        wait_ms.div_ceil(1000)
                    ),
                    wait_ms,
                )
            })
    }
}
