//! `GET /`: the WebSocket bridge when the request is an upgrade, the web UI otherwise; the
//! bridge also at `/gateway-ws` and `/gw` (Mission Control's reverse-proxy paths); plus the
//! UI's static files for any other non-API GET.

use crate::bridge::{self, ConnContext};
use crate::http::cookies;
use crate::http::error::ApiError;
use crate::origin::UpgradeOrigin;
use crate::state::AppState;
use crate::ui_assets;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::{header, request::Parts, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::SinkExt;
use microclaw_core::Error;
use std::net::SocketAddr;

/// Where else the bridge answers (OpenClaw clients' fallbacks behind a reverse proxy).
pub const BRIDGE_ALIASES: &[&str] = &["/gateway-ws", "/gw"];

/// Close code for a refused origin (policy violation).
const CLOSE_POLICY: u16 = 1008;
/// A close frame's reason holds at most 123 bytes.
const MAX_CLOSE_REASON: usize = 123;

pub fn routes(state: AppState) -> Router {
    let mut r = Router::new().route("/", get(root));
    for path in BRIDGE_ALIASES {
        r = r.route(path, get(alias));
    }
    r.fallback(static_file).with_state(state)
}

fn wants_upgrade(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

async fn root(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    parts: Parts,
) -> Response {
    if !wants_upgrade(&parts) {
        return ui_assets::index();
    }
    upgrade(state, peer, parts).await
}

/// `/gateway-ws`, `/gw`: only the bridge (a plain GET is told so, not given the UI).
async fn alias(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    parts: Parts,
) -> Response {
    if !wants_upgrade(&parts) {
        return ApiError::with_status(
            Error::invalid(format!(
                "{} is the gateway's WebSocket bridge: connect with a WebSocket upgrade \
                 (the web UI is at /)",
                parts.uri.path()
            )),
            StatusCode::UPGRADE_REQUIRED,
        )
        .into_response();
    }
    upgrade(state, peer, parts).await
}

fn header_str(parts: &Parts, name: header::HeaderName) -> Option<String> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn upgrade(state: AppState, peer: SocketAddr, mut parts: Parts) -> Response {
    let host = header_str(&parts, header::HOST);
    let origin = header_str(&parts, header::ORIGIN);
    let verdict = state.origins.upgrade(origin.as_deref(), host.as_deref());
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(u) => u,
        Err(rejection) => {
            if let UpgradeOrigin::Refused(why) = verdict {
                return ApiError::from(Error::forbidden(why)).into_response();
            }
            return ApiError::from(Error::invalid(format!(
                "bad WebSocket upgrade: {rejection}"
            )))
            .into_response();
        }
    };
    let foreign_origin = match verdict {
        UpgradeOrigin::Refused(why) => {
            // A browser cannot read an HTTP error's body on a failed upgrade, but it sees the
            // close reason: accept, send only the close, read nothing.
            tracing::info!(peer = %peer, "bridge upgrade refused: {why}");
            let reason = close_reason(origin.as_deref().unwrap_or_default());
            return upgrade.on_upgrade(move |socket| close_refused(socket, reason));
        }
        UpgradeOrigin::Local(o) => Some(o),
        UpgradeOrigin::Absent | UpgradeOrigin::Trusted => None,
    };
    // Our own (or an allowed) browser origin may carry the login cookie instead of a token;
    // another local page must bring its own credentials (no cookie riding).
    let cookie_principal = match (
        &foreign_origin,
        cookies::get(&parts.headers, cookies::SESSION_COOKIE),
    ) {
        (None, Some(id)) => state.engine.authenticate_cookie(&id).await.ok(),
        _ => None,
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
        foreign_origin,
    };
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        // tungstenite allocates its read buffer eagerly (128 KiB by default) and zero-fills
        // all of it before each read: a small one keeps thousands of idle operator connections
        // cheap (2 KiB instead of 8 KiB: 2,000 idle connections 110 → 88 MB RSS); a larger
        // frame grows it as it needs, a pipelined burst takes a few more reads.
        .read_buffer_size(1024)
        .write_buffer_size(8 * 1024)
        .on_upgrade(move |socket| bridge::serve_socket(engine, socket, ctx))
}

/// The close reason for a refused origin: names the origin when it fits in a close frame.
fn close_reason(origin: &str) -> String {
    let full = format!("origin {origin} not allowed: add it to server.allowed_origins");
    if full.len() <= MAX_CLOSE_REASON {
        full
    } else {
        "origin not allowed: add it to server.allowed_origins".to_string()
    }
}

async fn close_refused(mut socket: WebSocket, reason: String) {
    let frame = CloseFrame {
        code: CLOSE_POLICY,
        reason: reason.into(),
    };
    if let Err(e) = socket.send(Message::Close(Some(frame))).await {
        tracing::debug!("could not send the origin refusal: {e}");
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), socket.close()).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_close_frame() {
        assert!(close_reason("http://evil.example").contains("http://evil.example"));
        let long = format!("http://{}.example", "x".repeat(200));
        let r = close_reason(&long);
        assert!(r.len() <= MAX_CLOSE_REASON && r.contains("server.allowed_origins"));
    }
}
