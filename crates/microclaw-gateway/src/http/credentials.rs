//! The one credentials middleware: resolves `Authorization: Bearer` or the `mc_session`
//! cookie on every request (so a revoked or expired key, a revoked login session or a
//! password change bites at the next request, whichever process made it), checks CSRF and
//! Origin/Host for cookies, charges the per-key request limit and enforces the scope table.

use super::cookies::{self, CSRF_HEADER, SESSION_COOKIE};
use super::error::ApiError;
use super::scopes::{access, Access};
use crate::state::AppState;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use microclaw_core::proxies::{self, ProxyNet};
use microclaw_core::{Error, Scope};
use microclaw_engine::audit::{self, kind};
use microclaw_engine::{Principal, PrincipalKind};
use std::net::SocketAddr;

/// The resolved caller, if any credential was sent (request extension).
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Principal>);

/// The client address used by the login throttle (request extension).
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

fn header_str(h: &HeaderMap, name: impl axum::http::header::AsHeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// The client address for the login throttle: the peer, or with
/// `server.trust_x_forwarded_for` the right-most `X-Forwarded-For` hop that is not one of
/// `server.trusted_proxies` (the left-most hop is whatever the client sent).
pub fn client_addr(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    let server = &state.engine.config().server;
    if !server.trust_x_forwarded_for {
        return peer.ip().to_string();
    }
    // Validated at config load; an entry that fails here is simply not trusted.
    let trusted: Vec<ProxyNet> = server
        .trusted_proxies
        .iter()
        .filter_map(|s| ProxyNet::parse(s).ok())
        .collect();
    let forwarded = header_str(headers, "x-forwarded-for");
    proxies::client_ip(peer.ip(), forwarded, &trusted).to_string()
}

/// Resolves the credential: Err for a bad Bearer token (no fall-through to the cookie).
async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
    public: bool,
) -> Result<Option<Principal>, Error> {
    if let Some(auth) = header_str(headers, header::AUTHORIZATION) {
        let token = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
            .ok_or_else(|| {
                Error::unauthorized("Authorization header must be 'Bearer <api-key>'")
            })?;
        return state.engine.authenticate_token(token).await.map(Some);
    }
    let Some(session) = cookies::get(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let host = header_str(headers, header::HOST);
    let origin = header_str(headers, header::ORIGIN);
    if !state.origins.host_allowed(host) || !state.origins.origin_allowed(origin, host) {
        return Err(Error::forbidden(format!(
            "cookie credentials from origin '{}' (host '{}') are not allowed: use the console's own address or add the origin to server.allowed_origins",
            origin.unwrap_or(""), host.unwrap_or("")
        )));
    }
    match state.engine.authenticate_cookie(&session).await {
        Ok(p) => Ok(Some(p)),
        Err(_) if public => Ok(None),
        Err(e) => Err(e),
    }
}

fn check_csrf(p: &Principal, headers: &HeaderMap) -> Result<(), Error> {
    if !matches!(p.kind, PrincipalKind::LoginSession { .. }) {
        return Ok(());
    }
    let sent = header_str(headers, CSRF_HEADER).unwrap_or("");
    let cookie = cookies::get(headers, cookies::CSRF_COOKIE).unwrap_or_default();
    let expected = p.csrf.as_deref().unwrap_or("");
    let ok = !sent.is_empty()
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            sent.as_bytes(),
            expected.as_bytes(),
        ))
        && sent == cookie;
    if ok {
        Ok(())
    } else {
        Err(Error::forbidden(
            "missing or invalid csrf token: send header x-csrf-token equal to the mc_csrf cookie",
        ))
    }
}

pub async fn authorize(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let route = matched.as_ref().map(|m| m.as_str()).unwrap_or("");
    let rule = match access(req.method(), route) {
        Access::PrometheusText if state.engine.config().metrics.prometheus_public => Access::Public,
        Access::PrometheusText => Access::Needs(Scope::Read),
        other => other,
    };
    let headers = req.headers();
    let public = matches!(rule, Access::Public | Access::AdminOrSetupToken);
    let caller = match resolve(&state, headers, public).await {
        Ok(c) => c,
        // A public endpoint answers whatever credential was sent (a health probe with a stale
        // key still gets its answer); it just runs without a caller.
        Err(_) if rule == Access::Public => None,
        Err(e) => return ApiError::from(e).into_response(),
    };
    // The per-key request limit, on every request that carries a key (denied ones included:
    // each denial writes an audit row). A public endpoint still answers over the limit.
    if let Some(p) = &caller {
        if let Err(e) = state.engine.charge_request(p) {
            if rule != Access::Public {
                return ApiError::from(e).into_response();
            }
        }
    }
    match (&rule, &caller) {
        (Access::Public, _) => {}
        (Access::AdminOrSetupToken, Some(p)) => {
            if let Err(e) = check_csrf(p, headers) {
                return ApiError::from(e).into_response();
            }
        }
        (Access::AdminOrSetupToken, None) => {}
        (Access::Needs(_), None) | (Access::PrometheusText, None) => {
            return ApiError::from(Error::unauthorized(
                "missing credentials: send 'Authorization: Bearer <api-key>' or log in for the mc_session cookie",
            ))
            .into_response();
        }
        (Access::Needs(scope), Some(p)) => {
            if *scope != Scope::Read {
                if let Err(e) = check_csrf(p, headers) {
                    return ApiError::from(e).into_response();
                }
            }
            if let Err(e) = p.require(*scope) {
                audit::record_by(
                    &state.engine,
                    p,
                    kind::SCOPE_DENIED,
                    Some(route),
                    serde_json::json!({"needed": scope.as_str()}),
                )
                .await;
                return ApiError::from(e).into_response();
            }
        }
        (Access::PrometheusText, Some(_)) => {}
    }
    let addr = client_addr(&state, req.headers(), peer);
    req.extensions_mut().insert(ClientAddr(addr));
    req.extensions_mut().insert(Caller(caller));
    next.run(req).await
}
