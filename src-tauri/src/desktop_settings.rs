//! The shell's own settings, changed from the tray menu and kept in `<data dir>/desktop.json`:
//! `closeToTray` (default true: closing the window hides it, the engine keeps running; Quit
//! is in the tray). `MICROCLAW_DESKTOP_CLOSE_TO_TRAY=0|1` overrides the file for one launch.
//! Start at login is not kept here: it is the autostart entry itself (tauri-plugin-autostart).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

pub const FILE_NAME: &str = "desktop.json";
pub const ENV_CLOSE_TO_TRAY: &str = "MICROCLAW_DESKTOP_CLOSE_TO_TRAY";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SavedSettings {
    pub close_to_tray: bool,
}

impl Default for SavedSettings {
    fn default() -> Self {
        SavedSettings {
            close_to_tray: true,
        }
    }
}

/// The live settings (read by the window's close handler, toggled by the tray).
pub struct DesktopSettings {
    file: PathBuf,
    close_to_tray: AtomicBool,
}

impl DesktopSettings {
    /// Reads the file (missing: defaults; unreadable: defaults and a warning naming the file),
    /// then the environment override from `vars`.
    pub fn load(data_dir: &Path, vars: &[(String, String)]) -> anyhow::Result<DesktopSettings> {
        let file = data_dir.join(FILE_NAME);
        let mut saved = match std::fs::read_to_string(&file) {
            Ok(text) => serde_json::from_str::<SavedSettings>(&text).unwrap_or_else(|e| {
                tracing::warn!(
                    "{} is not valid ({e}); using the defaults (closeToTray: true)",
                    file.display()
                );
                SavedSettings::default()
            }),
            Err(_) => SavedSettings::default(),
        };
        if let Some((_, v)) = vars.iter().find(|(k, _)| k == ENV_CLOSE_TO_TRAY) {
            saved.close_to_tray = parse_bool(v).ok_or_else(|| {
                anyhow::anyhow!(
                    "{ENV_CLOSE_TO_TRAY}={v:?} is not valid: expected 1/0, true/false or yes/no"
                )
            })?;
        }
        Ok(DesktopSettings {
            file,
            close_to_tray: AtomicBool::new(saved.close_to_tray),
        })
    }

    pub fn close_to_tray(&self) -> bool {
        self.close_to_tray.load(Ordering::SeqCst)
    }

    /// Changes the setting and writes the file (atomically: a temp file renamed over it).
    pub fn set_close_to_tray(&self, on: bool) -> std::io::Result<()> {
        self.close_to_tray.store(on, Ordering::SeqCst);
        let text = serde_json::to_string_pretty(&SavedSettings { close_to_tray: on })
            .map_err(std::io::Error::other)?;
        let tmp = self.file.with_extension("json.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &self.file)
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn close_to_tray_defaults_on_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let s = DesktopSettings::load(dir.path(), &[]).unwrap();
        assert!(s.close_to_tray(), "on by default");
        s.set_close_to_tray(false).unwrap();
        let again = DesktopSettings::load(dir.path(), &[]).unwrap();
        assert!(!again.close_to_tray(), "the file keeps the choice");
    }

    #[test]
    fn the_environment_overrides_and_bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let s = DesktopSettings::load(dir.path(), &vars(&[(ENV_CLOSE_TO_TRAY, "no")])).unwrap();
        assert!(!s.close_to_tray());
        let err = DesktopSettings::load(dir.path(), &vars(&[(ENV_CLOSE_TO_TRAY, "maybe")]))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(ENV_CLOSE_TO_TRAY) && err.contains("maybe"),
            "{err}"
        );
    }

    #[test]
    fn a_broken_file_falls_back_to_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "{not json").unwrap();
        assert!(DesktopSettings::load(dir.path(), &[])
            .unwrap()
            .close_to_tray());
    }
}
