//! `GET /api/incidents/{id}/export?format=md`: a postmortem skeleton with the timeline.

use crate::engine::Engine;
use chrono::{TimeZone, Utc};
use microclaw_core::{Error, Result};

fn ts(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// One line of Markdown table text: no pipes or newlines break the table.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The postmortem in `format` (only `md`).
pub async fn export(engine: &Engine, id: i64, format: &str) -> Result<String> {
    if format != "md" {
        return Err(Error::invalid(format!(
            "format '{format}' is not supported: expected md"
        )));
    }
    let (inc, timeline) = engine
        .store()
        .read_async(move |s| Ok((s.incident_get(id)?, s.incident_timeline(id)?)))
        .await?;
    let mut md = String::new();
    md.push_str(&format!(
        "# Postmortem: {} (incident #{})\n\n",
        inc.title, inc.id
    ));
    md.push_str(&format!(
        "- Severity: {}\n- Status: {}\n",
        inc.severity, inc.status
    ));
    md.push_str(&format!(
        "- Owner: {}\n",
        inc.owner.as_deref().unwrap_or("(unassigned)")
    ));
    md.push_str(&format!("- Opened: {}\n", ts(inc.opened_at)));
    if let Some(m) = inc.mitigated_at {
        md.push_str(&format!("- Mitigated: {}\n", ts(m)));
    }
    match inc.resolved_at {
        Some(r) => md.push_str(&format!(
            "- Resolved: {} (duration {} min)\n",
            ts(r),
            (r - inc.opened_at).max(0) / 60_000
        )),
        None => md.push_str("- Resolved: (not yet)\n"),
    }
    if let Some(slo) = &inc.slo {
        md.push_str(&format!("- SLO: {slo}\n"));
    }
    if !inc.alert_ids.is_empty() {
        md.push_str(&format!("- Alerts: {}\n", inc.alert_ids.join(", ")));
    }
    md.push_str("\n## Summary\n\n_What happened, in two or three sentences._\n\n");
    md.push_str(
        "## Impact\n\n_Who was affected, for how long, and how badly (error budget spent)._\n\n",
    );
    md.push_str("## Timeline\n\n| time (UTC) | kind | what | by |\n|---|---|---|---|\n");
    for t in &timeline {
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            ts(t.ts),
            cell(&t.kind),
            cell(&t.text),
            cell(&t.actor)
        ));
    }
    md.push_str("\n## Root cause\n\n_Why it happened._\n\n");
    md.push_str("## What went well / what did not\n\n- \n\n");
    md.push_str("## Action items\n\n| action | owner | due |\n|---|---|---|\n| | | |\n");
    Ok(md)
}
