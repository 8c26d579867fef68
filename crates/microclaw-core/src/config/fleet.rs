//! `[fleet]`: remote gateways the console probes (operations.md §5).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FleetConfig {
    /// Where remote gateway tokens go: "auto" (the OS keychain when one answers, else
    /// "file"), "keychain" (fail when there is none) or "file" (encrypted under the install
    /// secret, in the database).
    pub token_store: String,
    /// Time between two probes of one gateway.
    pub probe_interval_ms: u64,
    /// One probe (connect + `health`) gives up after this long.
    pub probe_timeout_ms: u64,
    /// Probe rows kept per gateway (the oldest go first).
    pub history_rows: usize,
    /// An alert (audit entry, `gateway.alert` event, desktop notification) when a gateway has
    /// not been up for this many probes in a row.
    pub down_alert_after: u32,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            token_store: "auto".into(),
            probe_interval_ms: 30_000,
            probe_timeout_ms: 5_000,
            history_rows: 500,
            down_alert_after: 3,
        }
    }
}

pub(super) const TOKEN_STORES: &[&str] = &["auto", "keychain", "file"];
