//! The `api_keys` table (only hashes are stored) and the `api_keys_revision` counter, bumped on
//! every insert/revoke so a server can notice a key created by another process cheaply.

use crate::sql_error::{is_unique_violation, map_sql_error, SqlContext};
use crate::Store;
use microclaw_core::{Error, Result, ScopeSet};
use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRow {
    pub id: i64,
    pub label: String,
    pub prefix: String,
    pub key_hash: String,
    pub scopes: ScopeSet,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub rotated_from_key_id: Option<i64>,
}

const API_KEY_COLUMNS: &str = "id, label, prefix, key_hash, scopes, created_at, expires_at, \
     last_used_at, revoked_at, rotated_from_key_id";

fn api_key_from_row(r: &Row<'_>) -> rusqlite::Result<ApiKeyRow> {
    Ok(ApiKeyRow {
        id: r.get(0)?,
        label: r.get(1)?,
        prefix: r.get(2)?,
        key_hash: r.get(3)?,
        scopes: ScopeSet::from_csv(&r.get::<_, String>(4)?),
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        last_used_at: r.get(7)?,
        revoked_at: r.get(8)?,
        rotated_from_key_id: r.get(9)?,
    })
}

fn bump_revision(c: &Connection) -> Result<()> {
    c.prepare_cached("UPDATE counters SET value = value + 1 WHERE name = 'api_keys_revision'")
        .ctx("preparing the api key revision bump")?
        .execute([])
        .ctx("bumping the api key revision")?;
    Ok(())
}

fn get_by_id(c: &Connection, id: i64) -> Result<Option<ApiKeyRow>> {
    c.prepare_cached(&format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = ?1"
    ))
    .ctx("preparing the api key lookup")?
    .query_row([id], api_key_from_row)
    .optional()
    .ctx(&format!("reading api key {id}"))
}

impl Store {
    /// Stores a new key (hash only). CONFLICT when the hash already exists; NOT_FOUND when
    /// `rotated_from` names no key.
    #[allow(clippy::too_many_arguments)]
    pub fn api_key_insert(
        &self,
        label: &str,
        prefix: &str,
        key_hash: &str,
        scopes: ScopeSet,
        expires_at: Option<i64>,
        rotated_from: Option<i64>,
        now: i64,
    ) -> Result<ApiKeyRow> {
        self.write(&format!("creating api key '{label}'"), |c| {
            if let Some(old) = rotated_from {
                if get_by_id(c, old)?.is_none() {
                    return Err(Error::not_found(format!("api key {old} not found")));
                }
            }
            let id = insert_key(
                c,
                label,
                prefix,
                key_hash,
                scopes,
                expires_at,
                rotated_from,
                now,
            )?;
            bump_revision(c)?;
            get_by_id(c, id)?
                .ok_or_else(|| Error::internal(format!("api key {id} vanished after insert")))
        })
    }

    /// Rotation in one transaction: inserts the new key (`rotated_from_key_id = old_id`) and
    /// revokes the old one. NOT_FOUND for an unknown key, CONFLICT when it is already revoked.
    #[allow(clippy::too_many_arguments)]
    pub fn api_key_rotate(
        &self,
        old_id: i64,
        label: &str,
        prefix: &str,
        key_hash: &str,
        scopes: ScopeSet,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<ApiKeyRow> {
        self.write(&format!("rotating api key {old_id}"), |c| {
            let old = get_by_id(c, old_id)?
                .ok_or_else(|| Error::not_found(format!("API key {old_id} not found")))?;
            if old.revoked_at.is_some() {
                return Err(Error::conflict(format!(
                    "API key {old_id} is already revoked: create a new key instead"
                )));
            }
            let id = insert_key(
                c,
                label,
                prefix,
                key_hash,
                scopes,
                expires_at,
                Some(old_id),
                now,
            )?;
            c.prepare_cached("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1")
                .ctx("preparing the api key revoke")?
                .execute(params![old_id, now])
                .ctx(&format!("revoking api key {old_id}"))?;
            bump_revision(c)?;
            get_by_id(c, id)?
                .ok_or_else(|| Error::internal(format!("api key {id} vanished after insert")))
        })
    }

    pub fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRow>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?1"
            ))
            .ctx("preparing the api key hash lookup")?
            .query_row([key_hash], api_key_from_row)
            .optional()
            .ctx("looking up an api key by hash")
        })
    }

    pub fn api_key_get(&self, id: i64) -> Result<Option<ApiKeyRow>> {
        self.read(|c| get_by_id(c, id))
    }

    /// Every key, newest first, revoked ones included.
    pub fn api_keys_list(&self) -> Result<Vec<ApiKeyRow>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id DESC"
            ))
            .ctx("preparing the api key list")?
            .query_map([], api_key_from_row)
            .ctx("listing api keys")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("reading api key rows")
        })
    }

    /// False when the key is unknown or already revoked.
    pub fn api_key_revoke(&self, id: i64, now: i64) -> Result<bool> {
        self.write(&format!("revoking api key {id}"), |c| {
            let n = c
                .prepare_cached(
                    "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                )
                .ctx("preparing the api key revoke")?
                .execute(params![id, now])
                .ctx(&format!("revoking api key {id}"))?;
            if n > 0 {
                bump_revision(c)?;
            }
            Ok(n > 0)
        })
    }

    /// Records `last_used_at` (callers debounce); does not bump the revision.
    pub fn api_key_touch(&self, id: i64, now: i64) -> Result<()> {
        self.write(&format!("recording use of api key {id}"), |c| {
            c.prepare_cached("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1")
                .ctx("preparing the api key touch")?
                .execute(params![id, now])
                .ctx(&format!("recording use of api key {id}"))?;
            Ok(())
        })
    }

    /// A counter that grows on every insert/revoke, from any process sharing the file.
    pub fn api_keys_revision(&self) -> Result<i64> {
        self.read(|c| {
            c.prepare_cached("SELECT value FROM counters WHERE name = 'api_keys_revision'")
                .ctx("preparing the api key revision read")?
                .query_row([], |r| r.get(0))
                .ctx("reading the api key revision")
        })
    }
}

/// Inserts one key row (create and rotate share it); returns its id. CONFLICT for a hash that
/// is already stored.
#[allow(clippy::too_many_arguments)]
fn insert_key(
    c: &Connection,
    label: &str,
    prefix: &str,
    key_hash: &str,
    scopes: ScopeSet,
    expires_at: Option<i64>,
    rotated_from: Option<i64>,
    now: i64,
) -> Result<i64> {
    c.prepare_cached(
        "INSERT INTO api_keys (label, prefix, key_hash, scopes, created_at, expires_at, \
         rotated_from_key_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .ctx("preparing the api key insert")?
    .execute(params![
        label,
        prefix,
        key_hash,
        scopes.to_csv(),
        now,
        expires_at,
        rotated_from
    ])
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::conflict("an api key with this hash already exists")
        } else {
            map_sql_error(e, "inserting the api key")
        }
    })?;
    Ok(c.last_insert_rowid())
}
