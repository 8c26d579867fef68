//! The opt-in mirror: `<compat.openclaw_state_dir>/agents/<agent>/sessions/sessions.json`,
//! rebuilt from the store and replaced whole (atomic write), so a reader never sees half a
//! file. The loop in `compat::spawn` decides when.

use super::openclaw_sessions;
use crate::Engine;
use microclaw_core::config::CompatConfig;
use std::path::{Path, PathBuf};

/// The most recently updated sessions the file holds at most.
pub const MAX_MIRRORED_SESSIONS: u32 = 10_000;

/// The mirror file for this config; None when the mirror is off.
pub fn mirror_file(cfg: &CompatConfig) -> Option<PathBuf> {
    let dir = cfg.state_dir()?;
    Some(
        dir.join("agents")
            .join(&cfg.openclaw_agent)
            .join("sessions")
            .join("sessions.json"),
    )
}

/// Rewrites the file from the store; a failure is logged and retried at the next change.
pub(super) async fn write(engine: &Engine, path: &Path) {
    let rows = match engine
        .store()
        .read_async(|s| s.sessions_recent(MAX_MIRRORED_SESSIONS))
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!("compat: cannot read sessions for {}: {e}", path.display());
            return;
        }
    };
    let body = openclaw_sessions::store_file(engine, &rows);
    let bytes = match serde_json::to_vec_pretty(&body) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("compat: cannot encode {}: {e}", path.display());
            return;
        }
    };
    let target = path.to_path_buf();
    let written = tokio::task::spawn_blocking(move || {
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                microclaw_core::Error::internal(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        microclaw_core::atomic_file::write_atomic(&target, &bytes, true)
    })
    .await;
    match written {
        Ok(Ok(())) => tracing::debug!("compat: wrote {} ({} sessions)", path.display(), rows.len()),
        Ok(Err(e)) => tracing::warn!("compat: cannot write the mirror: {e}"),
        Err(e) => tracing::warn!("compat: the mirror write task failed: {e}"),
    }
}

/// Puts the token counts of an earlier file back into the usage book (they live only in
/// memory otherwise). A missing file is normal; an unreadable one is logged and replaced.
pub(super) async fn seed_from_file(engine: &Engine, path: &Path) {
    let p = path.to_path_buf();
    let read = tokio::task::spawn_blocking(move || std::fs::read(&p)).await;
    let bytes = match read {
        Ok(Ok(b)) => b,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => return,
        Ok(Err(e)) => {
            tracing::warn!("compat: cannot read {}: {e}", path.display());
            return;
        }
        Err(_) => return,
    };
    let parsed: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(
                "compat: {} is not JSON ({e}): it will be replaced",
                path.display()
            );
            return;
        }
    };
    let Some(entries) = parsed.as_object() else {
        return;
    };
    for (key, entry) in entries {
        if let Some(usage) = openclaw_sessions::usage_from_entry(entry) {
            engine.session_usage().seed(key, usage);
        }
    }
}
