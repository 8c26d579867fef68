//! Merging the layers: defaults, then a TOML file, then `MICROCLAW_<SECTION>__<KEY>` variables.

use super::sections::Config;
use super::validate::validate;
use crate::error::Error;
use std::path::Path;
use toml::{Table, Value};

/// The commented default file printed by `microclaw config print-default`.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../default-config.toml");

/// Loads the effective config: defaults, then `file` if given and present (a missing file
/// given explicitly is an error), then the environment variables in `env`.
pub fn load(
    file: Option<&Path>,
    must_exist: bool,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, Error> {
    let text = match file {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => String::new(),
            Err(e) => {
                return Err(Error::invalid(format!(
                    "cannot read config file {}: {e}",
                    p.display()
                )))
            }
        },
        None => String::new(),
    };
    let origin = file
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<none>".into());
    load_from_str(&text, &origin, env)
}

/// Like [`load`] with the file's text already read (`origin` names it in errors).
pub fn load_from_str(
    text: &str,
    origin: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, Error> {
    let mut table: Table = toml::from_str(text)
        .map_err(|e| Error::invalid(format!("config file {origin} is not valid TOML: {e}")))?;
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix("MICROCLAW_") else {
            continue;
        };
        let Some((section, key)) = rest.split_once("__") else {
            continue;
        };
        let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
        let entry = table
            .entry(section.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        let Value::Table(sec) = entry else {
            return Err(Error::invalid(format!(
                "config key '{section}' must be a table"
            )));
        };
        sec.insert(key, parse_env_value(&raw));
    }
    let config: Config = Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| {
            Error::invalid(format!(
                "invalid config ({origin} + environment): {}",
                e.message()
            ))
        })?;
    validate(&config)?;
    Ok(config)
}

/// An environment value is read as a TOML literal when it is one (`4`, `true`, `["a"]`),
/// otherwise as a plain string.
fn parse_env_value(raw: &str) -> Value {
    let probe = format!("v = {raw}");
    match toml::from_str::<Table>(&probe) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| Value::String(raw.to_string())),
        Err(_) => Value::String(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_embedded_default_file_equals_the_built_in_defaults() {
        let parsed = load_from_str(DEFAULT_CONFIG_TOML, "default", vec![]).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn env_overrides_file_which_overrides_defaults() {
        let cfg = load_from_str(
            "[auth]\nlogin_window_seconds = 30\nlogin_max_attempts = 7\n",
            "test.toml",
            env(&[
                ("MICROCLAW_AUTH__LOGIN_WINDOW_SECONDS", "4"),
                (
                    "MICROCLAW_OBSERVABILITY__OTLP_ENDPOINT",
                    "http://127.0.0.1:4318",
                ),
                ("MICROCLAW_GATEWAY_TOKEN", "not config"),
            ]),
        )
        .unwrap();
        assert_eq!(cfg.auth.login_window_seconds, 4);
        assert_eq!(cfg.auth.login_max_attempts, 7);
        assert_eq!(cfg.observability.otlp_endpoint, "http://127.0.0.1:4318");
        assert_eq!(cfg.server.port, 10961);
    }

    #[test]
    fn unknown_keys_and_bad_types_are_named_in_the_error() {
        let err = load_from_str("[server]\nprot = 1\n", "x.toml", vec![]).unwrap_err();
        assert!(err.message.contains("prot"), "{}", err.message);
        let err = load_from_str("[server]\nport = \"high\"\n", "x.toml", vec![]).unwrap_err();
        assert!(err.message.contains("x.toml"), "{}", err.message);
    }

    #[test]
    fn agents_tables_are_read() {
        let cfg = load_from_str(
            "[agents]\ndefault = \"local\"\n[agents.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:11434/v1\"\nmodel = \"llama3.2\"\n",
            "a.toml",
            vec![],
        )
        .unwrap();
        assert_eq!(cfg.agents.default, "local");
        assert_eq!(cfg.agents.backends["local"].model, "llama3.2");
    }
}
