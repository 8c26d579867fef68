//! `microclaw config print-default` and `microclaw config self-check [--json]`.

use crate::paths::DataArgs;
use anyhow::{anyhow, Result};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print the commented default config file.
    PrintDefault,
    /// Check the config and data dir for risky settings (exit 2 when the risk is high).
    SelfCheck {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
}

pub fn run(cmd: ConfigCommand) -> Result<ExitCode> {
    match cmd {
        ConfigCommand::PrintDefault => {
            print!("{}", microclaw_core::config::DEFAULT_CONFIG_TOML);
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::SelfCheck { json, data } => {
            let engine = data.open_engine(data.load_config()?)?;
            let check =
                microclaw_engine::self_check::run(&engine).map_err(|e| anyhow!(e.message))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&check)?);
            } else {
                println!("risk level: {}", check.risk_level);
                for w in &check.warnings {
                    println!(
                        "[{}] {}: {}\n    fix: {}",
                        serde_json::to_value(w.severity)?.as_str().unwrap_or(""),
                        w.code,
                        w.message,
                        w.fix
                    );
                }
            }
            Ok(if check.risk_level == "high" {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
