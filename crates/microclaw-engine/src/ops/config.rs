//! `config.get` / `GET /api/config` (the effective config, secrets redacted) and
//! `PUT /api/config` (a validated update of the config file, applied at the next start).

use crate::audit;
use crate::engine::Engine;
use crate::principal::Principal;
use microclaw_core::{Error, Result};
use serde_json::{json, Value};

fn redact(mut v: Value) -> Value {
    if let Some(headers) = v
        .pointer_mut("/observability/otlp_headers")
        .and_then(Value::as_object_mut)
    {
        for val in headers.values_mut() {
            *val = json!("[redacted]");
        }
    }
    // An endpoint may carry `user:password@`: shown as `***@`.
    if let Some(endpoint) = v.pointer_mut("/observability/otlp_endpoint") {
        if let Some(url) = endpoint.as_str() {
            *endpoint = json!(microclaw_core::redact::redact_url(url));
        }
    }
    v
}

pub fn get_redacted(engine: &Engine) -> Value {
    let v = serde_json::to_value(engine.config()).unwrap_or_else(|_| json!({}));
    json!({"config": redact(v)})
}

/// Merges `patch` (`{section: {key: value|null}}`; null removes the key from the file) into the
/// config file, validates the result as the next start would read it (file + environment), and
/// writes it atomically. Running settings do not change until the next start.
pub async fn put(engine: &Engine, who: &Principal, mut patch: Value) -> Result<Value> {
    // The change freeze: refused unless an admin overrides (`override:{reason}` or header).
    let over = patch.as_object_mut().and_then(|o| {
        let r = super::freeze::override_of(o);
        o.remove("override");
        r
    });
    super::freeze::guard(engine, &who.actor, over, "PUT /api/config").await?;
    // File reads, validation and the fsync-ed write run off the tokio workers.
    let (path, changed, next, before, after) = engine
        .blocking_read(move |e| write_merged(e, &patch))
        .await?;
    // Every applied config is a numbered version (rollback: ops/config_versions.rs).
    let version =
        super::config_versions::record(engine, &who.actor, before, after, changed.clone())
            .await
            .map_err(|e| tracing::warn!("could not record the config version: {e}"))
            .ok();
    super::incidents::note_open(
        engine,
        "config",
        &format!(
            "config changed ({}), version {}",
            changed.join(", "),
            version.unwrap_or(0)
        ),
        &who.actor,
    )
    .await;
    audit::record_by(
        engine,
        who,
        "config.updated",
        Some(&path.display().to_string()),
        json!({"keys": changed}),
    )
    .await;
    let v = serde_json::to_value(&next).unwrap_or_else(|_| json!({}));
    Ok(
        json!({"ok": true, "restart_required": true, "file": path.display().to_string(), "changed": changed, "version": version, "config": redact(v)}),
    )
}

/// (file, changed keys, the config as the next start reads it, file text before, after).
type Merged = (
    std::path::PathBuf,
    Vec<String>,
    microclaw_core::Config,
    String,
    String,
);

fn write_merged(engine: &Engine, patch: &Value) -> Result<Merged> {
    let Some(sections) = patch.as_object() else {
        return Err(Error::invalid("config update must be a JSON object of sections, e.g. {\"auth\":{\"login_window_seconds\":120}}"));
    };
    let path = engine.config_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(Error::internal(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| {
        Error::invalid(format!(
            "the config file {} is not valid TOML: {e}",
            path.display()
        ))
    })?;
    let mut changed = Vec::new();
    for (section, keys) in sections {
        let Some(keys) = keys.as_object() else {
            return Err(Error::invalid(format!(
                "config section '{section}' must be an object of keys"
            )));
        };
        let entry = table
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let Some(sec) = entry.as_table_mut() else {
            return Err(Error::invalid(format!(
                "config key '{section}' in the file is not a table"
            )));
        };
        for (key, value) in keys {
            if value.is_null() {
                sec.remove(key);
            } else {
                let v = toml::Value::try_from(value)
                    .map_err(|e| Error::invalid(format!("config {section}.{key}: {e}")))?;
                sec.insert(key.clone(), v);
            }
            changed.push(format!("{section}.{key}"));
        }
    }
    let new_text = toml::to_string_pretty(&table)
        .map_err(|e| Error::internal(format!("cannot write TOML: {e}")))?;
    let next = microclaw_core::config::load_from_str(
        &new_text,
        &path.display().to_string(),
        std::env::vars(),
    )?;
    // Owner-only: the file may hold OTLP header credentials.
    microclaw_core::atomic_file::write_atomic(&path, new_text.as_bytes(), true)?;
    Ok((path, changed, next, text, new_text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_get_hides_header_values_and_endpoint_credentials() {
        let v = redact(json!({"observability": {
            "otlp_endpoint": "https://ops:s3cret@collector:4318/v1/metrics",
            "otlp_headers": {"authorization": "Bearer abc"}
        }}));
        let text = v.to_string();
        assert!(!text.contains("s3cret") && !text.contains("abc"), "{text}");
        assert_eq!(
            v["observability"]["otlp_endpoint"],
            "https://***@collector:4318/v1/metrics"
        );
    }
}
