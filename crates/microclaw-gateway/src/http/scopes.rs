//! The scope table: which credential each endpoint needs. One table, read by one middleware.
//! Actions the bridge exposes too (delete, reset, fork) take their scope from core's shared
//! table (`microclaw_core::scope::action_scope`), so both transports agree.

use axum::http::Method;
use microclaw_core::scope::action_scope;
use microclaw_core::Scope;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credential needed (one is still resolved when sent).
    Public,
    /// A credential with this scope, exactly or implied (admin → all, write → read).
    Needs(Scope),
    /// `POST /api/auth/password`: the one-time setup token or an admin credential.
    AdminOrSetupToken,
    /// `GET /metrics`: read, or public when `metrics.prometheus_public = true`.
    PrometheusText,
}

/// Access rule for a matched route template; unknown routes need admin (deny by default).
pub fn access(method: &Method, route: &str) -> Access {
    use Access::*;
    use Scope::*;
    // HEAD is a GET without the body: the same rule.
    let m = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    match (m, route) {
        ("GET", "/health" | "/api/health" | "/api/auth/status")
        | ("POST", "/api/auth/login" | "/api/auth/logout") => Public,
        (
            "GET",
            "/api/sessions"
            | "/api/history"
            | "/api/sessions/tree"
            | "/api/sessions/export"
            | "/api/metrics"
            | "/api/metrics/history"
            | "/api/metrics/summary"
            | "/api/metrics/export"
            | "/api/config"
            | "/api/config/self_check"
            | "/api/logs"
            | "/api/presence"
            | "/api/usage"
            | "/api/usage/export"
            | "/api/usage/session"
            | "/api/budgets"
            | "/api/scheduler/jobs"
            | "/api/scheduler/jobs/{id}"
            | "/api/scheduler/runs"
            | "/api/scheduler/status"
            | "/api/scheduler/preview"
            | "/api/scheduler/dlq",
        ) => Needs(Read),
        ("POST", "/api/send" | "/api/sessions/settings") => Needs(Write),
        ("POST", "/api/sessions/fork" | "/api/delete_session" | "/api/reset") => {
            Needs(action_scope(&format!("POST {route}")).unwrap_or(Admin))
        }
        // Device pairing: the scope of the bridge's device.pair.* / device.token.*.
        ("GET", "/api/devices")
        | (
            "POST",
            "/api/devices/requests/{id}/approve"
            | "/api/devices/requests/{id}/reject"
            | "/api/devices/{id}/remove"
            | "/api/devices/{id}/rename"
            | "/api/devices/{id}/revoke",
        ) => Needs(Pairing),
        // Approvals: the scope of the bridge's exec.approval.* / approval.*.
        ("GET", "/api/exec-approvals" | "/api/exec-approvals/history")
        | ("POST", "/api/exec-approvals/respond") => Needs(Approvals),
        // Fleet: reading needs read; changing the registry needs admin (decisions.md). The call
        // route needs read here; its handler requires admin for a non-read method.
        ("GET", "/api/gateways" | "/api/gateways/{id}" | "/api/gateways/{id}/history")
        | ("POST", "/api/gateways/{id}/call") => Needs(Read),
        // The burn drill (decisions.md): reading needs read; incident owner and notes need
        // write; opening incidents, their status, the freeze and rollback need admin (default).
        (
            "GET",
            "/api/alerts"
            | "/api/incidents"
            | "/api/incidents/{id}"
            | "/api/incidents/{id}/export"
            | "/api/freeze"
            | "/api/config/versions",
        ) => Needs(Read),
        ("POST", "/api/incidents/{id}/owner" | "/api/incidents/{id}/notes") => Needs(Write),
        ("POST", "/api/auth/password") => AdminOrSetupToken,
        ("GET", "/metrics") => PrometheusText,
        _ => Needs(Admin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_management_and_audit_need_admin_and_reads_need_read() {
        assert_eq!(
            access(&Method::GET, "/api/auth/api_keys"),
            Access::Needs(Scope::Admin)
        );
        assert_eq!(
            access(&Method::DELETE, "/api/auth/api_keys/{id}"),
            Access::Needs(Scope::Admin)
        );
        assert_eq!(
            access(&Method::GET, "/api/audit"),
            Access::Needs(Scope::Admin)
        );
        assert_eq!(
            access(&Method::GET, "/api/sessions"),
            Access::Needs(Scope::Read)
        );
        for route in ["/api/sessions/fork", "/api/delete_session", "/api/reset"] {
            assert_eq!(
                access(&Method::POST, route),
                Access::Needs(Scope::Approvals),
                "{route}"
            );
        }
        assert_eq!(access(&Method::GET, "/api/health"), Access::Public);
    }
}
