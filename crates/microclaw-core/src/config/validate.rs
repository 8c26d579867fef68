//! Range checks: a value outside its range is an error naming the key and the range.

use super::sections::Config;
use crate::error::Error;

fn range<T: PartialOrd + std::fmt::Display>(key: &str, v: T, lo: T, hi: T) -> Result<(), Error> {
    if v < lo || v > hi {
        return Err(Error::invalid(format!(
            "config {key} = {v} is out of range: expected {lo}..{hi}"
        )));
    }
    Ok(())
}

pub(super) fn validate(c: &Config) -> Result<(), Error> {
    range(
        "server.tick_interval_ms",
        c.server.tick_interval_ms,
        10,
        3_600_000,
    )?;
    range(
        "server.handshake_timeout_ms",
        c.server.handshake_timeout_ms,
        100,
        600_000,
    )?;
    range(
        "server.max_payload_bytes",
        c.server.max_payload_bytes,
        1024,
        64 << 20,
    )?;
    range(
        "server.max_buffered_bytes",
        c.server.max_buffered_bytes,
        1024,
        1 << 30,
    )?;
    range(
        "server.max_unauthenticated_connections",
        c.server.max_unauthenticated_connections,
        1,
        100_000,
    )?;
    range(
        "server.max_body_bytes",
        c.server.max_body_bytes,
        1024,
        64 << 20,
    )?;
    range(
        "auth.login_max_attempts",
        c.auth.login_max_attempts,
        1,
        10_000,
    )?;
    range(
        "auth.login_window_seconds",
        c.auth.login_window_seconds,
        1,
        86_400,
    )?;
    if c.auth.api_key_rate_limit_per_minute != 0 {
        range(
            "auth.api_key_rate_limit_per_minute",
            c.auth.api_key_rate_limit_per_minute,
            10,
            100_000,
        )
        .map_err(|_| {
            Error::invalid(format!(
                "config auth.api_key_rate_limit_per_minute = {} is out of range: expected 0 (off) or 10..100000",
                c.auth.api_key_rate_limit_per_minute
            ))
        })?;
    }
    crate::proxies::parse_list(&c.server.trusted_proxies)?;
    range(
        "auth.session_remember_days",
        c.auth.session_remember_days,
        1,
        90,
    )?;
    range(
        "sessions.max_inflight_per_session",
        c.sessions.max_inflight_per_session,
        0,
        1000,
    )?;
    range(
        "sessions.max_queued_per_session",
        c.sessions.max_queued_per_session,
        0,
        10_000,
    )?;
    range(
        "sessions.max_concurrent_runs",
        c.sessions.max_concurrent_runs,
        1,
        10_000,
    )?;
    range(
        "sessions.runs_retention_rows",
        c.sessions.runs_retention_rows,
        100,
        100_000_000,
    )?;
    range(
        "sessions.runs_retention_days",
        c.sessions.runs_retention_days,
        1,
        3650,
    )?;
    range(
        "metrics.flush_interval_seconds",
        c.metrics.flush_interval_seconds,
        1,
        300,
    )?;
    range(
        "metrics.history_retention_days",
        c.metrics.history_retention_days,
        1,
        3650,
    )?;
    range(
        "metrics.slo_window_minutes",
        c.metrics.slo_window_minutes,
        1,
        43_200,
    )?;
    let o = &c.observability;
    range(
        "observability.otlp_queue_capacity",
        o.otlp_queue_capacity,
        8,
        100_000,
    )?;
    range(
        "observability.otlp_retry_max_attempts",
        o.otlp_retry_max_attempts,
        1,
        10,
    )?;
    range(
        "observability.otlp_export_interval_seconds",
        o.otlp_export_interval_seconds,
        1,
        3600,
    )?;
    range("logging.ring_lines", c.logging.ring_lines, 100, 1_000_000)?;
    range(
        "logging.ring_bytes",
        c.logging.ring_bytes,
        64 << 10,
        256 << 20,
    )?;
    if !super::fleet::TOKEN_STORES.contains(&c.fleet.token_store.as_str()) {
        return Err(Error::invalid(format!(
            "config fleet.token_store = '{}': expected \"auto\", \"keychain\" or \"file\"",
            c.fleet.token_store
        )));
    }
    range(
        "fleet.probe_interval_ms",
        c.fleet.probe_interval_ms,
        100,
        86_400_000,
    )?;
    range(
        "fleet.probe_timeout_ms",
        c.fleet.probe_timeout_ms,
        100,
        120_000,
    )?;
    range("fleet.history_rows", c.fleet.history_rows, 10, 100_000)?;
    range("fleet.down_alert_after", c.fleet.down_alert_after, 1, 1000)?;
    range(
        "compat.mirror_debounce_ms",
        c.compat.mirror_debounce_ms,
        10,
        60_000,
    )?;
    c.budgets.validate()?;
    super::validate_pricing(&c.pricing)?;
    if !super::compat::agent_name_ok(&c.compat.openclaw_agent) {
        return Err(Error::invalid(format!(
            "config compat.openclaw_agent = '{}': expected a directory name of letters, digits, '-' or '_'",
            c.compat.openclaw_agent
        )));
    }
    if c.agents.default != "builtin" && !c.agents.backends.contains_key(&c.agents.default) {
        return Err(Error::invalid(format!(
            "config agents.default = '{}' names no configured agent: expected \"builtin\" or one of [{}]",
            c.agents.default,
            c.agents.backends.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    super::approvals::validate(&c.approvals)?;
    for (name, b) in &c.agents.backends {
        super::approvals::validate_agent(name, &b.tools, &b.approval)?;
        if b.kind != "openai" {
            return Err(Error::invalid(format!(
                "config agents.{name}.kind = '{}': expected \"openai\"",
                b.kind
            )));
        }
        if b.base_url.trim().is_empty() || b.model.trim().is_empty() {
            return Err(Error::invalid(format!(
                "config agents.{name} needs base_url and model"
            )));
        }
    }
    Ok(())
}
