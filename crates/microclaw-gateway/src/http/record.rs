//! Counts every HTTP request by its route template and status class.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// Route templates as `'static` labels for the metrics recorder.
const ROUTES: &[&str] = &[
    "/",
    "/health",
    "/api/health",
    "/api/auth/status",
    "/api/auth/login",
    "/api/auth/logout",
    "/api/auth/password",
    "/api/auth/api_keys",
    "/api/auth/api_keys/{id}",
    "/api/auth/api_keys/{id}/rotate",
    "/api/audit",
    "/api/audit/verify",
    "/api/sessions",
    "/api/history",
    "/api/sessions/tree",
    "/api/sessions/fork",
    "/api/delete_session",
    "/api/reset",
    "/api/sessions/settings",
    "/api/send",
    "/api/metrics",
    "/api/metrics/history",
    "/api/metrics/summary",
    "/api/metrics/export",
    "/metrics",
    "/api/config",
    "/api/config/self_check",
    "/api/logs",
    "/api/presence",
    "/api/alerts",
    "/api/incidents",
    "/api/incidents/{id}",
    "/api/incidents/{id}/owner",
    "/api/incidents/{id}/notes",
    "/api/incidents/{id}/status",
    "/api/incidents/{id}/export",
    "/api/freeze",
    "/api/config/versions",
    "/api/config/rollback",
    "/api/usage",
    "/api/usage/export",
    "/api/usage/session",
    "/api/budgets",
    "/api/exec-approvals",
    "/api/exec-approvals/respond",
    "/api/exec-approvals/history",
];

fn label(matched: Option<&MatchedPath>) -> &'static str {
    let Some(m) = matched else { return "other" };
    ROUTES
        .iter()
        .copied()
        .find(|r| *r == m.as_str())
        .unwrap_or("other")
}

pub async fn record_request(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = label(req.extensions().get::<MatchedPath>());
    let start = Instant::now();
    let resp = next.run(req).await;
    let us = start.elapsed().as_micros() as u64;
    state
        .engine
        .metrics()
        .record_http(route, resp.status().as_u16(), us);
    tracing::debug!(route, status = resp.status().as_u16(), us, "http");
    resp
}
