//! Who is calling: the credential kind, its scopes and the name used in the audit log.

use microclaw_core::{Error, Scope, ScopeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// An API key (`mk_…`) by row id.
    ApiKey { id: i64 },
    /// A browser login session (cookie), by the hash of its id.
    LoginSession { id_hash: String },
    /// The desktop shell's per-launch token.
    Launch,
    /// The operator password given directly on a bridge connect.
    Password,
}

/// What the credential looked like when it was accepted, so a later
/// [`Engine::recheck_principal`](crate::Engine::recheck_principal) can tell whether it still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuthStamp {
    /// When the API key or login session expires (epoch ms), if it does.
    pub expires_at: Option<i64>,
    /// The password revision the password was checked against (password principals).
    pub password_revision: i64,
    /// When the credential was accepted (engine clock, epoch ms).
    pub auth_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub scopes: ScopeSet,
    /// Short name for the audit log, e.g. `key:3`, `session`, `launch`.
    pub actor: String,
    /// The CSRF token bound to a login session (cookie credentials only).
    pub csrf: Option<String>,
    pub stamp: AuthStamp,
}

impl Principal {
    /// The principal used by offline CLI commands working directly on the data dir.
    pub fn local_cli() -> Principal {
        Principal {
            kind: PrincipalKind::Launch,
            scopes: ScopeSet::all(),
            actor: "cli".into(),
            csrf: None,
            stamp: AuthStamp::default(),
        }
    }

    /// FORBIDDEN naming the missing scope unless `needed` is granted.
    pub fn require(&self, needed: Scope) -> Result<(), Error> {
        if self.scopes.allows(needed) {
            Ok(())
        } else {
            Err(
                Error::forbidden(format!("missing scope: {needed}")).with_details(
                    serde_json::json!({"code": "MISSING_SCOPE", "missingScope": needed.as_str()}),
                ),
            )
        }
    }

    pub fn api_key_id(&self) -> Option<i64> {
        match self.kind {
            PrincipalKind::ApiKey { id } => Some(id),
            _ => None,
        }
    }
}
