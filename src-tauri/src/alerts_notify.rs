//! System notifications for engine events, each opening its page when clicked: an SLO alert
//! that starts firing (`#/alerts`), an approval (`#/approvals?id=`), an incident
//! (`#/incidents?id=`), a budget warning (`#/cost`), a run in the dead-letter queue
//! (`#/scheduler`), a device waiting for pairing (`#/auth`), a remote gateway down or back
//! (`#/fleet`). Approvals and the change freeze also update the tray (`tray_state`).

use crate::alert_notice::{for_alert, NoticeThrottle};
use crate::event_notices::{self, SeenIncidents};
use crate::notice_show::show;
use crate::routes::Route;
use crate::shell::Shell;
use crate::tray_state::Freeze;
use microclaw_engine::EngineEvent;
use std::sync::Arc;
use tauri::{AppHandle, Runtime};
use tokio::sync::broadcast::error::RecvError;

pub fn spawn<R: Runtime>(app: AppHandle<R>, shell: Arc<Shell>) {
    let mut events = shell.host.engine().subscribe();
    tauri::async_runtime::spawn(async move {
        let mut throttle = NoticeThrottle::default();
        let mut incidents = SeenIncidents::default();
        // A freeze kept from before this start shows at once (pending approvals start at 0:
        // a restart resolves them as denied, decisions.md).
        match microclaw_engine::ops::freeze::get(shell.host.engine()).await {
            Ok(p) => {
                shell.facts.set_freeze(Freeze::from_payload(&p));
                shell.health_changed.notify_one();
            }
            Err(e) => tracing::warn!("could not read the change freeze for the tray: {e}"),
        }
        loop {
            match events.recv().await {
                Ok(EngineEvent::SloAlert(payload)) => {
                    shell.health_changed.notify_one();
                    let Some(notice) = for_alert(&payload) else {
                        continue;
                    };
                    if !throttle.allow(&notice.slo, shell.host.engine().now_ms()) {
                        continue; // this SLO notified moments ago (page + ticket start together)
                    }
                    show(&app, &shell, &notice.title, &notice.body, Route::Alerts);
                }
                Ok(EngineEvent::ApprovalRequested { record, pending }) => {
                    shell.facts.set_pending_approvals(pending);
                    shell.health_changed.notify_one();
                    let n = event_notices::approval(&record, pending);
                    show(&app, &shell, &n.title, &n.body, n.route);
                }
                Ok(EngineEvent::ApprovalResolved { pending, .. }) => {
                    shell.facts.set_pending_approvals(pending);
                    shell.health_changed.notify_one();
                }
                Ok(EngineEvent::BudgetWarning(payload)) => {
                    let n = event_notices::budget(&payload);
                    show(&app, &shell, &n.title, &n.body, n.route);
                }
                Ok(EngineEvent::Incident(payload)) => {
                    if let Some(n) = incidents.notice(&payload) {
                        show(&app, &shell, &n.title, &n.body, n.route);
                    }
                }
                Ok(EngineEvent::FreezeChanged(payload)) => {
                    let freeze = Freeze::from_payload(&payload);
                    tracing::info!("freeze changed: {}", freeze.label());
                    shell.facts.set_freeze(freeze);
                    shell.health_changed.notify_one();
                }
                Ok(EngineEvent::DevicePairRequested(payload)) => {
                    let (title, body) = device_notice(&payload);
                    show(&app, &shell, &title, &body, Route::Auth);
                }
                Ok(EngineEvent::GatewayAlert(payload)) => {
                    let (title, body) = gateway_notice(&payload);
                    show(&app, &shell, &title, &body, Route::Fleet);
                }
                Ok(EngineEvent::Cron(payload)) => {
                    let Some((title, body)) = dead_letter_notice(&payload) else {
                        continue; // only a run that landed in the dead-letter queue notifies
                    };
                    show(&app, &shell, &title, &body, Route::Scheduler);
                }
                Ok(EngineEvent::Shutdown { .. }) | Err(RecvError::Closed) => break,
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!("{n} engine events skipped by the notifier")
                }
            }
        }
    });
}

