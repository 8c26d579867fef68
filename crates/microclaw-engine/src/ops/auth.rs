//! Auth operations: first-run setup, password, login/logout; API keys in `auth/keys.rs`. The `async fn`s are
//! what the transports call (store work on the writer thread / read pool, Argon2 on the
//! bounded blocking pool); the `*_blocking` ones are for the offline CLI and tests.

mod keys;

pub use keys::{
    key_create, key_create_blocking, key_json, key_revoke, key_revoke_blocking, key_rotate,
    keys_list, rotated_expiry,
};

use crate::audit::{self, kind};
use crate::auth::login_sessions::{self, NewLoginSession};
use crate::auth::passwords::{self, PASSWORD_SETTING};
use crate::engine::Engine;
use crate::events::EngineEvent;
use crate::principal::{Principal, PrincipalKind};
use microclaw_core::{Error, ErrorCode, Result, Scope};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

pub async fn auth_status(engine: &Engine, who: Option<&Principal>) -> Result<Value> {
    let has_password = passwords::has_password_async(engine.store()).await?;
    if has_password {
        engine.close_setup();
    }
    Ok(json!({
        "ok": true,
        "authenticated": who.is_some(),
        "has_password": has_password,
        "setup_required": !has_password,
    }))
}

/// Checks the operator password for `client` under the login throttle; failures are
/// audited. Ok carries the password revision it was checked against.
pub async fn check_password(engine: &Engine, client: &str, password: &str) -> Result<i64> {
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
    let (phc, revision) = engine
        .store()
        .read_async(|s| s.password_state(PASSWORD_SETTING))
        .await?;
    let ok = match phc {
        Some(phc) => passwords::verify_async(phc, password).await?,
        None => false,
    };
    if ok {
        Ok(revision)
    } else {
        audit::record(engine, kind::LOGIN_FAILED, client, None, json!({})).await;
        Err(Error::unauthorized("invalid credentials"))
    }
}

/// `POST /api/auth/login`: a new login session for the cookie.
pub async fn login(
    engine: &Engine,
    client: &str,
    password: &str,
    label: Option<&str>,
    remember_days: Option<u32>,
) -> Result<NewLoginSession> {
    check_password(engine, client, password).await?;
    let days = remember_days.unwrap_or(engine.config().auth.session_remember_days);
    let s = login_sessions::create(engine.store(), label, days, engine.now_ms()).await?;
    let detail = json!({"label": label});
    audit::record(engine, kind::LOGIN_OK, client, None, detail).await;
    Ok(s)
}

pub async fn logout(engine: &Engine, session_id: &str) -> Result<bool> {
    let id_hash = login_sessions::hash_id(session_id);
    let (h, now) = (id_hash.clone(), engine.now_ms());
    let revoked = engine
        .store()
        .write_async(move |s| s.login_session_revoke(&h, now))
        .await?;
    if revoked {
        engine.api_keys.invalidate();
        audit::record(engine, kind::LOGOUT, "session", None, json!({})).await;
        engine.emit(EngineEvent::LoginSessionRevoked { id_hash });
    }
    Ok(revoked)
}

/// What `POST /api/auth/password` carries.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChange<'a> {
    /// `x-setup-token`: valid only while no password is stored (checked in the database).
    pub setup_token: Option<&'a str>,
    /// The password being replaced: required whenever one is stored.
    pub current_password: Option<&'a str>,
    pub new_password: &'a str,
}

/// Sets the password with the one-time setup token (first run only) or, as an admin,
/// changes it given the current one (checked under the login throttle for `client`).
/// Every other login session is revoked (the caller's own is kept); bridge sockets that
/// authenticated with the old password stop working.
pub async fn set_password(
    engine: &Engine,
    who: Option<&Principal>,
    client: &str,
    change: PasswordChange<'_>,
) -> Result<()> {
    passwords::validate_new(change.new_password)?;
    let has_password = passwords::has_password_async(engine.store()).await?;
    if has_password {
        // A password set by any process (the offline CLI included) ends first-run setup.
        engine.close_setup();
    }
    let by_setup = match (change.setup_token, engine.setup_token()) {
        (Some(given), Some(open)) if !has_password => {
            bool::from(given.trim().as_bytes().ct_eq(open.as_bytes()))
        }
        _ => false,
    };
    let actor = match who {
        Some(p) if p.scopes.allows(Scope::Admin) => p.actor.clone(),
        Some(p) if !by_setup => return p.require(Scope::Admin),
        _ if by_setup => "setup".to_string(),
        _ if change.setup_token.is_some() => {
            return Err(Error::unauthorized(
                "invalid or used setup token: once a password is set, change it with current_password and an admin credential",
            ))
        }
        _ => {
            return Err(Error::unauthorized(
                "setting the password needs x-setup-token or an admin credential",
            ))
        }
    };
    if has_password {
        let Some(current) = change.current_password.filter(|c| !c.is_empty()) else {
            return Err(Error::invalid(
                "current_password is required: changing the operator password needs the current one (forgotten? run `microclaw auth password set` on the server)",
            ));
        };
        check_password(engine, client, current)
            .await
            .map_err(|e| match e.code {
                ErrorCode::Unauthorized => {
                    Error::unauthorized("current_password is wrong: the password was not changed")
                }
                _ => e,
            })?;
    }
    let phc = passwords::hash_async(change.new_password).await?;
    let keep = match who.map(|p| &p.kind) {
        Some(PrincipalKind::LoginSession { id_hash }) => Some(id_hash.clone()),
        _ => None,
    };
    let now = engine.now_ms();
    let revoked = engine
        .store()
        .write_async(move |s| {
            s.password_replace(
                PASSWORD_SETTING,
                &phc,
                !has_password && by_setup,
                keep.as_deref(),
                now,
            )
        })
        .await
        .map_err(|e| match e.code {
            ErrorCode::Conflict => Error::unauthorized(e.message),
            _ => e,
        })?;
    after_password_change(engine, &actor, revoked).await;
    Ok(())
}

async fn after_password_change(engine: &Engine, actor: &str, revoked: Vec<String>) {
    engine.close_setup();
    engine.api_keys.invalidate();
    let detail = json!({"sessions_revoked": revoked.len()});
    audit::record(engine, kind::PASSWORD_CHANGED, actor, None, detail).await;
    for id_hash in revoked {
        engine.emit(EngineEvent::LoginSessionRevoked { id_hash });
    }
}

/// The offline recovery path (`microclaw auth password set` on the data dir): no current
/// password needed — whoever can write the data dir owns the installation. Revokes every
/// login session; a running gateway notices through the database.
pub fn set_password_blocking(engine: &Engine, password: &str) -> Result<()> {
    passwords::validate_new(password)?;
    let phc = passwords::hash(password)?;
    let revoked =
        engine
            .store()
            .password_replace(PASSWORD_SETTING, &phc, false, None, engine.now_ms())?;
    engine.close_setup();
    engine.api_keys.invalidate();
    let detail = json!({"sessions_revoked": revoked.len()});
    audit::record_blocking(engine, kind::PASSWORD_CHANGED, "cli", None, detail);
    Ok(())
}
