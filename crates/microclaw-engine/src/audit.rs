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

pub fn record(engine: &Engine, kind: &str, actor: &str, target: Option<&str>, detail: Value) {
    if let Err(e) = engine
        .store()
        .audit_append(kind, actor, target, &detail, engine.now_ms())
    {
        tracing::error!("audit write failed for {kind} by {actor}: {e}");
    }
}

pub fn record_by(
    engine: &Engine,
    who: &Principal,
    kind: &str,
    target: Option<&str>,
    detail: Value,
) {
    record(engine, kind, &who.actor, target, detail);
}
