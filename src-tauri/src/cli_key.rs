//! The desktop's own client credential: an API key (label `desktop-cli`, `operator.admin`) for
//! the `microclaw` CLI and scripts talking to the desktop's gateway. Its plaintext lives only
//! in the OS keychain (service `microclaw-desktop`, account `cli-key:<data dir>`); the
//! database keeps its hash like every key's. At start the shell reads it back and checks it
//! still authenticates; a missing, revoked or expired key is replaced. Without a keychain
//! nothing is minted and the log says why (the fallback message).
//!
//!   MICROCLAW_GATEWAY_TOKEN="$(secret-tool lookup service microclaw-desktop username "cli-key:$DATA_DIR")" \
//!     microclaw gateway call health

use crate::keychain;
use microclaw_engine::Engine;
use std::path::Path;
use std::sync::Arc;

pub const LABEL: &str = "desktop-cli";

pub fn account(data_dir: &Path) -> String {
    format!("cli-key:{}", data_dir.display())
}

/// What happened at start (logged; the smoke test reads the log).
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The key in the keychain still authenticates.
    Kept { prefix: String },
    /// A new key was minted and stored (none was there, or it no longer authenticates).
    Minted { prefix: String },
    /// No keychain: the fallback message.
    NoKeychain(String),
}

/// Reads the key back from the keychain, checks it, mints a new one when needed.
pub async fn ensure(engine: &Arc<Engine>, data_dir: &Path) -> Result<Outcome, String> {
    let account = account(data_dir);
    let acct = account.clone();
    let stored = tokio::task::spawn_blocking(move || {
        keychain::status()?;
        keychain::get(&acct)
    })
    .await
    .map_err(|e| format!("the keychain task failed: {e}"));
    let stored = match stored? {
        Ok(s) => s,
        Err(msg) if msg.starts_with("no OS keychain") => return Ok(Outcome::NoKeychain(msg)),
        Err(msg) => return Err(msg),
    };
    if let Some(key) = stored {
        if engine.authenticate_token(&key).await.is_ok() {
            return Ok(Outcome::Kept {
                prefix: prefix(&key),
            });
        }
        tracing::info!("the desktop CLI key in the keychain no longer authenticates: replacing it");
    }
    let created = microclaw_engine::ops::auth::key_create(
        engine,
        "desktop",
        LABEL,
        &["operator.admin".to_string()],
        None,
    )
    .await
    .map_err(|e| format!("cannot create the desktop CLI key: {e}"))?;
    let key = created.api_key.clone();
    let id = created.id;
    let stored = tokio::task::spawn_blocking(move || keychain::put(&account, &key))
        .await
        .map_err(|e| format!("the keychain task failed: {e}"))?;
    if let Err(e) = stored {
        // Not kept anywhere: revoke it rather than leave a key no one can read.
        let _ = microclaw_engine::ops::auth::key_revoke(engine, "desktop", id).await;
        return Err(e);
    }
    Ok(Outcome::Minted {
        prefix: created.prefix.clone(),
    })
}

fn prefix(key: &str) -> String {
    key.chars().take(11).collect()
}

/// Runs [`ensure`] and logs the outcome (never fatal: the app works without it).
pub fn spawn(engine: Arc<Engine>, data_dir: std::path::PathBuf) {
    tauri::async_runtime::spawn(async move {
        match ensure(&engine, &data_dir).await {
            Ok(Outcome::Kept { prefix }) => {
                tracing::info!(
                    "keychain: the desktop CLI key {prefix}… was read back and still works"
                )
            }
            Ok(Outcome::Minted { prefix }) => tracing::info!(
                "keychain: stored a new desktop CLI key {prefix}… (service {}, account {})",
                keychain::SERVICE,
                account(&data_dir)
            ),
            Ok(Outcome::NoKeychain(msg)) => tracing::warn!("keychain: {msg}"),
            Err(e) => tracing::warn!("keychain: {e}"),
        }
    });
}

#[cfg(test)]
#[path = "cli_key_tests.rs"]
mod tests;
