//! The text and target page of the notifications for approvals, budgets and incidents
//! (`operations.md` §1, §2, §4 payloads). Fields that are missing still give a readable notice.

use crate::routes::Route;
use serde_json::Value;
use std::collections::VecDeque;

pub struct EventNotice {
    pub title: String,
    pub body: String,
    pub route: Route,
}

/// An id as text: incidents carry numbers, approvals strings.
pub fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn short(v: &Value, max: usize) -> Option<String> {
    let s = v.as_str().filter(|s| !s.trim().is_empty())?;
    let mut out: String = s.chars().take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    Some(out)
}

/// `exec.approval.requested`: `{id, request:{sessionKey, agentId, tool, command, …}, expiresAtMs}`.
pub fn approval(record: &Value, pending: usize) -> EventNotice {
    let id = id_text(&record["id"]).unwrap_or_default();
    let req = &record["request"];
    let what = short(&req["command"], 120)
        .or_else(|| short(&req["commandPreview"], 120))
        .or_else(|| short(&req["tool"], 60))
        .unwrap_or_else(|| "a tool call".into());
    let who = short(&req["agentId"], 40)
        .map(|a| format!("{a} wants to run"))
        .unwrap_or_else(|| "An agent wants to run".into());
    let session = short(&req["sessionKey"], 60)
        .map(|k| format!(" in {k}"))
        .unwrap_or_default();
    let more = match pending {
        0 | 1 => String::new(),
        n => format!(" ({n} approvals pending)"),
    };
    EventNotice {
        title: "Approval needed".into(),
        body: format!("{who} {what}{session}.{more} Click to allow or deny it."),
        route: if id.is_empty() {
            Route::Approvals
        } else {
            Route::Approval(id)
        },
    }
}

/// `budget.warning`: `{cap|scope, used, limit, …}`; the field names are read loosely.
pub fn budget(p: &Value) -> EventNotice {
    let cap = short(&p["cap"], 60)
        .or_else(|| short(&p["key"], 60))
        .or_else(|| short(&p["scope"], 60))
        .unwrap_or_else(|| "a budget".into());
    let agent = short(&p["agentId"], 40)
        .map(|a| format!(" of {a}"))
        .unwrap_or_default();
    let pct = p["percent"]
        .as_f64()
        .or_else(|| match (p["used"].as_f64(), p["limit"].as_f64()) {
            (Some(u), Some(l)) if l > 0.0 => Some(u / l * 100.0),
            _ => None,
        })
        .map(|x| format!("{x:.0} %"))
        .unwrap_or_else(|| "80 %".into());
    EventNotice {
        title: "Budget warning".into(),
        body: format!("{cap}{agent} is at {pct} of its cap. See the Cost page."),
        route: Route::Cost,
    }
}

/// Remembers which incidents already notified, so a change to an open incident (owner, note)
/// does not notify again. Bounded: the oldest ids are forgotten first.
#[derive(Default)]
pub struct SeenIncidents {
    ids: VecDeque<String>,
}

const SEEN_MAX: usize = 256;

impl SeenIncidents {
    /// The notice for an `incident` payload `{id, title, severity, status}`: once per incident,
    /// while it is open.
    pub fn notice(&mut self, p: &Value) -> Option<EventNotice> {
        let id = id_text(&p["id"])?;
        if p["status"].as_str().unwrap_or("open") != "open" || self.ids.contains(&id) {
            return None;
        }
        if self.ids.len() == SEEN_MAX {
            self.ids.pop_front();
        }
        self.ids.push_back(id.clone());
        let title = short(&p["title"], 100).unwrap_or_else(|| id.clone());
        let sev = short(&p["severity"], 8)
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        Some(EventNotice {
            title: format!("Incident opened{sev}"),
            body: format!("{title}. Click to see its timeline."),
            route: Route::Incident(Some(id)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_approval_names_the_agent_the_command_and_opens_its_page() {
        let n = approval(
            &json!({"id": "apr_7", "kind": "exec", "request": {"sessionKey": "main",
                "agentId": "ops", "tool": "run_command", "command": "rm -rf build"}}),
            2,
        );
        assert_eq!(n.title, "Approval needed");
        assert_eq!(
            n.body,
            "ops wants to run rm -rf build in main. (2 approvals pending) Click to allow or deny it."
        );
        assert_eq!(n.route.hash(), "#/approvals?id=apr_7");
        let bare = approval(&json!({}), 1);
        assert_eq!(bare.route, Route::Approvals);
        assert!(
            bare.body.starts_with("An agent wants to run a tool call."),
            "{}",
            bare.body
        );
    }

    #[test]
    fn a_budget_warning_says_how_far_and_opens_cost() {
        let n = budget(&json!({"cap": "daily_tokens", "used": 820, "limit": 1000}));
        assert_eq!(
            n.body,
            "daily_tokens is at 82 % of its cap. See the Cost page."
        );
        assert_eq!(n.route, Route::Cost);
    }

    #[test]
    fn an_incident_notifies_once_while_open() {
        let mut seen = SeenIncidents::default();
        let p =
            json!({"id": 3, "title": "availability burning", "severity": "sev2", "status": "open"});
        let n = seen.notice(&p).unwrap();
        assert_eq!(n.title, "Incident opened (sev2)");
        assert_eq!(
            n.route.hash(),
            "#/incidents?id=3",
            "numeric ids (the store's) work"
        );
        assert!(
            seen.notice(&p).is_none(),
            "a change to the same incident is quiet"
        );
        assert!(seen
            .notice(&json!({"id": "inc_4", "status": "resolved"}))
            .is_none());
        assert!(seen.notice(&json!({"title": "no id"})).is_none());
    }
}
