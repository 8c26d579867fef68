//! `microclaw slo validate <file>` (errors name the line; exit 1 when invalid) and
//! `microclaw slo print-default` (the built-in SLOs, the default `<data_dir>/slos.toml`).

use anyhow::{anyhow, Result};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum SloCommand {
    /// Check an SLO definition file; every problem is printed with its line.
    Validate {
        /// The file, e.g. ~/.local/share/microclaw/slos.toml
        file: PathBuf,
    },
    /// Print the built-in SLOs as a file (copy it to <data_dir>/slos.toml to change them).
    PrintDefault,
}

pub fn run(cmd: SloCommand) -> Result<ExitCode> {
    match cmd {
        SloCommand::PrintDefault => {
            print!("{}", microclaw_metrics::slo_file::DEFAULT_SLOS_TOML);
            Ok(ExitCode::SUCCESS)
        }
        SloCommand::Validate { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow!("cannot read {}: {e}", file.display()))?;
            match microclaw_metrics::slo_file::parse(&file.display().to_string(), &text) {
                Ok(defs) => {
                    for d in &defs {
                        let alerts: Vec<String> = d
                            .alerts
                            .iter()
                            .map(|a| format!("{} {}x {}", a.window(), a.factor, a.severity))
                            .collect();
                        println!(
                            "{}: {} objective {} over {}d; alerts: {}",
                            d.name,
                            d.sli,
                            d.objective,
                            d.window_days,
                            if alerts.is_empty() {
                                "none".into()
                            } else {
                                alerts.join(", ")
                            }
                        );
                    }
                    println!("{}: valid ({} SLOs)", file.display(), defs.len());
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("error: {e}");
                    }
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
