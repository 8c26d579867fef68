//! The operator HTTP API. Every route is a thin adapter over `microclaw_engine::ops`;
//! credentials and scopes are enforced by one middleware from one table (`scopes.rs`).

pub mod cookies;
mod credentials;
pub mod error;
mod extract;
mod record;
mod routes_alerts;
mod routes_approvals;
mod routes_auth;
mod routes_config;
mod routes_devices;
mod routes_freeze;
mod routes_gateways;
mod routes_incidents;
mod routes_logs;
mod routes_metrics;
mod routes_scheduler;
mod routes_session_export;
mod routes_sessions;
mod routes_usage;
pub mod scopes;

use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{delete, get, post};
use axum::Router;

pub fn routes(state: AppState) -> Router {
    let limit = state.engine.config().server.max_body_bytes;
    Router::new()
        .route("/health", get(routes_config::health))
        .route("/api/health", get(routes_config::health))
        .route("/api/auth/status", get(routes_auth::status))
        .route("/api/auth/login", post(routes_auth::login))
        .route("/api/auth/logout", post(routes_auth::logout))
        .route("/api/auth/password", post(routes_auth::set_password))
        .route(
            "/api/auth/api_keys",
            get(routes_auth::keys_list).post(routes_auth::keys_create),
        )
        .route("/api/auth/api_keys/{id}", delete(routes_auth::keys_revoke))
        .route(
            "/api/auth/api_keys/{id}/rotate",
            post(routes_auth::keys_rotate),
        )
        .route("/api/audit", get(routes_auth::audit_list))
        .route("/api/audit/verify", get(routes_auth::audit_verify))
        .route(
            "/api/gateways",
            get(routes_gateways::list).post(routes_gateways::add),
        )
        .route(
            "/api/gateways/{id}",
            get(routes_gateways::get_one)
                .patch(routes_gateways::update)
                .delete(routes_gateways::remove),
        )
        .route("/api/gateways/{id}/history", get(routes_gateways::history))
        .route("/api/gateways/{id}/probe", post(routes_gateways::probe))
        .route("/api/gateways/{id}/call", post(routes_gateways::call))
        .route("/api/exec-approvals", get(routes_approvals::list))
        .route(
            "/api/exec-approvals/respond",
            post(routes_approvals::respond),
        )
        .route(
            "/api/exec-approvals/history",
            get(routes_approvals::history),
        )
        .route("/api/devices", get(routes_devices::list))
        .route(
            "/api/devices/requests/{id}/approve",
            post(routes_devices::approve),
        )
        .route(
            "/api/devices/requests/{id}/reject",
            post(routes_devices::reject),
        )
        .route("/api/devices/{id}/remove", post(routes_devices::remove))
        .route("/api/devices/{id}/rename", post(routes_devices::rename))
        .route("/api/devices/{id}/revoke", post(routes_devices::revoke))
        .route("/api/sessions", get(routes_sessions::list))
        .route("/api/history", get(routes_sessions::history))
        .route("/api/sessions/tree", get(routes_sessions::tree))
        .route("/api/sessions/export", get(routes_session_export::export))
        .route("/api/sessions/fork", post(routes_sessions::fork))
        .route("/api/delete_session", post(routes_sessions::delete))
        .route("/api/reset", post(routes_sessions::reset))
        .route("/api/sessions/settings", post(routes_sessions::settings))
        .route("/api/send", post(routes_sessions::send))
        .route("/api/metrics", get(routes_metrics::snapshot))
        .route("/api/metrics/history", get(routes_metrics::history))
        .route("/api/metrics/summary", get(routes_metrics::summary))
        .route("/api/metrics/export", get(routes_metrics::export))
        .route("/metrics", get(routes_metrics::prometheus))
        .route(
            "/api/config",
            get(routes_config::get_config).put(routes_config::put_config),
        )
        .route("/api/config/self_check", get(routes_config::self_check))
        .route("/api/logs", get(routes_logs::tail))
        .route("/api/presence", get(routes_config::presence))
        .route("/api/usage", get(routes_usage::cost))
        .route("/api/usage/export", get(routes_usage::export))
        .route("/api/usage/session", get(routes_usage::session))
        .route(
            "/api/budgets",
            get(routes_usage::get_budgets).put(routes_usage::put_budgets),
        )
        .route(
            "/api/scheduler/jobs",
            get(routes_scheduler::list).post(routes_scheduler::add),
        )
        .route(
            "/api/scheduler/jobs/{id}",
            get(routes_scheduler::get)
                .patch(routes_scheduler::update)
                .delete(routes_scheduler::remove),
        )
        .route("/api/scheduler/jobs/{id}/run", post(routes_scheduler::run))
        .route("/api/scheduler/runs", get(routes_scheduler::runs))
        .route("/api/scheduler/status", get(routes_scheduler::status))
        .route("/api/scheduler/preview", get(routes_scheduler::preview))
        .route("/api/scheduler/dlq", get(routes_scheduler::dlq_list))
        .route(
            "/api/scheduler/dlq/{id}/replay",
            post(routes_scheduler::dlq_replay),
        )
        .route(
            "/api/scheduler/dlq/{id}/discard",
            post(routes_scheduler::dlq_discard),
        )
        .route("/api/alerts", get(routes_alerts::list))
        .route(
            "/api/incidents",
            get(routes_incidents::list).post(routes_incidents::create),
        )
        .route("/api/incidents/{id}", get(routes_incidents::get))
        .route("/api/incidents/{id}/owner", post(routes_incidents::owner))
        .route("/api/incidents/{id}/notes", post(routes_incidents::notes))
        .route("/api/incidents/{id}/status", post(routes_incidents::status))
        .route("/api/incidents/{id}/export", get(routes_incidents::export))
        .route(
            "/api/freeze",
            get(routes_freeze::get).put(routes_freeze::put),
        )
        .route("/api/config/versions", get(routes_freeze::versions))
        .route("/api/config/rollback", post(routes_freeze::rollback))
        // Inside `authorize` (it runs after it): the caller and override header for the
        // change-freeze guard.
        .route_layer(middleware::from_fn(routes_alerts::freeze_context))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            credentials::authorize,
        ))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record::record_request,
        ))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// A known path with the wrong method: a JSON error naming what is allowed.
async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> error::ApiError {
    let e = microclaw_core::Error::invalid(format!(
        "method {method} is not allowed on {}: see docs/http-api.md for the methods it accepts",
        uri.path()
    ));
    error::ApiError::with_status(e, axum::http::StatusCode::METHOD_NOT_ALLOWED)
}
