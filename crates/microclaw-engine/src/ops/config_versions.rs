//! Config versions and rollback (operations.md §4): every applied config file is a numbered
//! version (`GET /api/config/versions`, each with a diff against the current file);
//! `POST /api/config/rollback {version}` writes an older version back — always allowed, also
//! during a freeze — and is recorded in the open incident's timeline.

use crate::audit;
use crate::engine::Engine;
use microclaw_core::{Error, Result};
use serde_json::{json, Value};

/// A line diff of two texts (`-` removed, `+` added), from the `similar` crate.
pub fn diff(old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header("version", "current")
        .to_string()
}

fn read_current(engine: &Engine) -> Result<String> {
    let path = engine.config_file();
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(Error::internal(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Records `text` as the newest version (called by `config::put` after the file is written).
/// The first record also stores the file as it was before (`initial`), so it can be rolled
/// back to.
pub async fn record(
    engine: &Engine,
    actor: &str,
    before: String,
    text: String,
    changed: Vec<String>,
) -> Result<i64> {
    let (a, now) = (actor.to_string(), engine.now_ms());
    let v = engine
        .store()
        .write_async(move |s| {
            if s.config_versions_list(1)?.is_empty() {
                s.config_version_add("startup", "initial", &before, &[], None, now)?;
            }
            s.config_version_add(&a, "put", &text, &changed, None, now)
        })
        .await?;
    Ok(v.version)
}

/// `GET /api/config/versions`: newest first, each with `diff` against the current file.
pub async fn list(engine: &Engine, limit: Option<i64>) -> Result<Value> {
    let (rows, current) = engine
        .blocking_read(move |e| {
            Ok((
                e.store().config_versions_list(limit.unwrap_or(50))?,
                read_current(e)?,
            ))
        })
        .await?;
    let current_version = rows.iter().find(|r| r.text == current).map(|r| r.version);
    let versions: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            v["diff"] = json!(diff(&r.text, &current));
            v["current"] = json!(Some(r.version) == current_version);
            v
        })
        .collect();
    Ok(json!({"ok": true, "currentVersion": current_version, "versions": versions}))
}

/// `POST /api/config/rollback {version}` (admin; never frozen).
pub async fn rollback(engine: &Engine, actor: &str, body: &Value) -> Result<Value> {
    let version = body.get("version").and_then(Value::as_i64).ok_or_else(|| {
        Error::invalid(
            "rollback: version is required: expected a number from GET /api/config/versions",
        )
    })?;
    let row = engine
        .store()
        .read_async(move |s| s.config_version_get(version))
        .await?
        .ok_or_else(|| {
            Error::not_found(format!(
                "config version {version} not found: expected one from GET /api/config/versions"
            ))
        })?;
    let text = row.text.clone();
    let path = engine.config_file();
    // Validate as the next start would read it, then write atomically (owner-only).
    let p2 = path.clone();
    engine
        .blocking_read(move |_| {
            microclaw_core::config::load_from_str(
                &text,
                &p2.display().to_string(),
                std::env::vars(),
            )?;
            microclaw_core::atomic_file::write_atomic(&p2, text.as_bytes(), true)
        })
        .await?;
    let (a, now, t) = (actor.to_string(), engine.now_ms(), row.text.clone());
    let new = engine
        .store()
        .write_async(move |s| s.config_version_add(&a, "rollback", &t, &[], Some(version), now))
        .await?;
    audit::record(
        engine,
        "config.rollback",
        actor,
        Some(&path.display().to_string()),
        json!({"to": version, "version": new.version}),
    )
    .await;
    super::incidents::note_open(
        engine,
        "config",
        &format!(
            "config rolled back to version {version} (now version {})",
            new.version
        ),
        actor,
    )
    .await;
    Ok(
        json!({"ok": true, "restart_required": true, "version": new.version, "rolledBackTo": version, "file": path.display().to_string()}),
    )
}
