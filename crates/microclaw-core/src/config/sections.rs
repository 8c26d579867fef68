//! The config sections. Every field has a default (see `default-config.toml`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub sessions: SessionsConfig,
    pub storage: StorageConfig,
    pub metrics: MetricsConfig,
    pub observability: ObservabilityConfig,
    pub agents: AgentsConfig,
    pub logging: LoggingConfig,
    pub fleet: super::FleetConfig,
    pub incidents: super::IncidentsConfig,
    pub freeze: super::FreezeConfig,
    pub compat: super::CompatConfig,
    pub approvals: super::ApprovalsConfig,
    pub budgets: super::BudgetsConfig,
    /// USD per million tokens by model name (`[pricing."<model>"]`).
    pub pricing: BTreeMap<String, super::ModelPrice>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    pub allowed_origins: Vec<String>,
    pub behind_tls: bool,
    pub trust_x_forwarded_for: bool,
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` hops are skipped.
    pub trusted_proxies: Vec<String>,
    pub tick_interval_ms: u64,
    pub handshake_timeout_ms: u64,
    pub max_payload_bytes: usize,
    pub max_buffered_bytes: usize,
    pub max_body_bytes: usize,
    pub shutdown_grace_ms: u64,
    /// Bridge sockets that have not completed `connect`, over all clients (beyond: 503).
    pub max_unauthenticated_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 10961,
            allowed_origins: vec![],
            behind_tls: false,
            trust_x_forwarded_for: false,
            trusted_proxies: vec!["127.0.0.1".into(), "::1".into()],
            tick_interval_ms: 15_000,
            handshake_timeout_ms: 10_000,
            max_payload_bytes: 1 << 20,
            max_buffered_bytes: 4 << 20,
            max_body_bytes: 1 << 20,
            shutdown_grace_ms: 5_000,
            max_unauthenticated_connections: 256,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub login_max_attempts: u32,
    pub login_window_seconds: u64,
    pub api_key_rate_limit_per_minute: u32,
    pub session_remember_days: u32,
    /// A verified device seen for the first time waits in `pending` until the operator
    /// approves it (`device.pair.approve`); token-only clients are not affected.
    pub require_device_approval: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            login_max_attempts: 5,
            login_window_seconds: 60,
            api_key_rate_limit_per_minute: 240,
            session_remember_days: 30,
            require_device_approval: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// Retired (0 = not set): when set and `max_queued_per_session` is left at its default,
    /// it is read as the queue bound.
    pub max_inflight_per_session: usize,
    /// Messages waiting behind a session's active run (beyond: UNAVAILABLE, retryable).
    pub max_queued_per_session: usize,
    /// Runs active at once over all sessions; further runs wait in their session's queue.
    pub max_concurrent_runs: usize,
    pub run_timeout_seconds: u64,
    /// Finished rows of the `runs` table kept (newest first) ...
    pub runs_retention_rows: u64,
    /// ... and for at most this many days.
    pub runs_retention_days: u64,
}

/// Default of `sessions.max_queued_per_session`.
pub const DEFAULT_MAX_QUEUED_PER_SESSION: usize = 16;

impl SessionsConfig {
    /// The per-session queue bound: `max_queued_per_session`, or the retired
    /// `max_inflight_per_session` when only that one is set.
    pub fn queue_bound(&self) -> usize {
        if self.max_queued_per_session == DEFAULT_MAX_QUEUED_PER_SESSION
            && self.max_inflight_per_session > 0
        {
            return self.max_inflight_per_session;
        }
        self.max_queued_per_session
    }
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            max_inflight_per_session: 0,
            max_queued_per_session: DEFAULT_MAX_QUEUED_PER_SESSION,
            max_concurrent_runs: 64,
            run_timeout_seconds: 600,
            runs_retention_rows: 10_000,
            runs_retention_days: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    Off,
    #[default]
    Normal,
    Full,
}

impl Synchronous {
    pub fn as_str(self) -> &'static str {
        match self {
            Synchronous::Off => "off",
            Synchronous::Normal => "normal",
            Synchronous::Full => "full",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub synchronous: Synchronous,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    pub flush_interval_seconds: u64,
    pub history_retention_days: u32,
    pub prometheus_public: bool,
    pub slo_window_minutes: u32,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            flush_interval_seconds: 10,
            history_retention_days: 30,
            prometheus_public: false,
            slo_window_minutes: 60,
        }
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ObservabilityConfig {
    pub otlp_enabled: bool,
    pub otlp_endpoint: String,
    pub otlp_headers: BTreeMap<String, String>,
    pub service_name: String,
    pub otlp_export_interval_seconds: u64,
    pub otlp_queue_capacity: usize,
    pub otlp_retry_max_attempts: u32,
    pub otlp_retry_base_ms: u64,
    pub otlp_retry_max_ms: u64,
    pub otlp_timeout_ms: u64,
}

impl std::fmt::Debug for ObservabilityConfig {
    // Header values are often credentials: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservabilityConfig")
            .field("otlp_enabled", &self.otlp_enabled)
            .field(
                "otlp_endpoint",
                &crate::redact::redact_url(&self.otlp_endpoint),
            )
            .field(
                "otlp_headers",
                &self
                    .otlp_headers
                    .keys()
                    .map(|k| (k, "[redacted]"))
                    .collect::<Vec<_>>(),
            )
            .field("service_name", &self.service_name)
            .field("otlp_queue_capacity", &self.otlp_queue_capacity)
            .finish_non_exhaustive()
    }
}

impl Default for ObservabilityConfig {
    fn default() -> Self {
        ObservabilityConfig {
            otlp_enabled: false,
            otlp_endpoint: String::new(),
            otlp_headers: BTreeMap::new(),
            service_name: "microclaw".into(),
            otlp_export_interval_seconds: 15,
            otlp_queue_capacity: 256,
            otlp_retry_max_attempts: 3,
            otlp_retry_base_ms: 500,
            otlp_retry_max_ms: 8000,
            otlp_timeout_ms: 10_000,
        }
    }
}

/// `[logging]`: the in-memory ring of recent log lines that `logs.tail` reads.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingConfig {
    /// Lines kept (oldest dropped first).
    pub ring_lines: usize,
    /// Bytes kept over all lines (each line counts its length plus a newline).
    pub ring_bytes: usize,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig {
            ring_lines: 5_000,
            ring_bytes: 2 << 20,
        }
    }
}

/// `[agents]`: `default` names the agent new sessions use; every other key is a backend table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AgentsConfig {
    pub default: String,
    #[serde(flatten)]
    pub backends: BTreeMap<String, AgentBackendConfig>,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        AgentsConfig {
            default: "builtin".into(),
            backends: BTreeMap::new(),
        }
    }
}

/// One configured agent backend (`kind = "openai"` is the only kind today).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AgentBackendConfig {
    pub kind: String,
    pub base_url: String,
    pub model: String,
    /// Name of the environment variable holding the provider key (the key never goes in the file).
    pub api_key_env: Option<String>,
    pub name: Option<String>,
    pub request_timeout_ms: u64,
    pub max_retries: u32,
    pub tool_timeout_ms: u64,
    /// Acting tools this agent may use (`run_command`, `write_file`); none by default.
    pub tools: Vec<String>,
    /// `<tool> = "always" | "never"`: whether a call waits for an operator (default `always`).
    pub approval: BTreeMap<String, String>,
}

impl Default for AgentBackendConfig {
    fn default() -> Self {
        AgentBackendConfig {
            kind: "openai".into(),
            base_url: String::new(),
            model: String::new(),
            api_key_env: None,
            name: None,
            request_timeout_ms: 120_000,
            max_retries: 2,
            tool_timeout_ms: 10_000,
            tools: Vec::new(),
            approval: BTreeMap::new(),
        }
    }
}
