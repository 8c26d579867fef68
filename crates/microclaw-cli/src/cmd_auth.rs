//! `microclaw auth keys create|list|revoke` and `microclaw auth password set`, offline on the
//! data dir. A running gateway sees the change through the database within a second: a
//! revoked key's open bridge sockets stop working, a new password ends every login session
//! and closes the setup token. `password set` needs no current password: it is the recovery
//! path for whoever can write the data dir.

use crate::paths::DataArgs;
use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use microclaw_engine::ops::auth as ops;
use serde_json::Value;
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AuthCommand {
    /// API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The operator password.
    Password {
        #[command(subcommand)]
        command: PasswordCommand,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it once.
    Create(CreateArgs),
    /// List keys (no secrets).
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revoke a key by id.
    Revoke {
        id: i64,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Args)]
pub struct CreateArgs {
    #[arg(long)]
    label: String,
    /// operator.read | operator.write | operator.admin | operator.approvals | operator.pairing (repeatable; short forms read/write/admin/approvals/pairing).
    #[arg(long = "scope", required = true)]
    scopes: Vec<String>,
    #[arg(long)]
    expires_days: Option<u32>,
    /// Print only the key.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Subcommand)]
pub enum PasswordCommand {
    /// Set (or reset) the operator password, read from standard input (first line). No
    /// current password needed: this is the recovery path on the server's data dir.
    Set {
        #[command(flatten)]
        data: DataArgs,
    },
}

pub fn run(cmd: AuthCommand) -> Result<ExitCode> {
    match cmd {
        AuthCommand::Keys {
            command: KeysCommand::Create(a),
        } => {
            let engine = a.data.open_engine(a.data.load_config()?)?;
            let k = ops::key_create_blocking(&engine, "cli", &a.label, &a.scopes, a.expires_days)
                .map_err(|e| anyhow!(e.message))?;
            if a.quiet {
                println!("{}", k.api_key);
            } else {
                println!(
                    "created API key {} '{}' ({}) — shown once, store it now:",
                    k.id,
                    k.label,
                    k.scopes.join(", ")
                );
                println!("{}", k.api_key);
            }
            Ok(ExitCode::SUCCESS)
        }
        AuthCommand::Keys {
            command: KeysCommand::List { json, data },
        } => {
            let engine = data.open_engine(data.load_config()?)?;
            let keys: Vec<Value> = engine
                .store()
                .api_keys_list()
                .map_err(|e| anyhow!(e.message))?
                .iter()
                .map(ops::key_json)
                .collect();
            if json {
                println!("{}", Value::Array(keys));
            } else if keys.is_empty() {
                println!("no API keys (create one with `microclaw auth keys create --label L --scope operator.read`)");
            } else {
                for k in keys {
                    let state = if k["revoked_at"].is_null() {
                        "active"
                    } else {
                        "revoked"
                    };
                    println!(
                        "{:>4}  {:<14} {:<8} {:<24} {}",
                        k["id"],
                        k["prefix"].as_str().unwrap_or(""),
                        state,
                        k["label"].as_str().unwrap_or(""),
                        k["scopes"]
                            .as_array()
                            .map(|s| s
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(","))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AuthCommand::Keys {
            command: KeysCommand::Revoke { id, data },
        } => {
            let engine = data.open_engine(data.load_config()?)?;
            if ops::key_revoke_blocking(&engine, "cli", id).map_err(|e| anyhow!(e.message))? {
                println!("revoked API key {id}");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("API key {id} not found or already revoked");
                Ok(ExitCode::from(1))
            }
        }
        AuthCommand::Password {
            command: PasswordCommand::Set { data },
        } => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']);
            let engine = data.open_engine(data.load_config()?)?;
            ops::set_password_blocking(&engine, password).map_err(|e| anyhow!(e.message))?;
            println!("operator password set; other login sessions were signed out");
            Ok(ExitCode::SUCCESS)
        }
    }
}
