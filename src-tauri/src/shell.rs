//! What the desktop shell holds while it runs (managed Tauri state), and the quit sequence.

use crate::desktop_settings::DesktopSettings;
use crate::engine_host::EngineHost;
use crate::launch::LaunchSettings;
use crate::tray_state::TrayFacts;
use crate::window::MAIN;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::Notify;

pub struct Shell {
    pub host: EngineHost,
    pub settings: LaunchSettings,
    /// Close to tray (the tray's check item, `desktop.json`).
    pub desktop: DesktopSettings,
    /// Pending approvals and the change freeze, for the tray menu.
    pub facts: TrayFacts,
    /// Wakes the tray's health check early (an alert fired, an approval waits, the freeze
    /// changed, quit started); `notify_one` keeps a wake-up the tray task was too busy to take.
    pub health_changed: Notify,
    quitting: AtomicBool,
    stopped: AtomicBool,
}

impl Shell {
    pub fn new(host: EngineHost, settings: LaunchSettings, desktop: DesktopSettings) -> Arc<Shell> {
        Arc::new(Shell {
            host,
            settings,
            desktop,
            facts: TrayFacts::default(),
            health_changed: Notify::new(),
            quitting: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        })
    }

    pub fn is_quitting(&self) -> bool {
        self.quitting.load(Ordering::SeqCst)
    }

    /// True once the engine has been stopped and the process may exit.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

/// Quits cleanly: saves the window's size, closes the window (its bridge connection ends),
/// stops the gateway and the engine (runs end, metrics flushed, database closed), then exits.
/// Safe to call from anywhere, any number of times (tray Quit, window close, SIGTERM).
pub fn request_quit<R: Runtime>(app: &AppHandle<R>, shell: &Arc<Shell>) {
    if shell.quitting.swap(true, Ordering::SeqCst) {
        return;
    }
    tracing::info!("quitting: stopping the engine");
    shell.health_changed.notify_one();
    {
        use tauri_plugin_window_state::AppHandleExt;
        if let Err(e) = app.save_window_state(crate::app::window_state_flags()) {
            tracing::warn!("could not save the window size: {e}");
        }
    }
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.destroy();
    }
    let app = app.clone();
    let shell = shell.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = shell.host.stop().await {
            tracing::warn!("engine stop: {e:#}");
        } else {
            tracing::info!("engine stopped cleanly");
        }
        shell.stopped.store(true, Ordering::SeqCst);
        app.exit(0);
    });
}
