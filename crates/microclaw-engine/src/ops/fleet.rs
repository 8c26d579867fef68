//! Fleet operations (operations.md §5): list / add / update / remove remote gateways, probe one
//! now, its probe history, and forward one call. Changing the registry needs admin (the
//! transports check it); the token is write-only — no function here returns it.

use crate::audit;
use crate::engine::Engine;
use crate::fleet::client::{ConnectError, RemoteConn, RemoteError};
use crate::fleet::{prober, tokens};
use crate::principal::Principal;
use microclaw_core::{Error, ErrorCode, Result};
use microclaw_store::gateways::{GatewayNew, GatewayPatch, GatewayRow};
use serde_json::{json, Value};
use std::time::Duration;

pub const NAME_MAX_CHARS: usize = 64;
pub const TOKEN_MAX_BYTES: usize = 4096;
pub const HISTORY_MAX: usize = 10_000;

/// A gateway as clients see it (no token, no ciphertext).
pub fn gateway_json(g: &GatewayRow) -> Value {
    json!({
        "id": g.id, "name": g.name, "url": g.url, "kind": g.kind, "local": false,
        "status": g.status, "latencyMs": g.latency_ms, "version": g.version,
        "protocol": g.protocol, "sessionCount": g.session_count,
        "lastCheckedAt": g.last_checked_at, "lastError": g.last_error,
        "downProbes": g.down_streak, "tokenStore": g.token_store,
        "createdAt": g.created_at, "updatedAt": g.updated_at,
    })
}

fn local_json(engine: &Engine) -> Value {
    json!({
        "id": "local", "name": "this console", "url": null, "kind": "microclaw", "local": true,
        "status": "up", "latencyMs": 0, "version": microclaw_core::VERSION, "protocol": 4,
        "sessionCount": engine.session_count(), "lastCheckedAt": engine.now_ms(),
        "lastError": null,
    })
}

/// `{gateways: [local, ...remotes], tokenStore}`: `tokenStore` is where a new token would go.
pub async fn list(engine: &Engine) -> Result<Value> {
    let setting = engine.config().fleet.token_store.clone();
    let (rows, store) = engine
        .blocking_read(move |e| {
            let store = tokens::choose(&setting).unwrap_or("unavailable");
            Ok((e.store().gateways_list()?, store))
        })
        .await?;
    let mut out = vec![local_json(engine)];
    out.extend(rows.iter().map(gateway_json));
    Ok(json!({"gateways": out, "tokenStore": store}))
}

pub async fn get(engine: &Engine, id: i64) -> Result<GatewayRow> {
    engine
        .store()
        .read_async(move |s| s.gateway_get(id))
        .await?
        .ok_or_else(|| {
            Error::not_found(format!(
                "gateway {id} not found: expected an id from GET /api/gateways"
            ))
        })
}

fn check_name(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > NAME_MAX_CHARS {
        return Err(Error::invalid(format!(
            "gateway name must be 1..{NAME_MAX_CHARS} characters"
        )));
    }
    Ok(n.to_string())
}

fn check_token(token: &str) -> Result<String> {
    let t = token.trim();
    if t.is_empty() || t.len() > TOKEN_MAX_BYTES {
        return Err(Error::invalid(format!(
            "gateway token must be 1..{TOKEN_MAX_BYTES} bytes (the remote gateway's API key or token)"
        )));
    }
    Ok(t.to_string())
}

fn check_kind(kind: Option<&str>) -> Result<Option<String>> {
    match kind {
        None => Ok(None),
        Some(k @ ("openclaw" | "microclaw" | "console")) => Ok(Some(k.to_string())),
        Some(k) => Err(Error::invalid(format!(
            "gateway kind '{k}': expected \"openclaw\", \"microclaw\" or \"console\""
        ))),
    }
}

/// Seals the token where `fleet.token_store` says; returns (store, ref, ciphertext).
async fn store_token(engine: &Engine, token: String) -> Result<(String, String, Option<Vec<u8>>)> {
    let setting = engine.config().fleet.token_store.clone();
    let reference = uuid::Uuid::new_v4().to_string();
    engine
        .blocking_read(move |e| {
            let store = tokens::choose(&setting)?;
            let sealed = tokens::put(store, e.data_dir(), &reference, &token)?;
            Ok((store.to_string(), reference, sealed))
        })
        .await
}

pub async fn add(
    engine: &Engine,
    who: &Principal,
    name: &str,
    url: &str,
    token: &str,
    kind: Option<&str>,
) -> Result<Value> {
    super::freeze::guard(engine, &who.actor, None, "gateways.add").await?;
    let name = check_name(name)?;
    crate::fleet::client::ws_url(url)?;
    let token = check_token(token)?;
    let kind = check_kind(kind)?;
    let (token_store, token_ref, token_cipher) = store_token(engine, token).await?;
    let new = GatewayNew {
        name,
        url: url.trim().to_string(),
        kind,
        token_store,
        token_ref,
        token_cipher,
    };
    let now = engine.now_ms();
    let row = engine
        .store()
        .write_async(move |s| s.gateway_insert(&new, now))
        .await?;
    let detail = json!({"name": row.name, "url": row.url, "tokenStore": row.token_store});
    audit::record_by(
        engine,
        who,
        "gateway.add",
        Some(&row.id.to_string()),
        detail,
    )
    .await;
    Ok(gateway_json(&row))
}

