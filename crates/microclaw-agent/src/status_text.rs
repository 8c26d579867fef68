//! Renders the engine's status snapshot (JSON) as readable lines for the built-in agent.

use serde_json::Value;

const MAX_DEPTH: usize = 3;
const MAX_ITEMS: usize = 8;

/// `"1h 02m 03s"`-style text for a millisecond duration.
pub fn human_duration_ms(ms: u64) -> String {
    let s = ms / 1000;
    let (d, h, m, sec) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60, s % 60);
    if d > 0 {
        format!("{d}d {h:02}h {m:02}m")
    } else if h > 0 {
        format!("{h}h {m:02}m {sec:02}s")
    } else if m > 0 {
        format!("{m}m {sec:02}s")
    } else {
        format!("{sec}s")
    }
}

/// `uptimeMs` → `uptime`, `active_runs` → `active runs`.
fn label(key: &str) -> String {
    let key = key
        .strip_suffix("Ms")
        .or_else(|| key.strip_suffix("_ms"))
        .unwrap_or(key);
    let mut out = String::new();
    for (i, ch) in key.chars().enumerate() {
        if ch == '_' {
            out.push(' ');
        } else if ch.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

fn scalar(key: &str, v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("-".into()),
        Value::Bool(b) => Some(if *b { "yes".into() } else { "no".into() }),
        Value::Number(n) => {
            let is_ms = key.ends_with("Ms") || key.ends_with("_ms");
            match (is_ms, n.as_u64()) {
                (true, Some(ms)) if key.to_ascii_lowercase().contains("uptime") => {
                    Some(human_duration_ms(ms))
                }
                (true, _) => Some(format!("{n} ms")),
                _ => Some(n.to_string()),
            }
        }
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// One line for an object inside a list: its scalar fields as `k=v`.
fn compact(v: &Value) -> String {
    match v {
        Value::Object(map) => map
            .iter()
            .filter_map(|(k, v)| scalar(k, v).map(|s| format!("{}={s}", label(k))))
            .take(5)
            .collect::<Vec<_>>()
            .join(", "),
        other => scalar("", other).unwrap_or_else(|| other.to_string()),
    }
}

fn render(key: &str, v: &Value, depth: usize, out: &mut Vec<String>) {
    let pad = "  ".repeat(depth);
    if let Some(s) = scalar(key, v) {
        out.push(format!("{pad}{}: {s}", label(key)));
        return;
    }
    match v {
        Value::Object(map) if depth < MAX_DEPTH => {
            out.push(format!("{pad}{}:", label(key)));
            for (k, v) in map {
                render(k, v, depth + 1, out);
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                out.push(format!("{pad}{}: none", label(key)));
                return;
            }
            out.push(format!("{pad}{} ({}):", label(key), items.len()));
            for item in items.iter().take(MAX_ITEMS) {
                out.push(format!("{pad}  - {}", compact(item)));
            }
            if items.len() > MAX_ITEMS {
                out.push(format!("{pad}  … {} more", items.len() - MAX_ITEMS));
            }
        }
        other => out.push(format!("{pad}{}: {}", label(key), compact(other))),
    }
}

/// The status snapshot as text: a title line, then one line per field (nested objects indented).
pub fn render_status(status: &Value) -> String {
    let mut lines = vec!["MicroClaw status".to_string()];
    match status {
        Value::Object(map) => {
            for (k, v) in map {
                render(k, v, 0, &mut lines);
            }
        }
        Value::Null => lines.push("no status available".into()),
        other => lines.push(compact(other)),
    }
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_renders_known_fields_as_readable_lines() {
        let text = render_status(&json!({
            "version": "0.1.0",
            "uptimeMs": 3_723_000u64,
            "sessions": {"count": 2, "recent": [{"key": "main", "messageCount": 4}]},
            "activeRuns": 1,
            "connections": 3,
            "slo": {"request_success_rate": {"state": "ok", "value": 1.0}},
        }));
        assert!(text.contains("version: 0.1.0"), "{text}");
        assert!(
            text.contains("uptime: 1h 02m 03s"),
            "uptime is humanized: {text}"
        );
        assert!(
            text.contains("active runs: 1"),
            "camelCase keys become words: {text}"
        );
        assert!(
            text.contains("- key=main, message count=4"),
            "list items are compact lines: {text}"
        );
        assert!(
            text.contains("    state: ok"),
            "nested objects are indented: {text}"
        );
    }

    #[test]
    fn durations_pick_the_largest_units() {
        assert_eq!(human_duration_ms(5_000), "5s");
        assert_eq!(human_duration_ms(65_000), "1m 05s");
        assert_eq!(human_duration_ms(90_000_000), "1d 01h 00m");
    }
}
