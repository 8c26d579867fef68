//! The `devices` table: device identities seen in bridge handshakes, which the operator can
//! list and revoke. A revoked device stays revoked when it shows up again.

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::Result;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceRow {
    pub device_id: String,
    pub public_key: String,
    pub client_id: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub revoked_at: Option<i64>,
}

impl Store {
    /// Remembers a device or refreshes its key, client id and `last_seen_at`.
    pub fn device_upsert(
        &self,
        device_id: &str,
        public_key: &str,
        client_id: &str,
        now: i64,
    ) -> Result<()> {
        self.write(&format!("recording device '{device_id}'"), |c| {
            c.prepare_cached(
                "INSERT INTO devices (device_id, public_key, client_id, first_seen_at, last_seen_at) \
                 VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (device_id) DO UPDATE SET \
                 public_key = excluded.public_key, client_id = excluded.client_id, \
                 last_seen_at = excluded.last_seen_at",
            )
            .ctx("preparing the device upsert")?
            .execute(params![device_id, public_key, client_id, now])
            .ctx(&format!("recording device '{device_id}'"))?;
            Ok(())
        })
    }

    /// Most recently seen first.
    pub fn devices_list(&self) -> Result<Vec<DeviceRow>> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT device_id, public_key, client_id, first_seen_at, last_seen_at, revoked_at \
                 FROM devices ORDER BY last_seen_at DESC, device_id",
            )
            .ctx("preparing the device list")?
            .query_map([], |r| {
                Ok(DeviceRow {
                    device_id: r.get(0)?,
                    public_key: r.get(1)?,
                    client_id: r.get(2)?,
                    first_seen_at: r.get(3)?,
                    last_seen_at: r.get(4)?,
                    revoked_at: r.get(5)?,
                })
            })
            .ctx("listing devices")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("reading device rows")
        })
    }

    /// False when unknown or already revoked.
    pub fn device_revoke(&self, device_id: &str, now: i64) -> Result<bool> {
        self.write(&format!("revoking device '{device_id}'"), |c| {
            let n = c
                .execute(
                    "UPDATE devices SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
                    params![device_id, now],
                )
                .ctx(&format!("revoking device '{device_id}'"))?;
            Ok(n > 0)
        })
    }

    /// False for unknown devices.
    pub fn device_is_revoked(&self, device_id: &str) -> Result<bool> {
        self.read(|c| {
            let revoked: Option<Option<i64>> = c
                .prepare_cached("SELECT revoked_at FROM devices WHERE device_id = ?1")
                .ctx("preparing the device lookup")?
                .query_row([device_id], |r| r.get(0))
                .optional()
                .ctx(&format!("reading device '{device_id}'"))?;
            Ok(matches!(revoked, Some(Some(_))))
        })
    }
}
