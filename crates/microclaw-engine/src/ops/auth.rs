//! Auth operations: first-run setup, password, login/logout, API keys.

use crate::audit::{self, kind};
use crate::auth::api_keys::CreatedKey;
use crate::auth::login_sessions::{self, NewLoginSession};
use crate::auth::passwords;
use crate::engine::Engine;
use crate::events::EngineEvent;
use crate::principal::{Principal, PrincipalKind};
use microclaw_core::{Error, Result, Scope, ScopeSet};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

pub fn auth_status(engine: &Engine, who: Option<&Principal>) -> Result<Value> {
    let has_password = passwords::has_password(engine.store())?;
    Ok(json!({
        "ok": true,
        "authenticated": who.is_some(),
        "has_password": has_password,
        "setup_required": !has_password,
    }))
}

/// Checks the operator password for `client` under the login throttle; failures are audited.
pub fn check_password(engine: &Engine, client: &str, password: &str) -> Result<()> {
    let cfg = &engine.config().auth;
    let window_ms = cfg.login_window_seconds as i64 * 1000;
    if let Err(wait_ms) =
        engine
            .login_throttle
            .attempt(client, cfg.login_max_attempts, window_ms, engine.now_ms())
    {
        let secs = wait_ms.div_ceil(1000);
        return Err(Error::rate_limited(
            format!(
                "too many login attempts: retry in {secs} s (cooldown window {} s)",
                cfg.login_window_seconds
            ),
            wait_ms,
        )
        .with_details(json!({"code": "AUTH_RATE_LIMITED"})));
    }
    if passwords::verify(engine.store(), password)? {
        Ok(())
    } else {
        audit::record(engine, kind::LOGIN_FAILED, client, None, json!({}));
        Err(Error::unauthorized("invalid credentials"))
    }
}

/// `POST /api/auth/login`: a new login session for the cookie.
pub fn login(
    engine: &Engine,
    client: &str,
    password: &str,
    label: Option<&str>,
    remember_days: Option<u32>,
) -> Result<NewLoginSession> {
    check_password(engine, client, password)?;
    let days = remember_days.unwrap_or(engine.config().auth.session_remember_days);
    let s = login_sessions::create(engine.store(), label, days, engine.now_ms())?;
    audit::record(
        engine,
        kind::LOGIN_OK,
        client,
        None,
        json!({"label": label}),
    );
    Ok(s)
}

pub fn logout(engine: &Engine, session_id: &str) -> Result<bool> {
    let id_hash = login_sessions::hash_id(session_id);
    let revoked = engine
        .store()
        .login_session_revoke(&id_hash, engine.now_ms())?;
    if revoked {
        audit::record(engine, kind::LOGOUT, "session", None, json!({}));
        engine.emit(EngineEvent::LoginSessionRevoked { id_hash });
    }
    Ok(revoked)
}

/// Sets the password with the one-time setup token or as an admin. Other login sessions
/// are revoked (the caller's own is kept).
pub fn set_password(
    engine: &Engine,
    who: Option<&Principal>,
    setup_token: Option<&str>,
    password: &str,
) -> Result<()> {
    let by_setup = match (setup_token, engine.setup_token()) {
        (Some(given), Some(open)) => bool::from(given.trim().as_bytes().ct_eq(open.as_bytes())),
        _ => false,
    };
    let actor = match who {
        Some(p) if p.scopes.allows(Scope::Admin) => p.actor.clone(),
        Some(p) if !by_setup => return p.require(Scope::Admin).map(|_| ()),
        _ if by_setup => "setup".to_string(),
        _ if setup_token.is_some() => {
            return Err(Error::unauthorized("invalid or used setup token"))
        }
        _ => {
            return Err(Error::unauthorized(
                "setting the password needs x-setup-token or an admin credential",
            ))
        }
    };
    passwords::set(engine.store(), password)?;
    engine.close_setup();
    let keep = match who.map(|p| &p.kind) {
        Some(PrincipalKind::LoginSession { id_hash }) => Some(id_hash.as_str()),
        _ => None,
    };
    let revoked = engine
        .store()
        .login_sessions_revoke_all_except(keep, engine.now_ms())?;
    audit::record(
        engine,
        kind::PASSWORD_CHANGED,
        &actor,
        None,
        json!({"sessions_revoked": revoked}),
    );
    Ok(())
}

pub fn keys_list(engine: &Engine) -> Result<Vec<Value>> {
    Ok(engine
        .store()
        .api_keys_list()?
        .into_iter()
        .map(|k| {
            json!({"id": k.id, "label": k.label, "prefix": k.prefix, "scopes": k.scopes.to_strings(),
                   "created_at": k.created_at, "expires_at": k.expires_at, "last_used_at": k.last_used_at,
                   "revoked_at": k.revoked_at, "rotated_from_key_id": k.rotated_from_key_id})
        })
        .collect())
}

pub fn key_create(
    engine: &Engine,
    actor: &str,
    label: &str,
    scopes: &[String],
    expires_days: Option<u32>,
) -> Result<CreatedKey> {
    let set = ScopeSet::parse_list(scopes)?;
    let created = engine.api_keys.create(
        engine.store(),
        label,
        set,
        expires_days,
        None,
        engine.now_ms(),
    )?;
    audit::record(
        engine,
        kind::KEY_CREATED,
        actor,
        Some(&created.id.to_string()),
        json!({"label": created.label, "scopes": created.scopes, "prefix": created.prefix}),
    );
    Ok(created)
}

pub fn key_revoke(engine: &Engine, actor: &str, id: i64) -> Result<bool> {
    let revoked = engine.store().api_key_revoke(id, engine.now_ms())?;
    if revoked {
        engine.api_keys.invalidate();
        engine.api_keys.forget_limits(id);
        audit::record(
            engine,
            kind::KEY_REVOKED,
            actor,
            Some(&id.to_string()),
            json!({}),
        );
        engine.emit(EngineEvent::KeyRevoked { key_id: id });
    }
    Ok(revoked)
}

/// Issues a new key (label/scopes default to the old key's) and revokes the old one.
pub fn key_rotate(
    engine: &Engine,
    actor: &str,
    id: i64,
    label: Option<&str>,
    scopes: Option<&[String]>,
    expires_days: Option<u32>,
) -> Result<CreatedKey> {
    let old = engine
        .store()
        .api_key_get(id)?
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
    let label = label.unwrap_or(&old.label);
    let created = engine.api_keys.create(
        engine.store(),
        label,
        set,
        expires_days,
        Some(id),
        engine.now_ms(),
    )?;
    key_revoke(engine, actor, id)?;
    audit::record(
        engine,
        kind::KEY_ROTATED,
        actor,
        Some(&id.to_string()),
        json!({"new_id": created.id}),
    );
    Ok(created)
}
