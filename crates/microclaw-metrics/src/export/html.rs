//! One self-contained HTML page: the chart SVG inline and the SLO summary table.

use serde_json::Value;

use super::time_fmt::short_utc;

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.4}"),
            _ => n.to_string(),
        },
        Value::String(s) => escape(s),
        other => escape(&other.to_string()),
    }
}

pub fn render(svg: &str, summary: &Value, exported_at: i64, minutes: u32) -> String {
    let mut rows = String::new();
    if let Some(slo) = summary.get("slo").and_then(Value::as_object) {
        for (name, s) in slo {
            let samples = s
                .get("sample_size")
                .or_else(|| s.get("runs_7d"))
                .unwrap_or(&Value::Null);
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(name),
                cell(s.get("value").unwrap_or(&Value::Null)),
                cell(s.get("target").unwrap_or(&Value::Null)),
                cell(s.get("burn_alert").unwrap_or(&Value::Null)),
                cell(samples),
            ));
        }
    }
    let mut alerts = String::new();
    for a in summary
        .get("alerts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        alerts.push_str(&format!(
            "<li>{} — {} ({}, burn {})</li>\n",
            cell(a.get("slo").unwrap_or(&Value::Null)),
            cell(a.get("severity").unwrap_or(&Value::Null)),
            cell(a.get("window").unwrap_or(&Value::Null)),
            cell(a.get("burn_rate").unwrap_or(&Value::Null)),
        ));
    }
    if alerts.is_empty() {
        alerts.push_str("<li>none firing</li>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>MicroClaw metrics</title>\n\
<style>body{{font-family:sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse}}\
td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}td:first-child,th:first-child{{text-align:left}}</style>\n\
</head><body>\n<h1>MicroClaw metrics</h1>\n<p>Exported {} — last {} minutes.</p>\n{}\n\
<h2>SLOs</h2>\n<table><tr><th>SLO</th><th>value</th><th>target</th><th>alert at</th><th>samples</th></tr>\n{}</table>\n\
<h2>Firing alerts</h2>\n<ul>\n{}</ul>\n</body></html>\n",
        escape(&short_utc(exported_at)),
        minutes,
        svg,
        rows,
        alerts
    )
}
