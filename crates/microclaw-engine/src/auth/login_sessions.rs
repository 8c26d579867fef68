//! Browser login sessions: a random id in the `mc_session` cookie (stored only as SHA-256),
//! bound to a CSRF token sent back in `mc_csrf`.

use super::access_check::{check_session, AccessCache};
use crate::principal::{AuthStamp, Principal, PrincipalKind};
use microclaw_core::{Error, ScopeSet};
use microclaw_store::Store;
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Serialize)]
pub struct NewLoginSession {
    pub session_id: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

pub fn hash_id(session_id: &str) -> String {
    hex::encode(Sha256::digest(session_id.as_bytes()))
}

/// Stores a new login session through the writer thread.
pub async fn create(
    store: &Store,
    label: Option<&str>,
    remember_days: u32,
    now: i64,
) -> Result<NewLoginSession, Error> {
    let session_id = super::random_hex(32);
    let csrf_token = super::random_hex(16);
    let expires_at = now + i64::from(remember_days.clamp(1, 90)) * 86_400_000;
    let (h, c, l) = (
        hash_id(&session_id),
        csrf_token.clone(),
        label.map(str::to_string),
    );
    store
        .write_async(move |s| s.login_session_insert(&h, &c, l.as_deref(), expires_at, now))
        .await?;
    Ok(NewLoginSession {
        session_id,
        csrf_token,
        expires_at,
    })
}

/// The principal of a live login session, or UNAUTHORIZED.
pub async fn authenticate(
    access: &AccessCache,
    store: &Store,
    session_id: &str,
    now: i64,
) -> Result<Principal, Error> {
    if session_id.is_empty() || session_id.len() > 128 {
        return Err(Error::unauthorized("invalid session cookie"));
    }
    let id_hash = hash_id(session_id);
    let row = access.login_session(store, &id_hash).await?;
    check_session(row.as_ref(), now)?;
    let Some(r) = row else {
        return Err(Error::unauthorized("invalid session cookie"));
    };
    Ok(Principal {
        kind: PrincipalKind::LoginSession { id_hash },
        scopes: ScopeSet::all(),
        actor: "session".into(),
        csrf: Some(r.csrf),
        stamp: AuthStamp {
            expires_at: Some(r.expires_at),
            password_revision: 0,
            auth_at: now,
        },
    })
}
