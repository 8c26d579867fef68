//! `/api/auth/*` and `/api/audit`: thin adapters over `ops::auth`.

use super::cookies;
use super::credentials::{Caller, ClientAddr};
use super::error::{ApiError, ApiResult};
use super::extract::{path_id, Body, OptionalBody, Q};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use microclaw_core::Error;
use microclaw_engine::ops::auth as ops;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn status(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    Ok(Json(ops::auth_status(&s.engine, who.as_ref()).await?))
}

#[derive(Deserialize)]
pub struct LoginBody {
    password: String,
    label: Option<String>,
    remember_days: Option<u32>,
}

fn with_cookies(mut resp: Response, values: [String; 2]) -> Response {
    for v in values {
        if let Ok(hv) = HeaderValue::from_str(&v) {
            resp.headers_mut().append(header::SET_COOKIE, hv);
        }
    }
    resp
}

pub async fn login(
    State(s): State<AppState>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    Body(b): Body<LoginBody>,
) -> ApiResult<Response> {
    let days = b.remember_days.map(|d| d.clamp(1, 90));
    let session = ops::login(&s.engine, &client, &b.password, b.label.as_deref(), days).await?;
    let secure = s.engine.config().server.behind_tls;
    let body = json!({"ok": true, "expires_at": session.expires_at, "csrf_token": session.csrf_token, "session_id": session.session_id});
    let cookies = cookies::login_cookies(
        &session.session_id,
        &session.csrf_token,
        session.expires_at,
        secure,
    );
    Ok(with_cookies(Json(body).into_response(), cookies))
}

pub async fn logout(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let revoked = match cookies::get(&headers, cookies::SESSION_COOKIE) {
        Some(id) if !id.is_empty() => ops::logout(&s.engine, &id).await?,
        _ => false,
    };
    Ok(with_cookies(
        Json(json!({"ok": true, "revoked": revoked})).into_response(),
        cookies::clear_cookies(),
    ))
}

#[derive(Deserialize)]
pub struct PasswordBody {
    password: String,
    /// Required once a password is set (a change, not the first-run setup).
    current_password: Option<String>,
}

pub async fn set_password(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    headers: HeaderMap,
    Body(b): Body<PasswordBody>,
) -> ApiResult<Json<Value>> {
    let token = headers.get("x-setup-token").and_then(|v| v.to_str().ok());
    let change = ops::PasswordChange {
        setup_token: token,
        current_password: b.current_password.as_deref(),
        new_password: &b.password,
    };
    ops::set_password(&s.engine, who.as_ref(), &client, change).await?;
    Ok(Json(json!({"ok": true})))
}

fn actor(who: &Option<microclaw_engine::Principal>) -> String {
    who.as_ref()
        .map(|p| p.actor.clone())
        .unwrap_or_else(|| "anonymous".into())
}

pub async fn keys_list(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"ok": true, "keys": ops::keys_list(&s.engine).await?}),
    ))
}

#[derive(Deserialize)]
pub struct CreateKeyBody {
    label: String,
    scopes: Vec<String>,
    expires_days: Option<u32>,
}

fn created_json(k: microclaw_engine::auth::api_keys::CreatedKey) -> Value {
    json!({"ok": true, "id": k.id, "api_key": k.api_key, "prefix": k.prefix, "scopes": k.scopes,
           "expires_at": k.expires_at, "label": k.label})
}

pub async fn keys_create(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Body(b): Body<CreateKeyBody>,
) -> ApiResult<Json<Value>> {
    let k = ops::key_create(&s.engine, &actor(&who), &b.label, &b.scopes, b.expires_days).await?;
    Ok(Json(created_json(k)))
}

pub async fn keys_revoke(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = path_id(&id, "API key id")?;
    let revoked = ops::key_revoke(&s.engine, &actor(&who), id).await?;
    Ok(Json(json!({"ok": true, "revoked": revoked})))
}

#[derive(Deserialize, Default)]
pub struct RotateBody {
    label: Option<String>,
    scopes: Option<Vec<String>>,
    expires_days: Option<u32>,
}

pub async fn keys_rotate(
    State(s): State<AppState>,
    Extension(Caller(who)): Extension<Caller>,
    Path(id): Path<String>,
    OptionalBody(b): OptionalBody<RotateBody>,
) -> ApiResult<Json<Value>> {
    // An empty body keeps the old key's label and scopes, and its expiry period from now.
    let id = path_id(&id, "API key id")?;
    let k = ops::key_rotate(
        &s.engine,
        &actor(&who),
        id,
        b.label.as_deref(),
        b.scopes.as_deref(),
        b.expires_days,
    )
    .await?;
    Ok(Json(created_json(k)))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<u32>,
    kind: Option<String>,
}

pub async fn audit_list(State(s): State<AppState>, Q(q): Q<AuditQuery>) -> ApiResult<Json<Value>> {
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 10_000 {
        return Err(ApiError::from(Error::invalid(format!(
            "limit = {limit}: expected 1..10000"
        ))));
    }
    let kind = q.kind.filter(|k| !k.is_empty());
    let rows = s
        .engine
        .store()
        .read_async(move |st| st.audit_list(limit, kind.as_deref()))
        .await?;
    let entries: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"id": r.id, "ts": r.ts, "kind": r.kind, "actor": r.actor, "target": r.target,
                        "detail": r.detail, "prev_hash": r.prev_hash, "entry_hash": r.entry_hash})
        })
        .collect();
    Ok(Json(json!({"ok": true, "entries": entries})))
}

/// `GET /api/audit/verify`: recomputes the hash chain like `microclaw audit verify`, on the
/// store's blocking read pool. A broken chain is a normal answer (`intact: false` with the
/// reason naming the first bad row), not an HTTP error.
pub async fn audit_verify(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let verdict = s.engine.blocking_read(|e| e.store().audit_verify()).await?;
    Ok(Json(match verdict {
        Ok(n) => json!({"ok": true, "intact": true, "verified": n}),
        Err(reason) => json!({"ok": true, "intact": false, "reason": reason}),
    }))
}
