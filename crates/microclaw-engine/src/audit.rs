//! Appending to the hash-chained audit log. A failed audit write is logged, never silently
//! dropped, but it does not undo the action it describes.

use crate::engine::Engine;
use crate::principal::Principal;
use serde_json::Value;

/// Kinds written by the engine (the `kind` filter of `GET /api/audit`).
pub mod kind {
    pub const LOGIN_OK: &str = "auth.login";
    pub const LOGIN_FAILED: &str = "auth.login_failed";
    pub const LOGOUT: &str = "auth.logout";
    pub const PASSWORD_CHANGED: &str = "auth.password_changed";
    pub const KEY_CREATED: &str = "auth.key_created";
    pub const KEY_REVOKED: &str = "auth.key_revoked";
    pub const KEY_ROTATED: &str = "auth.key_rotated";
    pub const SCOPE_DENIED: &str = "auth.scope_denied";
    pub const SESSION_FORKED: &str = "session.fork";
    pub const SESSION_DELETED: &str = "session.delete";
    pub const SESSION_RESET: &str = "session.reset";
    pub const SESSION_KILLED: &str = "session.kill";
    pub const SLO_ALERT: &str = "slo.alert";
}

/// Appends one entry through the store's writer thread (entries keep their order: one writer).
pub async fn record(engine: &Engine, kind: &str, actor: &str, target: Option<&str>, detail: Value) {
    let (k, a, t, now) = (
        kind.to_string(),
        actor.to_string(),
        target.map(str::to_string),
        engine.now_ms(),
    );
    let written = engine
        .store()
        .write_async(move |s| s.audit_append(&k, &a, t.as_deref(), &detail, now))
        .await;
    if let Err(e) = written {
        tracing::error!("audit write failed for {kind} by {actor}: {e}");
    }
}

/// `record` for code that is not async (the offline CLI): writes on the calling thread.
pub fn record_blocking(
    engine: &Engine,
    kind: &str,
    actor: &str,
    target: Option<&str>,
    detail: Value,
) {
    if let Err(e) = engine
        .store()
        .audit_append(kind, actor, target, &detail, engine.now_ms())
    {
        tracing::error!("audit write failed for {kind} by {actor}: {e}");
    }
}

pub async fn record_by(
    engine: &Engine,
    who: &Principal,
    kind: &str,
    target: Option<&str>,
    detail: Value,
) {
    record(engine, kind, &who.actor, target, detail).await;
}
