//! Where the desktop app keeps its data and reads its config, from the environment:
//!
//! - `MICROCLAW_DATA_DIR`: the data dir (default: the platform data dir, e.g.
//!   `~/.local/share/microclaw` on Linux), holding `microclaw.db` and `microclaw.toml`.
//! - `MICROCLAW_CONFIG`: a config file to use instead of `<data dir>/microclaw.toml` (must exist).
//! - `MICROCLAW_DESKTOP_EXPORT_DIR`: save exports into this folder without asking (scripted
//!   use and the desktop smoke test, where no one can click a native dialog).
//!
//! `MICROCLAW_<SECTION>__<KEY>` variables override the config as everywhere else.

use anyhow::{bail, Context};
use microclaw_core::Config;
use std::path::PathBuf;

pub const ENV_DATA_DIR: &str = "MICROCLAW_DATA_DIR";
pub const ENV_CONFIG: &str = "MICROCLAW_CONFIG";
pub const ENV_EXPORT_DIR: &str = "MICROCLAW_DESKTOP_EXPORT_DIR";
pub const CONFIG_FILE_NAME: &str = "microclaw.toml";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchSettings {
    pub data_dir: PathBuf,
    /// The config file and whether it must exist (an explicit `MICROCLAW_CONFIG` must).
    pub config_file: PathBuf,
    pub config_must_exist: bool,
    /// Set: exports skip the save dialog and go into this folder.
    pub export_dir: Option<PathBuf>,
}

impl LaunchSettings {
    /// Reads the settings from `vars` (the process environment in `main`); `platform_data_dir`
    /// is the fallback when `MICROCLAW_DATA_DIR` is unset.
    pub fn from_vars(
        vars: &[(String, String)],
        platform_data_dir: Option<PathBuf>,
    ) -> anyhow::Result<LaunchSettings> {
        let get = |name: &str| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let data_dir = match get(ENV_DATA_DIR) {
            Some(dir) => PathBuf::from(dir),
            None => match platform_data_dir {
                Some(dir) => dir,
                None => bail!("cannot find the platform data directory; set {ENV_DATA_DIR} to a folder for MicroClaw's data"),
            },
        };
        let (config_file, config_must_exist) = match get(ENV_CONFIG) {
            Some(file) => (PathBuf::from(file), true),
            None => (data_dir.join(CONFIG_FILE_NAME), false),
        };
        let export_dir = get(ENV_EXPORT_DIR).map(PathBuf::from);
        Ok(LaunchSettings {
            data_dir,
            config_file,
            config_must_exist,
            export_dir,
        })
    }

    /// Loads the effective config: defaults, then the config file, then `MICROCLAW_*__*` variables.
    pub fn load_config(&self, vars: &[(String, String)]) -> anyhow::Result<Config> {
        microclaw_core::config::load(
            Some(&self.config_file),
            self.config_must_exist,
            vars.iter().cloned(),
        )
        .with_context(|| format!("loading the config ({})", self.config_file.display()))
    }
}

/// The platform data dir for MicroClaw (`directories`: `ProjectDirs::from("", "", "microclaw")`).
pub fn platform_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "microclaw").map(|d| d.data_dir().to_path_buf())
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
    fn data_dir_from_the_environment_wins_over_the_platform_dir() {
        let s = LaunchSettings::from_vars(
            &vars(&[(ENV_DATA_DIR, "/tmp/mc-data")]),
            Some("/home/x/.local".into()),
        )
        .unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/tmp/mc-data"));
        assert_eq!(
            s.config_file,
            PathBuf::from("/tmp/mc-data/microclaw.toml"),
            "config lives in the data dir"
        );
        assert!(!s.config_must_exist, "the default config file is optional");
        assert_eq!(
            s.export_dir, None,
            "exports ask with a dialog unless told otherwise"
        );
    }

    #[test]
    fn platform_dir_is_the_fallback_and_blank_values_count_as_unset() {
        let s = LaunchSettings::from_vars(
            &vars(&[(ENV_DATA_DIR, "  "), (ENV_EXPORT_DIR, "")]),
            Some("/p".into()),
        )
        .unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/p"));
        assert_eq!(s.export_dir, None);
    }

    #[test]
    fn no_data_dir_at_all_is_an_error_that_names_the_variable() {
        let err = LaunchSettings::from_vars(&[], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(ENV_DATA_DIR), "{err}");
    }

    #[test]
    fn an_explicit_config_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let v = vars(&[
            (ENV_DATA_DIR, dir.path().to_str().unwrap()),
            (ENV_CONFIG, missing.to_str().unwrap()),
        ]);
        let s = LaunchSettings::from_vars(&v, None).unwrap();
        assert!(s.config_must_exist);
        let err = format!("{:#}", s.load_config(&v).unwrap_err());
        assert!(err.contains("nope.toml"), "the error names the file: {err}");
    }

    #[test]
    fn config_file_and_environment_layers_apply() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE_NAME),
            "[server]\nport = 12345\n",
        )
        .unwrap();
        let v = vars(&[
            (ENV_DATA_DIR, dir.path().to_str().unwrap()),
            ("MICROCLAW_SERVER__SHUTDOWN_GRACE_MS", "777"),
        ]);
        let s = LaunchSettings::from_vars(&v, None).unwrap();
        let cfg = s.load_config(&v).unwrap();
        assert_eq!(
            cfg.server.port, 12345,
            "the data dir's microclaw.toml is read"
        );
        assert_eq!(
            cfg.server.shutdown_grace_ms, 777,
            "MICROCLAW_SECTION__KEY overrides the file"
        );
    }

    #[test]
    fn export_dir_is_read() {
        let s = LaunchSettings::from_vars(
            &vars(&[(ENV_DATA_DIR, "/d"), (ENV_EXPORT_DIR, "/out")]),
            None,
        )
        .unwrap();
        assert_eq!(s.export_dir, Some(PathBuf::from("/out")));
    }
}
