//! The config self-check: every risky setting found, with the offending value and the key
//! that fixes it, worst first.

use crate::auth::passwords;
use crate::engine::Engine;
use microclaw_core::config::Synchronous;
use microclaw_core::{Result, Scope};
use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub fix: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SelfCheck {
    pub ok: bool,
    pub risk_level: &'static str,
    pub warnings: Vec<Warning>,
    pub checked_at: i64,
}

const STALE_KEY_MS: i64 = 90 * 86_400_000;

/// True for loopback hosts (`127.0.0.0/8`, `::1`, `localhost`).
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

pub fn run(engine: &Engine) -> Result<SelfCheck> {
    let cfg = engine.config();
    let now = engine.now_ms();
    let mut w = Vec::new();
    let mut add = |code, severity, message: String, fix: String| {
        w.push(Warning {
            code,
            severity,
            message,
            fix,
        })
    };
    let loopback = is_loopback_host(&cfg.server.host);

    if !passwords::has_password(engine.store())? && engine.setup_token().is_some() {
        add("operator_password_missing", Severity::High,
            "no operator password is set and the one-time setup token is still open".into(),
            "set a password: open the setup URL printed at start, or run `microclaw auth password set`".into());
    }
    if !loopback && !cfg.server.behind_tls {
        add("bind_not_loopback_without_tls", Severity::High,
            format!("server.host = \"{}\" listens off loopback without TLS in front (server.behind_tls = false)", cfg.server.host),
            "bind server.host = \"127.0.0.1\", or put a TLS proxy in front and set server.behind_tls = true".into());
    }
    if cfg.server.allowed_origins.iter().any(|o| o.trim() == "*") {
        add("allowed_origins_wildcard", Severity::High,
            "server.allowed_origins contains \"*\": any web page may drive the console with a logged-in browser".into(),
            "list the exact origins in server.allowed_origins".into());
    }
    for k in engine
        .store()
        .api_keys_list()?
        .into_iter()
        .filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|e| e > now))
    {
        if k.scopes.contains_exact(Scope::Admin) && k.expires_at.is_none() {
            add("api_key_admin_no_expiry", Severity::Medium,
                format!("API key {} ('{}', {}) has operator.admin and no expiry", k.id, k.label, k.prefix),
                format!("rotate key {} with expires_days (POST /api/auth/api_keys/{}/rotate) or revoke it", k.id, k.id));
        }
        let last = k.last_used_at.unwrap_or(k.created_at);
        if now - last > STALE_KEY_MS {
            add(
                "api_key_stale",
                Severity::Low,
                format!(
                    "API key {} ('{}') has not been used for {} days",
                    k.id,
                    k.label,
                    (now - last) / 86_400_000
                ),
                format!("revoke key {} (DELETE /api/auth/api_keys/{})", k.id, k.id),
            );
        }
    }
    if cfg.auth.login_max_attempts > 20 || cfg.auth.login_window_seconds < 10 {
        add("login_throttle_weak", Severity::Medium,
            format!("auth.login_max_attempts = {} per auth.login_window_seconds = {}", cfg.auth.login_max_attempts, cfg.auth.login_window_seconds),
            "use at most 20 attempts per window and a window of at least 10 s (auth.login_max_attempts, auth.login_window_seconds)".into());
    }
    if cfg.server.trust_x_forwarded_for && loopback {
        add("trust_forwarded_for_on_loopback", Severity::Medium,
            "server.trust_x_forwarded_for = true while bound to loopback: any local process can pick its throttle bucket".into(),
            "set server.trust_x_forwarded_for = false unless a trusted proxy sits in front".into());
    }
    let o = &cfg.observability;
    if o.otlp_enabled && o.otlp_endpoint.trim().is_empty() {
        add("otlp_enabled_without_endpoint", Severity::High,
            "observability.otlp_enabled = true but observability.otlp_endpoint is blank".into(),
            "set observability.otlp_endpoint (e.g. \"http://127.0.0.1:4318\") or otlp_enabled = false".into());
    }
    if o.otlp_enabled && o.otlp_queue_capacity < 16 {
        add(
            "otlp_queue_capacity_low",
            Severity::Medium,
            format!(
                "observability.otlp_queue_capacity = {}: bursts will drop batches",
                o.otlp_queue_capacity
            ),
            "raise observability.otlp_queue_capacity to 16 or more (default 256)".into(),
        );
    }
    if o.otlp_enabled && o.otlp_retry_max_attempts <= 1 {
        add(
            "otlp_retry_attempts_too_low",
            Severity::Medium,
            format!(
                "observability.otlp_retry_max_attempts = {}: one failed send loses the batch",
                o.otlp_retry_max_attempts
            ),
            "set observability.otlp_retry_max_attempts to 3 or more".into(),
        );
    }
    if cfg.metrics.history_retention_days < 7 {
        add(
            "metrics_retention_short",
            Severity::Low,
            format!(
                "metrics.history_retention_days = {}: weekly SLO windows lack data",
                cfg.metrics.history_retention_days
            ),
            "set metrics.history_retention_days to 7 or more (default 30)".into(),
        );
    }
    if cfg.metrics.prometheus_public && !loopback {
        add(
            "prometheus_public_off_loopback",
            Severity::High,
            format!(
                "metrics.prometheus_public = true while server.host = \"{}\"",
                cfg.server.host
            ),
            "set metrics.prometheus_public = false, or bind to loopback".into(),
        );
    }
    for (what, path) in [
        ("data dir", engine.data_dir().to_path_buf()),
        ("database file", engine.store().path().to_path_buf()),
    ] {
        if let Some(mode) = group_world_readable(&path) {
            add(
                "data_dir_permissions_open",
                Severity::High,
                format!(
                    "the {what} {} has mode {mode:o}: group/world readable",
                    path.display()
                ),
                format!(
                    "chmod {} {}",
                    if what == "data dir" { "700" } else { "600" },
                    path.display()
                ),
            );
        }
    }
    for a in engine.metrics_engine().firing_alerts() {
        add("slo_burn_active", Severity::High,
            format!("SLO burn alert firing: {}", serde_json::to_string(&a).unwrap_or_default()),
            "follow the runbook: freeze non-critical merges, assign an incident owner, prepare rollback".into());
    }
    if cfg.storage.synchronous == Synchronous::Off {
        add(
            "sqlite_sync_off",
            Severity::High,
            "storage.synchronous = \"off\": acknowledged writes can be lost on power failure"
                .into(),
            "set storage.synchronous = \"normal\" (or \"full\")".into(),
        );
    }
    w.sort_by_key(|x| std::cmp::Reverse(x.severity));
    let risk_level = match w.first().map(|x| x.severity) {
        Some(Severity::High) => "high",
        Some(Severity::Medium) => "medium",
        Some(Severity::Low) => "low",
        None => "none",
    };
    Ok(SelfCheck {
        ok: true,
        risk_level,
        warnings: w,
        checked_at: now,
    })
}

#[cfg(unix)]
fn group_world_readable(path: &std::path::Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn group_world_readable(_path: &std::path::Path) -> Option<u32> {
    None
}
