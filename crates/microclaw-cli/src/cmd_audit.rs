//! `microclaw audit verify`: recompute the audit log's hash chain.

use crate::paths::DataArgs;
use anyhow::{anyhow, Result};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain (exit 1 on a break).
    Verify {
        #[command(flatten)]
        data: DataArgs,
    },
}

pub fn run(cmd: AuditCommand) -> Result<ExitCode> {
    match cmd {
        AuditCommand::Verify { data } => {
            let engine = data.open_engine(data.load_config()?)?;
            match engine
                .store()
                .audit_verify()
                .map_err(|e| anyhow!(e.message))?
            {
                Ok(n) => {
                    println!("audit chain ok: {n} entries verified");
                    Ok(ExitCode::SUCCESS)
                }
                Err(why) => {
                    eprintln!("audit chain broken: {why}");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
