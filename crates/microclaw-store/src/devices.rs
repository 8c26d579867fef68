//! The `devices` table: device identities seen in bridge handshakes. A device is `pending`
//! (waiting for the operator's approval, with a request id) or `paired`; a revoked device
//! (`revoked_at`) stays revoked when it shows up again, whatever its status.

use crate::sql_error::SqlContext;
use crate::Store;
use microclaw_core::Result;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

pub const STATUS_PENDING: &str = "pending";
pub const STATUS_PAIRED: &str = "paired";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceRow {
    pub device_id: String,
    pub public_key: String,
    pub client_id: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub revoked_at: Option<i64>,
    /// `pending` | `paired`.
    pub status: String,
    /// The operator's name for the device (rename).
    pub label: Option<String>,
    pub display_name: Option<String>,
    pub platform: Option<String>,
    pub device_family: Option<String>,
    pub client_mode: Option<String>,
    pub remote_ip: Option<String>,
    /// Comma-joined scopes the device asked for at its last connect.
    pub scopes: Option<String>,
    /// The pending request's id (pending devices only).
    pub request_id: Option<String>,
    /// When the pending request was made or last refreshed.
    pub requested_at: Option<i64>,
    pub approved_at: Option<i64>,
    /// `owner` (approved by an operator) | `silent` (let in while approval was not required).
    pub approved_via: Option<String>,
}

const COLUMNS: &str = "device_id, public_key, client_id, first_seen_at, last_seen_at, revoked_at, \
     status, label, display_name, platform, device_family, client_mode, remote_ip, scopes, \
     request_id, requested_at, approved_at, approved_via";

fn row(r: &Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        device_id: r.get(0)?,
        public_key: r.get(1)?,
        client_id: r.get(2)?,
        first_seen_at: r.get(3)?,
        last_seen_at: r.get(4)?,
        revoked_at: r.get(5)?,
        status: r.get(6)?,
        label: r.get(7)?,
        display_name: r.get(8)?,
        platform: r.get(9)?,
        device_family: r.get(10)?,
        client_mode: r.get(11)?,
        remote_ip: r.get(12)?,
        scopes: r.get(13)?,
        request_id: r.get(14)?,
        requested_at: r.get(15)?,
        approved_at: r.get(16)?,
        approved_via: r.get(17)?,
    })
}

/// What a connect tells about its (verified) device.
#[derive(Debug, Clone, Default)]
pub struct DeviceSeen {
    pub device_id: String,
    pub public_key: String,
    pub client_id: String,
    pub client_mode: Option<String>,
    pub display_name: Option<String>,
    pub platform: Option<String>,
    pub device_family: Option<String>,
    pub remote_ip: Option<String>,
    pub scopes: Option<String>,
}

/// The verdict on a device at connect.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceAdmission {
    /// Let in. `newly`: it was not paired before this connect; `resolved_request`: the pending
    /// request this connect settled (approval was turned off while it waited).
    Paired {
        newly: bool,
        resolved_request: Option<String>,
    },
    /// Waits for the operator. `new_request`: the request was created now (not refreshed).
    Pending {
        request_id: String,
        new_request: bool,
    },
    Revoked,
}

fn get(c: &Connection, device_id: &str) -> Result<Option<DeviceRow>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM devices WHERE device_id = ?1"
    ))
    .ctx("preparing the device lookup")?
    .query_row([device_id], row)
    .optional()
    .ctx(&format!("reading device '{device_id}'"))
}

fn by_request(c: &Connection, request_id: &str, fresh_after: i64) -> Result<Option<DeviceRow>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM devices WHERE request_id = ?1 AND status = 'pending' \
         AND requested_at >= ?2"
    ))
    .ctx("preparing the pairing request lookup")?
    .query_row(params![request_id, fresh_after], row)
    .optional()
    .ctx(&format!("reading pairing request '{request_id}'"))
}

