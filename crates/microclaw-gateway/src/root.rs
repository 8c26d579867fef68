//! `GET /`: the WebSocket bridge when the request is an upgrade, the web UI otherwise;
//! plus the UI's static files for any other non-API GET.

use crate::bridge::{self, ConnContext};
use crate::http::cookies;
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::ui_assets;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::{header, request::Parts, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use microclaw_core::Error;
use std::net::SocketAddr;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/", get(root))
        .fallback(static_file)
        .with_state(state)
}

async fn root(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut parts: Parts,
) -> Response {
    let wants_upgrade = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !wants_upgrade {
        return ui_assets::index();
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let origin = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if origin.is_some() && !state.origins.host_allowed(host.as_deref()) {
        return ApiError::from(Error::forbidden(format!(
            "host '{}' is not allowed for browser connections",
            host.unwrap_or_default()
        )))
        .into_response();
    }
    if !state
        .origins
        .origin_allowed(origin.as_deref(), host.as_deref())
    {
        return ApiError::from(Error::forbidden(format!(
            "origin '{}' is not allowed: add it to server.allowed_origins",
            origin.unwrap_or_default()
        )))
        .into_response();
    }
    // A same-origin browser upgrade may carry the login cookie instead of a token.
    let cookie_principal = match cookies::get(&parts.headers, cookies::SESSION_COOKIE) {
        Some(id) => state.engine.authenticate_cookie(&id).await.ok(),
        None => None,
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(u) => u,
        Err(rejection) => {
            return ApiError::from(Error::invalid(format!(
                "bad WebSocket upgrade: {rejection}"
            )))
            .into_response()
        }
    };
    // Frames up to twice maxPayload reach the bridge, which closes with 1009 and a reason.
    let max = state
        .engine
        .config()
        .server
        .max_payload_bytes
        .saturating_mul(2);
    // Sockets that have not completed `connect` are capped over all clients.
    let Some(slot) = state.sockets.admit() else {
        tracing::warn!(
            cap = state.sockets.max_unauthenticated(),
            "bridge upgrade refused: too many connections have not completed connect"
        );
        return ApiError::from(Error::unavailable(format!(
            "too many bridge connections waiting to connect (server.max_unauthenticated_connections = {}): retry shortly",
            state.sockets.max_unauthenticated()
        )))
        .into_response();
    };
    let engine = state.engine.clone();
    let ctx = ConnContext {
        peer,
        cookie_principal,
        remote_host: host.unwrap_or_default(),
        slot: Some(std::sync::Arc::new(slot)),
    };
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        // tungstenite allocates its read buffer eagerly (128 KiB by default): small buffers
        // keep thousands of idle operator connections cheap; they grow as frames need.
        .read_buffer_size(8 * 1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| bridge::serve_socket(engine, socket, ctx))
}

async fn static_file(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path.starts_with("api/") || path == "api" {
        return ApiError::from(Error::not_found(format!(
            "no such endpoint: {}",
            uri.path()
        )))
        .into_response();
    }
    match ui_assets::asset(path) {
        Some(r) => r,
        None if !path.contains('.') => ui_assets::index(),
        None => ApiError::from(Error::not_found(format!("no such file: {}", uri.path())))
            .into_response(),
    }
}
