//! The JSON records of `device.pair.list` and the pairing events (openclaw-methods.md §7.1).
//! We issue no device tokens, so paired records carry no `tokens`; a revoked device carries
//! `revokedAtMs`.

use microclaw_store::DeviceRow;
use serde_json::{json, Map, Value};

/// Devices connect as operators only (no `node` role here).
const ROLE: &str = "operator";

fn scopes(d: &DeviceRow) -> Vec<&str> {
    d.scopes
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .collect()
}

fn put_opt(obj: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(s) = v.as_deref().filter(|s| !s.is_empty()) {
        obj.insert(key.into(), Value::from(s));
    }
}

/// Fields both records share.
fn common(d: &DeviceRow) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("deviceId".into(), json!(d.device_id));
    o.insert("publicKey".into(), json!(d.public_key));
    put_opt(&mut o, "displayName", &d.display_name);
    put_opt(&mut o, "platform", &d.platform);
    put_opt(&mut o, "deviceFamily", &d.device_family);
    if !d.client_id.is_empty() {
        o.insert("clientId".into(), json!(d.client_id));
    }
    put_opt(&mut o, "clientMode", &d.client_mode);
    o.insert("role".into(), json!(ROLE));
    o.insert("roles".into(), json!([ROLE]));
    o.insert("scopes".into(), json!(scopes(d)));
    put_opt(&mut o, "remoteIp", &d.remote_ip);
    o
}

/// An entry of `pending[]` and the `device.pair.requested` payload; `expires_at` is when the
/// request lapses (engine clock).
pub fn pending_json(d: &DeviceRow, expires_at: i64) -> Value {
    let mut o = common(d);
    o.insert(
        "requestId".into(),
        json!(d.request_id.as_deref().unwrap_or("")),
    );
    o.insert("silent".into(), json!(false));
    o.insert("isRepair".into(), json!(false));
    o.insert("ts".into(), json!(d.requested_at.unwrap_or(d.last_seen_at)));
    o.insert("expiresAtMs".into(), json!(expires_at));
    Value::Object(o)
}

/// An entry of `paired[]`; `connected` only in lists.
pub fn paired_json(d: &DeviceRow, connected: Option<bool>) -> Value {
    let mut o = common(d);
    put_opt(&mut o, "operatorLabel", &d.label);
    put_opt(&mut o, "approvedVia", &d.approved_via);
    o.insert("createdAtMs".into(), json!(d.first_seen_at));
    o.insert(
        "approvedAtMs".into(),
        json!(d.approved_at.unwrap_or(d.first_seen_at)),
    );
    o.insert("lastSeenAtMs".into(), json!(d.last_seen_at));
    o.insert("lastSeenReason".into(), json!("connect"));
    if let Some(at) = d.revoked_at {
        o.insert("revokedAtMs".into(), json!(at));
    }
    if let Some(c) = connected {
        o.insert("connected".into(), json!(c));
    }
    Value::Object(o)
}

/// The `device.pair.resolved` payload.
pub fn resolved_json(request_id: &str, device_id: &str, decision: &str, ts: i64) -> Value {
    json!({"requestId": request_id, "deviceId": device_id, "decision": decision, "ts": ts})
}