/// The notification for a `device.pair.requested` payload: who waits and where to approve.
fn device_notice(p: &serde_json::Value) -> (String, String) {
    let id = p["deviceId"].as_str().unwrap_or("");
    let name = p["displayName"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}…", id.chars().take(12).collect::<String>()));
    let from = p["remoteIp"]
        .as_str()
        .map(|ip| format!(" from {ip}"))
        .unwrap_or_default();
    (
        "Device waits for approval".to_string(),
        format!("{name}{from} asks to connect. Approve or reject it on the Auth page (Devices) within 5 minutes."),
    )
}

/// The notification for a `gateway.alert` payload (fleet): which gateway stayed down, or is
/// back. The token is never in the payload.
fn gateway_notice(p: &serde_json::Value) -> (String, String) {
    let name = p["name"].as_str().unwrap_or("a gateway");
    let url = p["url"].as_str().unwrap_or("");
    if p["state"] == "resolved" {
        return (
            "Gateway is up again".to_string(),
            format!("{name} ({url}) answers again."),
        );
    }
    let probes = p["downProbes"].as_i64().unwrap_or(0);
    let why = p["lastError"]
        .as_str()
        .map(|e| format!(" Last error: {e}."))
        .unwrap_or_default();
    (
        "Gateway is down".to_string(),
        format!("{name} ({url}) failed {probes} probes in a row.{why} See the Gateways page."),
    )
}

#[cfg(test)]
mod gateway_notice_tests {
    #[test]
    fn names_the_gateway_the_streak_and_the_error() {
        let (title, body) = super::gateway_notice(&serde_json::json!({
            "name": "lab", "url": "ws://10.0.0.5:18789/", "state": "firing",
            "downProbes": 3, "lastError": "cannot connect"
        }));
        assert_eq!(title, "Gateway is down");
        assert!(
            body.contains("lab (ws://10.0.0.5:18789/) failed 3 probes"),
            "{body}"
        );
        assert!(body.contains("cannot connect"), "{body}");
        let (title, _) = super::gateway_notice(&serde_json::json!({"state": "resolved"}));
        assert_eq!(title, "Gateway is up again");
    }
}

#[cfg(test)]
mod device_notice_tests {
    #[test]
    fn names_the_device_and_where_to_approve() {
        let (title, body) = super::device_notice(&serde_json::json!({
            "deviceId": "abcdef0123456789", "remoteIp": "10.0.0.7"
        }));
        assert_eq!(title, "Device waits for approval");
        assert!(body.starts_with("abcdef012345… from 10.0.0.7"), "{body}");
        assert!(body.contains("Auth page"), "{body}");
    }
}

/// The notification for a `cron` event of a dead-lettered run (`deadLettered:true, dlqId`); None
/// for every other `cron` event (added, started, a finished run that succeeded or will retry).
fn dead_letter_notice(p: &serde_json::Value) -> Option<(String, String)> {
    if p["deadLettered"] != serde_json::Value::Bool(true) {
        return None;
    }
    let job = p["jobId"].as_str().unwrap_or("a job");
    let attempts = p["attempt"].as_i64().unwrap_or(1);
    let error: String = p["error"]
        .as_str()
        .unwrap_or("no error message")
        .chars()
        .take(160)
        .collect();
    Some((
        "Scheduled job failed".to_string(),
        format!(
            "{job} failed {attempts} attempt{} ({error}). Replay or discard it on the Scheduler page (dead-letter queue).",
            if attempts == 1 { "" } else { "s" }
        ),
    ))
}

#[cfg(test)]
mod dead_letter_notice_tests {
    use serde_json::json;

    #[test]
    fn a_dead_lettered_run_names_the_job_the_error_and_where_to_replay() {
        let (title, body) = super::dead_letter_notice(&json!({
            "jobId": "job_abc", "action": "finished", "status": "error", "attempt": 3,
            "error": "simulated failure", "deadLettered": true, "dlqId": "dlq_1"
        }))
        .unwrap();
        assert_eq!(title, "Scheduled job failed");
        assert!(
            body.starts_with("job_abc failed 3 attempts (simulated failure)"),
            "{body}"
        );
        assert!(body.contains("Scheduler page"), "{body}");
    }

    #[test]
    fn other_cron_events_do_not_notify() {
        for p in [
            json!({"jobId": "j", "action": "started"}),
            json!({"jobId": "j", "action": "finished", "status": "error", "nextRetryAtMs": 5}),
            json!({"jobId": "j", "action": "finished", "status": "ok"}),
        ] {
            assert!(super::dead_letter_notice(&p).is_none(), "{p}");
        }
    }
}