impl Store {
    /// Decides whether a verified device may connect and records what it told: a known paired
    /// device is refreshed; an unknown one is paired (`silent`) unless `require_approval`, in
    /// which case it gets (or refreshes) one pending request. A pending request older than
    /// `pending_ttl_ms` is replaced by a new one with `new_request_id`.
    pub fn device_admit(
        &self,
        seen: &DeviceSeen,
        require_approval: bool,
        now: i64,
        pending_ttl_ms: i64,
        new_request_id: &str,
    ) -> Result<(DeviceAdmission, DeviceRow)> {
        let id = seen.device_id.as_str();
        self.write(&format!("admitting device '{id}'"), |c| {
            let existing = get(c, id)?;
            if let Some(d) = existing.as_ref().filter(|d| d.revoked_at.is_some()) {
                return Ok((DeviceAdmission::Revoked, d.clone()));
            }
            let was_pending = existing.as_ref().filter(|d| d.status == STATUS_PENDING);
            let verdict = match (&existing, was_pending) {
                (Some(_), None) => DeviceAdmission::Paired {
                    newly: false,
                    resolved_request: None,
                },
                (_, pending) if !require_approval => DeviceAdmission::Paired {
                    newly: true,
                    resolved_request: pending.and_then(|d| d.request_id.clone()),
                },
                (_, Some(d)) if d.requested_at.unwrap_or(0) >= now - pending_ttl_ms => {
                    DeviceAdmission::Pending {
                        request_id: d.request_id.clone().unwrap_or_default(),
                        new_request: false,
                    }
                }
                _ => DeviceAdmission::Pending {
                    request_id: new_request_id.to_string(),
                    new_request: true,
                },
            };
            let (status, request_id, approved_via) = match &verdict {
                DeviceAdmission::Pending { request_id, .. } => {
                    (STATUS_PENDING, Some(request_id.as_str()), None)
                }
                _ => (STATUS_PAIRED, None, Some("silent")),
            };
            c.prepare_cached(
                "INSERT INTO devices (device_id, public_key, client_id, first_seen_at, last_seen_at, \
                 status, client_mode, display_name, platform, device_family, remote_ip, scopes, \
                 request_id, requested_at, approved_at, approved_via) \
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
                 CASE WHEN ?12 IS NULL THEN NULL ELSE ?4 END, \
                 CASE WHEN ?12 IS NULL THEN ?4 ELSE NULL END, ?13) \
                 ON CONFLICT (device_id) DO UPDATE SET \
                 public_key = excluded.public_key, client_id = excluded.client_id, \
                 last_seen_at = excluded.last_seen_at, status = excluded.status, \
                 client_mode = excluded.client_mode, display_name = excluded.display_name, \
                 platform = excluded.platform, device_family = excluded.device_family, \
                 remote_ip = excluded.remote_ip, scopes = excluded.scopes, \
                 request_id = excluded.request_id, requested_at = excluded.requested_at, \
                 approved_at = COALESCE(devices.approved_at, excluded.approved_at), \
                 approved_via = COALESCE(devices.approved_via, excluded.approved_via)",
            )
            .ctx("preparing the device admission")?
            .execute(params![
                id,
                seen.public_key,
                seen.client_id,
                now,
                status,
                seen.client_mode,
                seen.display_name,
                seen.platform,
                seen.device_family,
                seen.remote_ip,
                seen.scopes,
                request_id,
                approved_via,
            ])
            .ctx(&format!("recording device '{id}'"))?;
            let stored = get(c, id)?.ok_or_else(|| {
                microclaw_core::Error::internal(format!("device '{id}' vanished while admitted"))
            })?;
            Ok((verdict, stored))
        })
    }

    /// Remembers a device as paired or refreshes its key, client id and `last_seen_at`.
    pub fn device_upsert(
        &self,
        device_id: &str,
        public_key: &str,
        client_id: &str,
        now: i64,
    ) -> Result<()> {
        let seen = DeviceSeen {
            device_id: device_id.into(),
            public_key: public_key.into(),
            client_id: client_id.into(),
            ..DeviceSeen::default()
        };
        self.device_admit(&seen, false, now, 0, "").map(|_| ())
    }

    /// Every device (pending ones included, even expired), most recently seen first.
    pub fn devices_list(&self) -> Result<Vec<DeviceRow>> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM devices ORDER BY last_seen_at DESC, device_id"
            ))
            .ctx("preparing the device list")?
            .query_map([], row)
            .ctx("listing devices")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("reading device rows")
        })
    }

    pub fn device_get(&self, device_id: &str) -> Result<Option<DeviceRow>> {
        self.read(|c| get(c, device_id))
    }

    /// Pairs the device of a pending request made at or after `fresh_after`; None when there
    /// is no such request (unknown, settled or expired).
    pub fn device_approve(
        &self,
        request_id: &str,
        now: i64,
        fresh_after: i64,
    ) -> Result<Option<DeviceRow>> {
        self.write(&format!("approving pairing request '{request_id}'"), |c| {
            let Some(d) = by_request(c, request_id, fresh_after)? else {
                return Ok(None);
            };
            c.execute(
                "UPDATE devices SET status = 'paired', request_id = NULL, requested_at = NULL, \
                 approved_at = ?2, approved_via = 'owner' WHERE device_id = ?1",
                params![d.device_id, now],
            )
            .ctx(&format!("approving device '{}'", d.device_id))?;
            get(c, &d.device_id)
        })
    }

    /// Forgets the device of a pending request made at or after `fresh_after`; its device id,
    /// or None when there is no such request.
    pub fn device_reject(&self, request_id: &str, fresh_after: i64) -> Result<Option<String>> {
        self.write(&format!("rejecting pairing request '{request_id}'"), |c| {
            let Some(d) = by_request(c, request_id, fresh_after)? else {
                return Ok(None);
            };
            c.execute("DELETE FROM devices WHERE device_id = ?1", [&d.device_id])
                .ctx(&format!("rejecting device '{}'", d.device_id))?;
            Ok(Some(d.device_id))
        })
    }

    /// Forgets a paired device (a revocation goes with it); false when no paired device has
    /// this id.
    pub fn device_remove(&self, device_id: &str) -> Result<bool> {
        self.write(&format!("removing device '{device_id}'"), |c| {
            let n = c
                .execute(
                    "DELETE FROM devices WHERE device_id = ?1 AND status = 'paired'",
                    [device_id],
                )
                .ctx(&format!("removing device '{device_id}'"))?;
            Ok(n > 0)
        })
    }

    /// Sets a paired device's label; false when no paired device has this id.
    pub fn device_rename(&self, device_id: &str, label: &str) -> Result<bool> {
        self.write(&format!("renaming device '{device_id}'"), |c| {
            let n = c
                .execute(
                    "UPDATE devices SET label = ?2 WHERE device_id = ?1 AND status = 'paired'",
                    params![device_id, label],
                )
                .ctx(&format!("renaming device '{device_id}'"))?;
            Ok(n > 0)
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
        Ok(self
            .device_get(device_id)?
            .is_some_and(|d| d.revoked_at.is_some()))
    }
}
