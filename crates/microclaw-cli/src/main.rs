//! `microclaw`: the console's command line. `start` runs the gateway headless; the other
//! commands work offline on the data dir or as a client of a running gateway.

mod cmd_audit;
mod cmd_auth;
mod cmd_config;
mod cmd_gateway;
mod cmd_metrics;
mod cmd_slo;
mod cmd_start;
mod gateway_client;
mod paths;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "microclaw",
    version,
    about = "MicroClaw Console: operator gateway, session store and SLO engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (HTTP API, WebSocket bridge, web UI) until Ctrl-C or SIGTERM.
    Start(cmd_start::StartArgs),
    /// Talk to a running gateway over the bridge.
    Gateway {
        #[command(subcommand)]
        command: cmd_gateway::GatewayCommand,
    },
    /// API keys and the operator password (offline, on the data dir).
    Auth {
        #[command(subcommand)]
        command: cmd_auth::AuthCommand,
    },
    /// Metrics snapshots and charts.
    Metrics {
        #[command(subcommand)]
        command: cmd_metrics::MetricsCommand,
    },
    /// Configuration: print the default file, run the safety self-check.
    Config {
        #[command(subcommand)]
        command: cmd_config::ConfigCommand,
    },
    /// The hash-chained audit log.
    Audit {
        #[command(subcommand)]
        command: cmd_audit::AuditCommand,
    },
    /// SLO definition files: validate one, print the built-in SLOs.
    Slo {
        #[command(subcommand)]
        command: cmd_slo::SloCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Start(a) => cmd_start::run(a).await,
            Command::Gateway { command } => cmd_gateway::run(command).await,
            Command::Auth { command } => cmd_auth::run(command),
            Command::Metrics { command } => cmd_metrics::run(command).await,
            Command::Config { command } => cmd_config::run(command),
            Command::Audit { command } => cmd_audit::run(command),
            Command::Slo { command } => cmd_slo::run(command),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
