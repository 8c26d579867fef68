//! A system notification when an SLO alert starts firing (`EngineEvent::SloAlert`).

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
                Ok(EngineEvent::Shutdown { .. }) | Err(RecvError::Closed) => break,
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!("{n} engine events skipped by the notifier")
                }
            }
        }
    });
}
