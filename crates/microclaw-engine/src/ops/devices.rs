//! Device pairing (openclaw-methods.md §7, decisions.md "Devices"): the verdict on a verified
//! device at connect, and the operator's list / approve / reject / remove / rename / revoke.
//! With `auth.require_device_approval` an unknown device waits in `pending` for
//! [`PENDING_TTL_MS`] (engine clock); otherwise it is paired silently. We issue no device
//! tokens: revoking marks the device revoked, rotating changes nothing.

mod records;

pub use records::{paired_json, pending_json, resolved_json};

use crate::audit;
use crate::engine::Engine;
use crate::events::EngineEvent;
use crate::principal::Principal;
use microclaw_core::{Error, Result};
pub use microclaw_store::devices::DeviceSeen;
use microclaw_store::devices::{DeviceAdmission, STATUS_PAIRED, STATUS_PENDING};
use serde_json::{json, Value};

/// A pending request lapses this long after it was made or last refreshed.
pub const PENDING_TTL_MS: i64 = 5 * 60 * 1000;
/// The longest operator label (characters, after trimming).
pub const LABEL_MAX_CHARS: usize = 64;

/// The only role a device connects with here.
const ROLE: &str = "operator";

/// The verdict on a verified device at connect.
#[derive(Debug, Clone, PartialEq)]
pub enum Admit {
    Allowed,
    /// Approval is required and the device waits under this request id.
    PairingRequired {
        request_id: String,
    },
    Revoked,
}

/// Records the connecting device and decides whether it may connect; announces a new
/// pending request (`device.pair.requested`) and silent pairings (`device.pair.changed`).
pub async fn admit(engine: &Engine, seen: DeviceSeen) -> Result<Admit> {
    let require = engine.config().auth.require_device_approval;
    let now = engine.now_ms();
    let new_id = uuid::Uuid::new_v4().to_string();
    let (verdict, row) = engine
        .store()
        .write_async(move |s| s.device_admit(&seen, require, now, PENDING_TTL_MS, &new_id))
        .await?;
    Ok(match verdict {
        DeviceAdmission::Revoked => Admit::Revoked,
        DeviceAdmission::Paired {
            newly,
            resolved_request,
        } => {
            if let Some(req) = resolved_request {
                let payload = resolved_json(&req, &row.device_id, "approved", now);
                engine.emit(EngineEvent::DevicePairResolved(payload));
            }
            if newly {
                engine.emit(EngineEvent::DevicePairChanged);
            }
            Admit::Allowed
        }
        DeviceAdmission::Pending {
            request_id,
            new_request,
        } => {
            if new_request {
                tracing::info!(device = %row.device_id, request = %request_id, "device waits for pairing approval");
                let payload = pending_json(&row, now + PENDING_TTL_MS);
                engine.emit(EngineEvent::DevicePairRequested(payload));
            }
            Admit::PairingRequired { request_id }
        }
    })
}

/// `device.pair.list`: `{pending, paired}`; `connected` tells whether a device has an open
/// bridge connection now.
pub async fn list(engine: &Engine, connected: impl Fn(&str) -> bool) -> Result<Value> {
    let rows = engine.store().read_async(|s| s.devices_list()).await?;
    let fresh_after = engine.now_ms() - PENDING_TTL_MS;
    let mut pending: Vec<_> = rows
        .iter()
        .filter(|d| d.status == STATUS_PENDING && d.requested_at.unwrap_or(0) >= fresh_after)
        .collect();
    pending.sort_by_key(|d| std::cmp::Reverse(d.requested_at));
    let pending: Vec<Value> = pending
        .into_iter()
        .map(|d| pending_json(d, d.requested_at.unwrap_or(0) + PENDING_TTL_MS))
        .collect();
    let paired: Vec<Value> = rows
        .iter()
        .filter(|d| d.status == STATUS_PAIRED)
        .map(|d| paired_json(d, Some(connected(&d.device_id))))
        .collect();
    Ok(json!({"pending": pending, "paired": paired}))
}

fn required<'a>(name: &str, v: &'a str) -> Result<&'a str> {
    let t = v.trim();
    if t.is_empty() {
        return Err(Error::invalid(format!(
            "{name} required: expected a non-empty string"
        )));
    }
    Ok(t)
}

/// `device.pair.approve`: `{requestId, device}`; announces `device.pair.resolved`.
pub async fn approve(engine: &Engine, who: &Principal, request_id: &str) -> Result<Value> {
    let req = required("requestId", request_id)?.to_string();
    let now = engine.now_ms();
    let r = req.clone();
    let row = engine
        .store()
        .write_async(move |s| s.device_approve(&r, now, now - PENDING_TTL_MS))
        .await?
        .ok_or_else(|| unknown_request(&req))?;
    engine.emit(EngineEvent::DevicePairResolved(resolved_json(
        &req,
        &row.device_id,
        "approved",
        now,
    )));
    audit::record_by(
        engine,
        who,
        "device.approved",
        Some(&row.device_id),
        json!({"requestId": req}),
    )
    .await;
    Ok(json!({"requestId": req, "device": paired_json(&row, None)}))
}

