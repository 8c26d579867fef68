//! What the tray menu says besides health: pending approvals and the change freeze (kept
//! current from engine events), and the badge count (firing alerts + pending approvals).

use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Freeze {
    pub active: bool,
    pub reason: Option<String>,
    pub until_ms: Option<i64>,
    pub incident_id: Option<String>,
}

impl Freeze {
    /// From the `freeze` payload `{active, reason, until, incidentId}` (`until` in ms or null).
    pub fn from_payload(p: &Value) -> Freeze {
        Freeze {
            active: p["active"].as_bool().unwrap_or(false),
            reason: p["reason"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(String::from),
            until_ms: p["until"].as_i64().or_else(|| p["untilMs"].as_i64()),
            incident_id: crate::event_notices::id_text(&p["incidentId"]),
        }
    }

    /// The tray's freeze line.
    pub fn label(&self) -> String {
        if !self.active {
            return "Change freeze: off".into();
        }
        let mut s = "Change freeze: ON".to_string();
        if let Some(r) = &self.reason {
            let r: String = r.chars().take(60).collect();
            s.push_str(&format!(" — {r}"));
        }
        if let Some(until) = self.until_ms.and_then(format_utc) {
            s.push_str(&format!(" (until {until})"));
        }
        s
    }
}

/// `YYYY-MM-DD HH:MM UTC` for epoch milliseconds.
fn format_utc(ms: i64) -> Option<String> {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Some(format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    ))
}

#[derive(Default)]
pub struct TrayFacts {
    pending_approvals: AtomicUsize,
    freeze: Mutex<Freeze>,
}

impl TrayFacts {
    pub fn set_pending_approvals(&self, n: usize) {
        self.pending_approvals.store(n, Ordering::SeqCst);
    }
    pub fn pending_approvals(&self) -> usize {
        self.pending_approvals.load(Ordering::SeqCst)
    }
    pub fn set_freeze(&self, f: Freeze) {
        *self.freeze.lock().unwrap_or_else(|e| e.into_inner()) = f;
    }
    pub fn freeze(&self) -> Freeze {
        self.freeze
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The lines of the menu (alerts, approvals, freeze) and the badge count, for one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayLines {
    pub alerts: String,
    pub approvals: String,
    pub freeze: String,
    pub badge: usize,
}

pub fn lines(firing: usize, pending: usize, freeze: &Freeze) -> TrayLines {
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            one.to_string()
        } else {
            many.to_string()
        }
    };
    TrayLines {
        alerts: match firing {
            0 => "No alerts firing".into(),
            n => format!("{n} {} firing", plural(n, "alert", "alerts")),
        },
        approvals: match pending {
            0 => "No approvals pending".into(),
            n => format!("{n} {} pending", plural(n, "approval", "approvals")),
        },
        freeze: freeze.label(),
        badge: firing + pending,
    }
}

/// The badge text: empty at 0, "99+" past 99.
pub fn badge_text(n: usize) -> Option<String> {
    match n {
        0 => None,
        1..=99 => Some(n.to_string()),
        _ => Some("99+".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn menu_lines_count_alerts_and_approvals_into_the_badge() {
        let l = lines(2, 1, &Freeze::default());
        assert_eq!(l.alerts, "2 alerts firing");
        assert_eq!(l.approvals, "1 approval pending");
        assert_eq!(l.freeze, "Change freeze: off");
        assert_eq!(l.badge, 3);
        let l = lines(0, 0, &Freeze::default());
        assert_eq!((l.alerts.as_str(), l.badge), ("No alerts firing", 0));
    }

    #[test]
    fn the_freeze_line_names_the_reason_and_the_end() {
        let f = Freeze::from_payload(&json!({"active": true, "reason": "incident inc_1",
            "until": 1_764_600_000_000i64, "incidentId": 12}));
        assert_eq!(f.incident_id.as_deref(), Some("12"));
        assert_eq!(
            f.label(),
            "Change freeze: ON — incident inc_1 (until 2025-12-01 14:40 UTC)"
        );
        let off = Freeze::from_payload(&json!({"active": false, "reason": null, "until": null}));
        assert_eq!(off.label(), "Change freeze: off");
    }

    #[test]
    fn badge_text_is_short() {
        assert_eq!(badge_text(0), None);
        assert_eq!(badge_text(7).as_deref(), Some("7"));
        assert_eq!(badge_text(120).as_deref(), Some("99+"));
    }
}
