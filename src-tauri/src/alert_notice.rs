//! The text of the system notification for an `slo.alert` event: only alerts that start
//! firing notify (a resolved alert updates the tray, it does not interrupt).

use serde_json::Value;
use std::collections::HashMap;

/// One notification per SLO in this period: the page and ticket alerts of one SLO usually
/// start together, and a flapping alert must not flood the desktop.
pub const QUIET_PERIOD_MS: i64 = 5 * 60 * 1000;

/// Remembers when each SLO last notified.
#[derive(Debug, Default)]
pub struct NoticeThrottle {
    last: HashMap<String, i64>,
}

impl NoticeThrottle {
    /// True (and remembered) when `slo` has not notified within the quiet period before `now_ms`.
    pub fn allow(&mut self, slo: &str, now_ms: i64) -> bool {
        match self.last.get(slo) {
            Some(&at) if now_ms - at < QUIET_PERIOD_MS => false,
            _ => {
                self.last.insert(slo.to_string(), now_ms);
                true
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub slo: String,
    pub title: String,
    pub body: String,
}

/// `payload` is the `EngineEvent::SloAlert` body: `{slo, state, severity, window, burn_rate, since, at}`.
pub fn for_alert(payload: &Value) -> Option<Notice> {
    let state = payload.get("state").and_then(Value::as_str)?;
    if state != "firing" {
        return None;
    }
    let slo = payload
        .get("slo")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("an SLO");
    let severity = payload
        .get("severity")
        .and_then(Value::as_str)
        .unwrap_or("");
    let window = payload.get("window").and_then(Value::as_str).unwrap_or("");
    let burn = payload.get("burn_rate").and_then(Value::as_f64);
    let title = match severity {
        "" => format!("SLO alert: {slo}"),
        sev => format!("SLO alert ({sev}): {slo}"),
    };
    let mut body = match (burn, window) {
        (Some(b), "") => format!("Burning error budget at {b:.1}x."),
        (Some(b), w) => format!("Burning error budget at {b:.1}x over {w}."),
        (None, _) => "The SLO is failing.".to_string(),
    };
    body.push_str(" Click to open the Alerts page.");
    Some(Notice {
        slo: slo.to_string(),
        title,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_firing_alert_names_the_slo_severity_and_burn_rate() {
        let n = for_alert(
            &json!({"slo": "availability", "state": "firing", "severity": "page",
            "window": "1h", "burn_rate": 14.4, "since": 1, "at": 2}),
        )
        .unwrap();
        assert_eq!(n.title, "SLO alert (page): availability");
        assert!(
            n.body.starts_with("Burning error budget at 14.4x over 1h."),
            "{}",
            n.body
        );
    }

    #[test]
    fn resolved_alerts_and_malformed_payloads_do_not_notify() {
        assert_eq!(
            for_alert(&json!({"slo": "availability", "state": "resolved"})),
            None
        );
        assert_eq!(
            for_alert(&json!({"slo": "availability"})),
            None,
            "no state: nothing to say"
        );
        assert_eq!(for_alert(&json!("firing")), None);
    }

    #[test]
    fn one_notice_per_slo_per_quiet_period() {
        let mut t = NoticeThrottle::default();
        assert!(t.allow("availability", 1_000));
        assert!(
            !t.allow("availability", 1_000),
            "the ticket alert starting with the page alert is quiet"
        );
        assert!(t.allow("latency", 1_000), "another SLO still notifies");
        assert!(!t.allow("availability", 1_000 + QUIET_PERIOD_MS - 1));
        assert!(
            t.allow("availability", 1_000 + QUIET_PERIOD_MS),
            "after the quiet period it notifies again"
        );
    }

    #[test]
    fn missing_fields_still_give_a_readable_notice() {
        let n = for_alert(&json!({"state": "firing"})).unwrap();
        assert_eq!(n.title, "SLO alert: an SLO");
        assert!(n.body.contains("failing"));
    }
}
