//! The `settings` table: small key/value strings (password hash, first-run flags, …).

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::Result;
use rusqlite::{params, OptionalExtension};

impl Store {
    pub fn setting_get(&self, name: &str) -> Result<Option<String>> {
        self.read(|c| {
            c.prepare_cached("SELECT value FROM settings WHERE name = ?1")
                .ctx("preparing the setting lookup")?
                .query_row([name], |r| r.get(0))
                .optional()
                .ctx(&format!("reading setting '{name}'"))
        })
    }

    /// Inserts or replaces.
    pub fn setting_set(&self, name: &str, value: &str) -> Result<()> {
        self.write(&format!("storing setting '{name}'"), |c| {
            c.prepare_cached(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .ctx("preparing the setting upsert")?
            .execute(params![name, value])
            .ctx(&format!("storing setting '{name}'"))?;
            Ok(())
        })
    }

    /// Deleting a missing setting is not an error.
    pub fn setting_delete(&self, name: &str) -> Result<()> {
        self.write(&format!("deleting setting '{name}'"), |c| {
            c.execute("DELETE FROM settings WHERE name = ?1", [name])
                .ctx(&format!("deleting setting '{name}'"))?;
            Ok(())
        })
    }
}
