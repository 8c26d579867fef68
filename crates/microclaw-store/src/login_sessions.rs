//! The `login_sessions` table (browser logins, stored by the hash of their cookie id), the
//! operator password's replacement, and the auth counters another process can watch:
//! `api_keys_revision` (keys inserted/revoked), `auth_revision` (login sessions revoked or
//! the password replaced) and `password_revision` (the password replaced).

use crate::sql_error::{is_unique_violation, map_sql_error, SqlContext};
use crate::Store;
use microclaw_core::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};

/// The auth counters, read together (one small query).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthCounters {
    pub api_keys: i64,
    pub auth: i64,
    pub password: i64,
}

/// Adds one to a named counter, creating it (at 1) when missing.
fn bump(c: &Connection, name: &str) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO counters (name, value) VALUES (?1, 1) \
         ON CONFLICT (name) DO UPDATE SET value = value + 1",
    )
    .ctx("preparing a counter bump")?
    .execute([name])
    .ctx(&format!("bumping counter '{name}'"))?;
    Ok(())
}

fn revoke_all_except(c: &Connection, keep: Option<&str>, now: i64) -> Result<Vec<String>> {
    let ids = c
        .prepare_cached(
            "SELECT id_hash FROM login_sessions WHERE revoked_at IS NULL \
             AND (?1 IS NULL OR id_hash <> ?1)",
        )
        .ctx("preparing the live login session list")?
        .query_map(params![keep], |r| r.get::<_, String>(0))
        .ctx("listing live login sessions")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .ctx("reading live login sessions")?;
    c.execute(
        "UPDATE login_sessions SET revoked_at = ?2 WHERE revoked_at IS NULL \
         AND (?1 IS NULL OR id_hash <> ?1)",
        params![keep, now],
    )
    .ctx("revoking login sessions")?;
    if !ids.is_empty() {
        bump(c, "auth_revision")?;
    }
    Ok(ids)
}

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
            if n > 0 {
                bump(c, "auth_revision")?;
            }
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
            Ok(revoke_all_except(c, keep_id_hash, now)?.len() as u64)
        })
    }

    /// The three auth counters (missing ones read as 0).
    pub fn auth_counters(&self) -> Result<AuthCounters> {
        self.read(|c| {
            let mut out = AuthCounters::default();
            let mut stmt = c
                .prepare_cached(
                    "SELECT name, value FROM counters \
                     WHERE name IN ('api_keys_revision', 'auth_revision', 'password_revision')",
                )
                .ctx("preparing the auth counter read")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .ctx("reading the auth counters")?;
            for row in rows {
                let (name, value) = row.ctx("reading an auth counter")?;
                match name.as_str() {
                    "api_keys_revision" => out.api_keys = value,
                    "auth_revision" => out.auth = value,
                    _ => out.password = value,
                }
            }
            Ok(out)
        })
    }

    /// The stored password hash (setting `setting`) and the password revision, read together.
    pub fn password_state(&self, setting: &str) -> Result<(Option<String>, i64)> {
        self.read(|c| {
            let phc: Option<String> = c
                .prepare_cached("SELECT value FROM settings WHERE name = ?1")
                .ctx("preparing the password read")?
                .query_row([setting], |r| r.get(0))
                .optional()
                .ctx("reading the password hash")?;
            let rev: Option<i64> = c
                .prepare_cached("SELECT value FROM counters WHERE name = 'password_revision'")
                .ctx("preparing the password revision read")?
                .query_row([], |r| r.get(0))
                .optional()
                .ctx("reading the password revision")?;
            Ok((phc, rev.unwrap_or(0)))
        })
    }

    /// Replaces the password hash (setting `setting`) and revokes every live login session
    /// except `keep_id_hash`, in one transaction; bumps the password and auth revisions.
    /// With `only_if_absent`, CONFLICT when a password is already stored (the setup path).
    /// Returns the id hashes of the sessions it revoked.
    pub fn password_replace(
        &self,
        setting: &str,
        phc: &str,
        only_if_absent: bool,
        keep_id_hash: Option<&str>,
        now: i64,
    ) -> Result<Vec<String>> {
        self.write("replacing the operator password", |c| {
            if only_if_absent {
                let exists = c
                    .prepare_cached("SELECT 1 FROM settings WHERE name = ?1")
                    .ctx("preparing the password check")?
                    .exists([setting])
                    .ctx("checking for a stored password")?;
                if exists {
                    return Err(Error::conflict(
                        "a password is already set: the setup token is no longer valid (log in, or run `microclaw auth password set` on the server)",
                    ));
                }
            }
            c.prepare_cached(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .ctx("preparing the password upsert")?
            .execute(params![setting, phc])
            .ctx("storing the password hash")?;
            bump(c, "password_revision")?;
            bump(c, "auth_revision")?;
            revoke_all_except(c, keep_id_hash, now)
        })
    }
}