pub async fn update(
    engine: &Engine,
    who: &Principal,
    id: i64,
    name: Option<&str>,
    url: Option<&str>,
    token: Option<&str>,
    kind: Option<&str>,
) -> Result<Value> {
    super::freeze::guard(engine, &who.actor, None, "gateways.update").await?;
    let before = get(engine, id).await?;
    let mut patch = GatewayPatch {
        name: name.map(check_name).transpose()?,
        url: match url {
            Some(u) => {
                crate::fleet::client::ws_url(u)?;
                Some(u.trim().to_string())
            }
            None => None,
        },
        kind: check_kind(kind)?,
        token: None,
    };
    if let Some(t) = token {
        patch.token = Some(store_token(engine, check_token(t)?).await?);
    }
    let token_changed = patch.token.is_some();
    let now = engine.now_ms();
    let row = engine
        .store()
        .write_async(move |s| s.gateway_update(id, &patch, now))
        .await?;
    if token_changed {
        let (store, reference) = (before.token_store, before.token_ref);
        let _ = tokio::task::spawn_blocking(move || tokens::delete(&store, &reference)).await;
    }
    let detail = json!({"name": row.name, "url": row.url, "tokenChanged": token_changed});
    audit::record_by(engine, who, "gateway.update", Some(&id.to_string()), detail).await;
    Ok(gateway_json(&row))
}

pub async fn remove(engine: &Engine, who: &Principal, id: i64) -> Result<Value> {
    super::freeze::guard(engine, &who.actor, None, "gateways.remove").await?;
    let row = engine
        .store()
        .write_async(move |s| s.gateway_delete(id))
        .await?;
    let (store, reference) = (row.token_store.clone(), row.token_ref.clone());
    let _ = tokio::task::spawn_blocking(move || tokens::delete(&store, &reference)).await;
    let detail = json!({"name": row.name, "url": row.url});
    audit::record_by(engine, who, "gateway.remove", Some(&id.to_string()), detail).await;
    Ok(json!({"removed": true, "id": id}))
}

/// Probes now (outside the schedule) and returns the gateway after the probe.
pub async fn probe(engine: &Engine, id: i64) -> Result<Value> {
    let g = get(engine, id).await?;
    match prober::probe_and_record(engine, &g).await {
        Some(row) => Ok(gateway_json(&row)),
        None => Err(Error::not_found(format!(
            "gateway {id} was removed during the probe"
        ))),
    }
}

/// `{id, history: [{at, status, latencyMs, error}]}`, oldest first, at most `limit` rows.
pub async fn history(engine: &Engine, id: i64, limit: Option<i64>) -> Result<Value> {
    get(engine, id).await?;
    let limit = limit.unwrap_or(500).clamp(1, HISTORY_MAX as i64) as usize;
    let rows = engine
        .store()
        .read_async(move |s| s.gateway_history(id, limit))
        .await?;
    let history: Vec<Value> = rows
        .iter()
        .map(|r| json!({"at": r.at, "status": r.status, "latencyMs": r.latency_ms, "error": r.error}))
        .collect();
    Ok(json!({"id": id, "history": history}))
}

/// Forwards one call to the gateway and returns the remote payload. The transport decides
/// who may forward which method (read methods for read scope, the rest admin).
pub async fn call(engine: &Engine, id: i64, method: &str, params: Value) -> Result<Value> {
    let method = method.trim();
    if method.is_empty() || method == "connect" || method.len() > 128 {
        return Err(Error::invalid(
            "method must name one remote method (1..128 characters, not \"connect\")",
        ));
    }
    let g = get(engine, id).await?;
    let token = crate::fleet::read_token(engine, &g).await?;
    let timeout = Duration::from_millis(engine.config().fleet.probe_timeout_ms.saturating_mul(3));
    let mut conn = RemoteConn::connect(&g.url, &token, timeout)
        .await
        .map_err(|e| match e {
            ConnectError::Auth(why) => Error::forbidden(format!(
                "gateway {id} ({}) refused our token ({why}): update the gateway's token",
                g.name
            )),
            ConnectError::Down(why) => {
                Error::unavailable(format!("gateway {id} ({}) is not reachable: {why}", g.name))
            }
        })?;
    let out = conn.request(method, params).await;
    conn.close().await;
    out.map_err(|e| match e {
        RemoteError::Refused { code, message } => {
            let code_kind = match code.as_str() {
                "INVALID_REQUEST" => ErrorCode::InvalidRequest,
                "NOT_FOUND" => ErrorCode::NotFound,
                "METHOD_NOT_FOUND" => ErrorCode::MethodNotFound,
                "FORBIDDEN" | "UNAUTHORIZED" => ErrorCode::Forbidden,
                "CONFLICT" => ErrorCode::Conflict,
                _ => ErrorCode::Unavailable,
            };
            Error::new(
                code_kind,
                format!("gateway {id} answered {method} with {code}: {message}"),
            )
        }
        RemoteError::Transport(t) => {
            Error::unavailable(format!("gateway {id} ({}): {method}: {t}", g.name))
        }
    })
}
