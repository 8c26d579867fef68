//! Engine-wide events fanned out to every bridge connection (and the desktop shell).

use serde_json::Value;

#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// `sessions.changed` with reason created | updated | deleted | forked | reset.
    SessionsChanged { key: String, reason: &'static str },
    /// An SLO alert started or cleared (`slo.alert` payload).
    SloAlert(Value),
    /// An operator connection joined or left.
    PresenceChanged,
    /// Graceful stop is starting: tell clients (`shutdown` event); runs are being ended.
    Shutdown { reason: String },
    /// Graceful stop is done (runs ended, metrics flushed): close the connections now.
    Closed,
    /// An API key was revoked: its open bridge connections must close.
    KeyRevoked { key_id: i64 },
    /// A login session was revoked (logout, password change).
    LoginSessionRevoked { id_hash: String },
}
