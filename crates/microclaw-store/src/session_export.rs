//! Reading a whole session for export in bounded pages: the head (the row and the newest
//! message id at the start, so a live chat does not make the export endless), then messages
//! oldest first by id. A page read after a reset or delete returns None: the export stops
//! instead of mixing two generations.

use crate::sessions::{get_by_key, SessionRow};
use crate::sql_error::SqlContext;
use crate::{MessageRow, Store};
use microclaw_core::Result;
use rusqlite::params;

impl Store {
    /// The session and its newest message id (0 when it has none); None when unknown.
    pub fn export_head(&self, key: &str) -> Result<Option<(SessionRow, i64)>> {
        self.read(|c| {
            let tx = c
                .unchecked_transaction()
                .ctx("starting the export head read")?;
            let Some(row) = get_by_key(&tx, key)? else {
                return Ok(None);
            };
            let newest: i64 = tx
                .prepare_cached("SELECT COALESCE(max(id), 0) FROM messages WHERE session_id = ?1")
                .ctx("preparing the newest message lookup")?
                .query_row([row.id], |r| r.get(0))
                .ctx(&format!("reading the newest message of session '{key}'"))?;
            tx.finish().ctx("ending the export head read")?;
            Ok(Some((row, newest)))
        })
    }

    /// Up to `limit` messages of session `key` with `after < id <= upto`, oldest first.
    /// None when the session is gone or no longer in `generation` (reset since the head).
    pub fn export_page(
        &self,
        key: &str,
        generation: &str,
        after: i64,
        upto: i64,
        limit: u32,
    ) -> Result<Option<Vec<MessageRow>>> {
        self.read(|c| {
            let tx = c
                .unchecked_transaction()
                .ctx("starting the export page read")?;
            let row = match get_by_key(&tx, key)? {
                Some(row) if row.session_id == generation => row,
                _ => return Ok(None),
            };
            let rows = tx
                .prepare_cached(
                    "SELECT id, role, text, created_at, stop_reason, error_message FROM messages \
                     WHERE session_id = ?1 AND id > ?2 AND id <= ?3 ORDER BY id LIMIT ?4",
                )
                .ctx("preparing the export page query")?
                .query_map(params![row.id, after, upto, limit], |r| {
                    crate::messages::message_from_row(r, key)
                })
                .ctx("reading the export page")?
                .collect::<rusqlite::Result<Vec<_>>>()
                .ctx("reading export rows")?;
            tx.finish().ctx("ending the export page read")?;
            Ok(Some(rows))
        })
    }
}
