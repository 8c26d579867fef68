//! `[compat]`: what the console does so that tools written for OpenClaw (Mission Control)
//! find what they expect. See docs/mission-control.md.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CompatConfig {
    /// An OpenClaw state dir (e.g. `~/.openclaw`) in which the console keeps
    /// `agents/<agent>/sessions/sessions.json` current. Empty: no mirror (the default).
    pub openclaw_state_dir: String,
    /// The `<agent>` directory name sessions are mirrored under.
    pub openclaw_agent: String,
    /// Changes within this window are written together (one file write per window).
    pub mirror_debounce_ms: u64,
}

impl Default for CompatConfig {
    fn default() -> Self {
        CompatConfig {
            openclaw_state_dir: String::new(),
            openclaw_agent: "main".into(),
            mirror_debounce_ms: 1000,
        }
    }
}

impl CompatConfig {
    /// The state dir with a leading `~` expanded from `$HOME`; None when the mirror is off.
    pub fn state_dir(&self) -> Option<std::path::PathBuf> {
        let raw = self.openclaw_state_dir.trim();
        if raw.is_empty() {
            return None;
        }
        match raw.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                let home = std::env::var_os("HOME")?;
                Some(std::path::PathBuf::from(home).join(rest.trim_start_matches('/')))
            }
            _ => Some(std::path::PathBuf::from(raw)),
        }
    }
}

/// `compat.openclaw_agent` becomes a directory name: letters, digits, `-` and `_` only.
pub(super) fn agent_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_dir_is_off_when_empty_and_expands_home() {
        let mut c = CompatConfig::default();
        assert_eq!(c.state_dir(), None, "off by default");
        c.openclaw_state_dir = "/srv/oc".into();
        assert_eq!(c.state_dir(), Some(std::path::PathBuf::from("/srv/oc")));
        if let Some(home) = std::env::var_os("HOME") {
            c.openclaw_state_dir = "~/.openclaw".into();
            assert_eq!(
                c.state_dir(),
                Some(std::path::PathBuf::from(home).join(".openclaw"))
            );
        }
        c.openclaw_state_dir = "~other/x".into();
        assert_eq!(c.state_dir(), Some(std::path::PathBuf::from("~other/x")));
    }

    #[test]
    fn bad_compat_values_are_refused_naming_the_key() {
        let err =
            crate::config::load_from_str("[compat]\nopenclaw_agent = \"../etc\"\n", "test", vec![])
                .unwrap_err();
        assert!(err.message.contains("compat.openclaw_agent"), "{err:?}");
        let err =
            crate::config::load_from_str("[compat]\nmirror_debounce_ms = 1\n", "test", vec![])
                .unwrap_err();
        assert!(err.message.contains("compat.mirror_debounce_ms"), "{err:?}");
        assert!(agent_name_ok("main") && agent_name_ok("ops-2_b"));
        assert!(!agent_name_ok("") && !agent_name_ok("a/b") && !agent_name_ok(".."));
    }
}