/// `device.pair.reject`: `{requestId, deviceId}`; the device is forgotten (a later connect
/// asks again); announces `device.pair.resolved`.
pub async fn reject(engine: &Engine, who: &Principal, request_id: &str) -> Result<Value> {
    let req = required("requestId", request_id)?.to_string();
    let now = engine.now_ms();
    let r = req.clone();
    let device_id = engine
        .store()
        .write_async(move |s| s.device_reject(&r, now - PENDING_TTL_MS))
        .await?
        .ok_or_else(|| unknown_request(&req))?;
    engine.emit(EngineEvent::DevicePairResolved(resolved_json(
        &req, &device_id, "rejected", now,
    )));
    audit::record_by(
        engine,
        who,
        "device.rejected",
        Some(&device_id),
        json!({"requestId": req}),
    )
    .await;
    Ok(json!({"requestId": req, "deviceId": device_id}))
}

fn unknown_request(req: &str) -> Error {
    Error::invalid(format!(
        "unknown requestId '{req}': no pending pairing request has it (settled, or expired after 5 minutes)"
    ))
}

fn unknown_device(device_id: &str) -> Error {
    Error::invalid(format!(
        "unknown deviceId '{device_id}': no paired device has it (see device.pair.list)"
    ))
}

/// `device.pair.remove`: forgets a paired device (and a revocation of it) and closes its open
/// connections. With approval required it must pair again.
pub async fn remove(engine: &Engine, who: &Principal, device_id: &str) -> Result<Value> {
    let id = required("deviceId", device_id)?.to_string();
    let i = id.clone();
    if !engine
        .store()
        .write_async(move |s| s.device_remove(&i))
        .await?
    {
        return Err(unknown_device(&id));
    }
    engine.emit(EngineEvent::DeviceAccessEnded {
        device_id: id.clone(),
    });
    audit::record_by(engine, who, "device.removed", Some(&id), json!({})).await;
    Ok(json!({"deviceId": id}))
}

/// `device.pair.rename`: `{deviceId, label}` (label trimmed, 1..64 characters); announces
/// `device.pair.changed`.
pub async fn rename(
    engine: &Engine,
    who: &Principal,
    device_id: &str,
    label: &str,
) -> Result<Value> {
    let id = required("deviceId", device_id)?.to_string();
    let label = label.trim().to_string();
    if label.is_empty() {
        return Err(Error::invalid(
            "label required: expected 1..64 characters (after trimming)",
        ));
    }
    let n = label.chars().count();
    if n > LABEL_MAX_CHARS {
        return Err(Error::invalid(format!(
            "label is {n} characters: expected 1..{LABEL_MAX_CHARS}"
        )));
    }
    let (i, l) = (id.clone(), label.clone());
    if !engine
        .store()
        .write_async(move |s| s.device_rename(&i, &l))
        .await?
    {
        return Err(unknown_device(&id));
    }
    engine.emit(EngineEvent::DevicePairChanged);
    audit::record_by(
        engine,
        who,
        "device.renamed",
        Some(&id),
        json!({"label": label}),
    )
    .await;
    Ok(json!({"deviceId": id, "label": label}))
}

fn check_role(role: Option<&str>, denied: &str) -> Result<()> {
    match role.map(str::trim) {
        None | Some(ROLE) => Ok(()),
        Some(other) => Err(Error::invalid(format!(
            "{denied}: role '{other}' is not held by devices here; expected \"operator\""
        ))),
    }
}

/// `device.token.revoke`: the device is revoked (its identity is refused from then on) and its
/// open connections close. `{ok, deviceId, role, revokedAtMs}`; revoking again keeps the first
/// time.
pub async fn token_revoke(
    engine: &Engine,
    who: &Principal,
    device_id: &str,
    role: Option<&str>,
) -> Result<Value> {
    const DENIED: &str = "device token revocation denied";
    check_role(role, DENIED)?;
    let id = required("deviceId", device_id)?.to_string();
    let now = engine.now_ms();
    let i = id.clone();
    let (newly, row) = engine
        .store()
        .write_async(move |s| Ok((s.device_revoke(&i, now)?, s.device_get(&i)?)))
        .await?;
    let Some(row) = row else {
        return Err(Error::invalid(format!("{DENIED}: unknown deviceId '{id}'")));
    };
    engine.emit(EngineEvent::DeviceAccessEnded {
        device_id: id.clone(),
    });
    if newly {
        engine.emit(EngineEvent::DevicePairChanged);
        audit::record_by(engine, who, "device.revoked", Some(&id), json!({})).await;
    }
    Ok(json!({
        "ok": true, "deviceId": id, "role": ROLE,
        "revokedAtMs": row.revoked_at.unwrap_or(now),
    }))
}

/// `device.token.rotate`: no device tokens are issued here, so nothing rotates.
pub async fn token_rotate(engine: &Engine, device_id: &str, role: Option<&str>) -> Result<Value> {
    const DENIED: &str = "device token rotation denied";
    check_role(role, DENIED)?;
    let id = required("deviceId", device_id)?.to_string();
    let i = id.clone();
    if engine
        .store()
        .read_async(move |s| s.device_get(&i))
        .await?
        .is_none()
    {
        return Err(Error::invalid(format!("{DENIED}: unknown deviceId '{id}'")));
    }
    Ok(json!({
        "ok": true, "rotated": false, "deviceId": id, "role": ROLE,
        "note": "this gateway issues no device tokens: the API key (auth.token) is the credential and \
                 the device identity is checked by signature; revoke the device to refuse it",
    }))
}
