//! The `login_sessions` table: browser logins, stored by the hash of their cookie id.

use crate::sql_error::{is_unique_violation, map_sql_error, SqlContext};
use crate::Store;
use microclaw_core::{Error, Result};
use rusqlite::{params, OptionalExtension};

#[derive(Debug, Clone, PartialEq)]
pub struct LoginSessionRow {
    pub id_hash: String,
    pub csrf: String,
    pub label: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl Store {
    /// CONFLICT when the id hash already exists.
    pub fn login_session_insert(
        &self,
        id_hash: &str,
        csrf: &str,
        label: Option<&str>,
        expires_at: i64,
        now: i64,
    ) -> Result<()> {
        self.write("creating a login session", |c| {
            c.prepare_cached(
                "INSERT INTO login_sessions (id_hash, csrf, label, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .ctx("preparing the login session insert")?
            .execute(params![id_hash, csrf, label, now, expires_at])
            .map_err(|e| {
                if is_unique_violation(&e) {
                    Error::conflict("a login session with this id already exists")
                } else {
                    map_sql_error(e, "inserting the login session")
                }
            })?;
            Ok(())
        })
    }

    /// The row whatever its state; callers check `revoked_at` and `expires_at`.
    pub fn login_session_get(&self, id_hash: &str) -> Result<Option<LoginSessionRow>> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT id_hash, csrf, label, created_at, expires_at, revoked_at \
                 FROM login_sessions WHERE id_hash = ?1",
            )
            .ctx("preparing the login session lookup")?
            .query_row([id_hash], |r| {
                Ok(LoginSessionRow {
                    id_hash: r.get(0)?,
                    csrf: r.get(1)?,
                    label: r.get(2)?,
                    created_at: r.get(3)?,
                    expires_at: r.get(4)?,
                    revoked_at: r.get(5)?,
                })
            })
            .optional()
            .ctx("reading a login session")
        })
    }

    /// False when unknown or already revoked.
    pub fn login_session_revoke(&self, id_hash: &str, now: i64) -> Result<bool> {
        self.write("revoking a login session", |c| {
            let n = c
                .prepare_cached(
                    "UPDATE login_sessions SET revoked_at = ?2 \
                     WHERE id_hash = ?1 AND revoked_at IS NULL",
                )
                .ctx("preparing the login session revoke")?
                .execute(params![id_hash, now])
                .ctx("revoking a login session")?;
            Ok(n > 0)
        })
    }

    /// Revokes every live login session except `keep_id_hash`; returns how many.
    pub fn login_sessions_revoke_all_except(
        &self,
        keep_id_hash: Option<&str>,
        now: i64,
    ) -> Result<u64> {
        self.write("revoking login sessions", |c| {
            let n = c
                .execute(
                    "UPDATE login_sessions SET revoked_at = ?2 WHERE revoked_at IS NULL \
                     AND (?1 IS NULL OR id_hash <> ?1)",
                    params![keep_id_hash, now],
                )
                .ctx("revoking login sessions")?;
            Ok(n as u64)
        })
    }
}
