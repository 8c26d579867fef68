//! `[approvals]` and the acting tools an agent may be given (operations.md §1): which tools
//! exist, their default approval policy, and the limits of `run_command`.

use crate::Error;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The tools that change things; each is off unless an agent's `tools = [...]` lists it.
pub const ACTING_TOOLS: &[&str] = &["run_command", "write_file"];
/// The read-only tools every LLM agent gets (policy `never`, not configurable).
pub const READ_ONLY_TOOLS: &[&str] = &[
    "sessions_list",
    "session_history",
    "metrics_summary",
    "self_check",
];
/// Accepted values of `[agents.<id>.approval] <tool> = …`.
pub const APPROVAL_POLICIES: &[&str] = &["always", "never"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalsConfig {
    /// A pending approval not answered within this long is denied (reason `expired`).
    pub expiry_ms: u64,
    /// `run_command` kills the command after this long.
    pub command_timeout_ms: u64,
    /// `run_command` keeps at most this many bytes of stdout and of stderr each.
    pub command_output_bytes: usize,
    /// Terminal approvals kept for `approval.history` (older ones are pruned).
    pub history_days: u32,
}

impl Default for ApprovalsConfig {
    fn default() -> Self {
        ApprovalsConfig {
            expiry_ms: 30 * 60 * 1000,
            command_timeout_ms: 30_000,
            command_output_bytes: 64 * 1024,
            history_days: 30,
        }
    }
}

/// The approval policy of `tool` for an agent: its `[agents.<id>.approval]` entry, else
/// `always` for the acting tools and `never` for the read-only ones.
pub fn policy_for(approval: &BTreeMap<String, String>, tool: &str) -> &'static str {
    match approval.get(tool).map(String::as_str) {
        Some("never") => "never",
        Some(_) => "always",
        None if ACTING_TOOLS.contains(&tool) => "always",
        None => "never",
    }
}

/// Checks one agent's `tools` and `approval` entries.
pub(super) fn validate_agent(
    id: &str,
    tools: &[String],
    approval: &BTreeMap<String, String>,
) -> Result<(), Error> {
    for t in tools {
        if !ACTING_TOOLS.contains(&t.as_str()) {
            return Err(Error::invalid(format!(
                "config agents.{id}.tools lists '{t}': expected only {ACTING_TOOLS:?} (the read-only tools are always on)"
            )));
        }
    }
    for (tool, policy) in approval {
        if !ACTING_TOOLS.contains(&tool.as_str()) {
            return Err(Error::invalid(format!(
                "config agents.{id}.approval.{tool}: unknown tool, expected one of {ACTING_TOOLS:?}"
            )));
        }
        if !APPROVAL_POLICIES.contains(&policy.as_str()) {
            return Err(Error::invalid(format!(
                "config agents.{id}.approval.{tool} = '{policy}': expected \"always\" or \"never\""
            )));
        }
    }
    Ok(())
}

pub(super) fn validate(c: &ApprovalsConfig) -> Result<(), Error> {
    let check = |key: &str, v: u64, lo: u64, hi: u64| {
        if v < lo || v > hi {
            return Err(Error::invalid(format!(
                "config approvals.{key} = {v} is out of range: expected {lo}..{hi}"
            )));
        }
        Ok(())
    };
    check("expiry_ms", c.expiry_ms, 1_000, 7 * 24 * 3_600_000)?;
    check("command_timeout_ms", c.command_timeout_ms, 100, 3_600_000)?;
    check(
        "command_output_bytes",
        c.command_output_bytes as u64,
        256,
        16 << 20,
    )?;
    check("history_days", u64::from(c.history_days), 1, 3650)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acting_tools_default_to_always() {
        let mut m = BTreeMap::new();
        assert_eq!(policy_for(&m, "run_command"), "always");
        assert_eq!(policy_for(&m, "sessions_list"), "never");
        m.insert("write_file".to_string(), "never".to_string());
        assert_eq!(policy_for(&m, "write_file"), "never");
    }

    #[test]
    fn bad_agent_tool_entries_are_named() {
        let e = validate_agent("a", &["rm_rf".into()], &BTreeMap::new()).unwrap_err();
        assert!(e.message.contains("agents.a.tools lists 'rm_rf'"), "{e}");
        let mut m = BTreeMap::new();
        m.insert("run_command".to_string(), "sometimes".to_string());
        let e = validate_agent("a", &[], &m).unwrap_err();
        assert!(
            e.message.contains("expected \"always\" or \"never\""),
            "{e}"
        );
    }
}
