//! API key operations: list, create, revoke, rotate (async for the transports, `*_blocking`
//! for the offline CLI and tests).

use crate::audit::{self, kind};
use crate::auth::api_keys::{self, CreatedKey, DAY_MS};
use crate::engine::Engine;
use crate::events::EngineEvent;
use microclaw_core::{Error, Result, ScopeSet};
use microclaw_store::ApiKeyRow;
use serde_json::{json, Value};

/// One key as listed (no secret).
pub fn key_json(k: &ApiKeyRow) -> Value {
    json!({"id": k.id, "label": k.label, "prefix": k.prefix, "scopes": k.scopes.to_strings(),
           "created_at": k.created_at, "expires_at": k.expires_at, "last_used_at": k.last_used_at,
           "revoked_at": k.revoked_at, "rotated_from_key_id": k.rotated_from_key_id})
}

pub async fn keys_list(engine: &Engine) -> Result<Vec<Value>> {
    let rows = engine.store().read_async(|s| s.api_keys_list()).await?;
    Ok(rows.iter().map(key_json).collect())
}

fn created_detail(k: &CreatedKey) -> Value {
    json!({"label": k.label, "scopes": k.scopes, "prefix": k.prefix, "expires_at": k.expires_at})
}

pub async fn key_create(
    engine: &Engine,
    actor: &str,
    label: &str,
    scopes: &[String],
    expires_days: Option<u32>,
) -> Result<CreatedKey> {
    let set = ScopeSet::parse_list(scopes)?;
    api_keys::validate_expires_days(expires_days)?;
    let now = engine.now_ms();
    let k = engine.api_keys.prepare(
        label,
        set,
        expires_days.map(|d| now + i64::from(d) * DAY_MS),
    )?;
    let p = k.clone();
    let row = engine
        .store()
        .write_async(move |s| {
            s.api_key_insert(
                &p.label,
                &p.prefix,
                &p.hash,
                p.scopes,
                p.expires_at,
                None,
                now,
            )
        })
        .await?;
    engine.api_keys.invalidate();
    let created = k.created(row.id);
    let target = created.id.to_string();
    audit::record(
        engine,
        kind::KEY_CREATED,
        actor,
        Some(&target),
        created_detail(&created),
    )
    .await;
    Ok(created)
}

/// `key_create` on the calling thread (offline CLI, tests).
pub fn key_create_blocking(
    engine: &Engine,
    actor: &str,
    label: &str,
    scopes: &[String],
    expires_days: Option<u32>,
) -> Result<CreatedKey> {
    let set = ScopeSet::parse_list(scopes)?;
    let created = engine.api_keys.create_blocking(
        engine.store(),
        label,
        set,
        expires_days,
        engine.now_ms(),
    )?;
    let target = created.id.to_string();
    let detail = created_detail(&created);
    audit::record_blocking(engine, kind::KEY_CREATED, actor, Some(&target), detail);
    Ok(created)
}

fn after_revoke(engine: &Engine, id: i64) {
    engine.api_keys.invalidate();
    engine.api_keys.forget_limits(id);
    engine.emit(EngineEvent::KeyRevoked { key_id: id });
}

pub async fn key_revoke(engine: &Engine, actor: &str, id: i64) -> Result<bool> {
    let now = engine.now_ms();
    let revoked = engine
        .store()
        .write_async(move |s| s.api_key_revoke(id, now))
        .await?;
    if revoked {
        after_revoke(engine, id);
        let target = id.to_string();
        audit::record(engine, kind::KEY_REVOKED, actor, Some(&target), json!({})).await;
    }
    Ok(revoked)
}

/// `key_revoke` on the calling thread (offline CLI). A running gateway sees the revocation
/// through the database within a second and closes the key's sockets.
pub fn key_revoke_blocking(engine: &Engine, actor: &str, id: i64) -> Result<bool> {
    let revoked = engine.store().api_key_revoke(id, engine.now_ms())?;
    if revoked {
        after_revoke(engine, id);
        let target = id.to_string();
        audit::record_blocking(engine, kind::KEY_REVOKED, actor, Some(&target), json!({}));
    }
    Ok(revoked)
}

/// The new key's expiry: `expires_days` from now when given; otherwise the old key's
/// period (expiry − creation) counted from now (decisions.md); none when the old had none.
pub fn rotated_expiry(old: &ApiKeyRow, expires_days: Option<u32>, now: i64) -> Result<Option<i64>> {
    api_keys::validate_expires_days(expires_days)?;
    Ok(match expires_days {
        Some(d) => Some(now + i64::from(d) * DAY_MS),
        None => old
            .expires_at
            .map(|e| now + (e - old.created_at).max(DAY_MS)),
    })
}

/// Issues a new key (label/scopes default to the old key's) and revokes the old one, in one
/// transaction.
pub async fn key_rotate(
    engine: &Engine,
    actor: &str,
    id: i64,
    label: Option<&str>,
    scopes: Option<&[String]>,
    expires_days: Option<u32>,
) -> Result<CreatedKey> {
    let old = engine
        .store()
        .read_async(move |s| s.api_key_get(id))
        .await?
        .ok_or_else(|| Error::not_found(format!("API key {id} not found")))?;
    if old.revoked_at.is_some() {
        return Err(Error::conflict(format!(
            "API key {id} is already revoked: create a new key instead"
        )));
    }
    let set = match scopes {
        Some(s) => ScopeSet::parse_list(s)?,
        None => old.scopes,
    };
    let now = engine.now_ms();
    let expires_at = rotated_expiry(&old, expires_days, now)?;
    let k = engine
        .api_keys
        .prepare(label.unwrap_or(&old.label), set, expires_at)?;
    let p = k.clone();
    let row = engine
        .store()
        .write_async(move |s| {
            s.api_key_rotate(
                id,
                &p.label,
                &p.prefix,
                &p.hash,
                p.scopes,
                p.expires_at,
                now,
            )
        })
        .await?;
    after_revoke(engine, id);
    let created = k.created(row.id);
    let target = id.to_string();
    audit::record(
        engine,
        kind::KEY_REVOKED,
        actor,
        Some(&target),
        json!({"rotated": true}),
    )
    .await;
    let detail = json!({"new_id": created.id, "expires_at": created.expires_at});
    audit::record(engine, kind::KEY_ROTATED, actor, Some(&target), detail).await;
    Ok(created)
}
