//! A system notification when an SLO alert starts firing (`EngineEvent::SloAlert`) and when a
//! device waits for pairing approval (`EngineEvent::DevicePairRequested`).

use crate::alert_notice::{for_alert, NoticeThrottle};
use crate::shell::Shell;
use microclaw_engine::EngineEvent;
use std::sync::Arc;
use tauri::{AppHandle, Runtime};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;

pub fn spawn<R: Runtime>(app: AppHandle<R>, shell: Arc<Shell>) {
    let mut events = shell.host.engine().subscribe();
    tauri::async_runtime::spawn(async move {
        let mut throttle = NoticeThrottle::default();
        loop {
            match events.recv().await {
                Ok(EngineEvent::SloAlert(payload)) => {
                    shell.health_changed.notify_waiters();
                    let Some(notice) = for_alert(&payload) else {
                        continue;
                    };
                    if !throttle.allow(&notice.slo, shell.host.engine().now_ms()) {
                        continue; // this SLO notified moments ago (page + ticket start together)
                    }
                    tracing::info!("notifying: {}", notice.title);
                    if let Err(e) = app
                        .notification()
                        .builder()
                        .title(&notice.title)
                        .body(&notice.body)
                        .show()
                    {
                        tracing::warn!("could not show the notification ({}): {e}", notice.title);
                    }
                }
                Ok(EngineEvent::DevicePairRequested(payload)) => {
                    let (title, body) = device_notice(&payload);
                    tracing::info!("notifying: {title}");
                    if let Err(e) = app
                        .notification()
                        .builder()
                        .title(&title)
                        .body(&body)
                        .show()
                    {
                        tracing::warn!("could not show the notification ({title}): {e}");
                    }
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
