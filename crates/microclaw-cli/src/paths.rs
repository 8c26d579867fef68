//! Where the data lives and which config applies: `--data-dir` / `--config`, else the
//! platform data directory.

use anyhow::{anyhow, Context, Result};
use clap::Args;
use microclaw_core::Config;
use microclaw_engine::{Engine, EngineOptions};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Data directory (database, secret, default config). Default: the platform data dir.
    #[arg(long, env = "MICROCLAW_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file. Default: <data-dir>/microclaw.toml when present.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl DataArgs {
    pub fn data_dir(&self) -> Result<PathBuf> {
        if let Some(d) = &self.data_dir {
            return Ok(d.clone());
        }
        directories::ProjectDirs::from("", "", "microclaw")
            .map(|p| p.data_dir().to_path_buf())
            .ok_or_else(|| anyhow!("cannot find the platform data directory: pass --data-dir DIR"))
    }

    pub fn load_config(&self) -> Result<Config> {
        let (path, must_exist) = match &self.config {
            Some(p) => (p.clone(), true),
            None => (self.data_dir()?.join("microclaw.toml"), false),
        };
        microclaw_core::config::load(Some(&path), must_exist, std::env::vars())
            .map_err(|e| anyhow!(e.message))
    }

    /// Opens the engine on the data dir (no background tasks): for offline commands.
    pub fn open_engine(&self, config: Config) -> Result<Arc<Engine>> {
        let data_dir = self.data_dir()?;
        Engine::open(EngineOptions {
            data_dir: data_dir.clone(),
            config,
            clock: None,
        })
        .map_err(|e| anyhow!(e.message))
        .with_context(|| format!("opening the data dir {}", data_dir.display()))
    }
}
