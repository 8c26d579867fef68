//! Wiring the shell together: plugins, the engine (started once single-instance has let this
//! process through), the window, the tray, notifications, the commands and the quit path.

use crate::engine_host::EngineHost;
use crate::launch::{platform_data_dir, LaunchSettings};
use crate::shell::{request_quit, Shell};
use crate::window;
use anyhow::Context;
use std::sync::Arc;
use tauri::{Manager, RunEvent};
use tauri_plugin_window_state::StateFlags;

/// Size, position and maximized state are remembered; visibility is not (a window saved while
/// closing must not come back hidden).
pub fn window_state_flags() -> StateFlags {
    StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED
}

pub fn run() -> anyhow::Result<()> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let settings = LaunchSettings::from_vars(&vars, platform_data_dir())?;
    let config = settings.load_config(&vars)?;

    let app = tauri::Builder::default()
        // First: a second launch hands over to the first (which comes to the front) and exits
        // before it opens the database or binds a port.
        .plugin(tauri_plugin_single_instance::init(
            |app, _argv, _cwd| match app.get_webview_window(window::MAIN) {
                Some(w) => window::focus(&w),
                None => tracing::info!("second launch while no window is open"),
            },
        ))
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(window_state_flags())
                .build(),
        )
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(tauri::generate_handler![
            crate::commands::export_metrics,
            crate::commands::save_export
        ])
        .setup(move |app| {
            let host = tauri::async_runtime::block_on(EngineHost::start(
                settings.data_dir.clone(),
                config,
            ))?;
            let url: tauri::Url = host.url().parse().context("the gateway URL")?;
            let token = host.engine().launch_token().to_string();
            let shell = Shell::new(host, settings);
            app.manage(shell.clone());
            window::open_main(app.handle(), &url, &token)?;
            crate::tray::install(app.handle(), shell.clone())?;
            crate::alerts_notify::spawn(app.handle().clone(), shell.clone());
            spawn_signal_quit(app.handle().clone(), shell);
            tracing::info!("MicroClaw Console is up at {url}");
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("starting the desktop app")?;

    app.run(|handle, event| {
        if let RunEvent::ExitRequested { api, .. } = event {
            // Closing the window or the tray's Quit: stop the engine first, then exit.
            if let Some(shell) = handle.try_state::<Arc<Shell>>() {
                if !shell.is_stopped() {
                    api.prevent_exit();
                    request_quit(handle, &shell);
                }
            }
        }
    });
    Ok(())
}

/// SIGTERM / SIGINT (Ctrl-C in a terminal) quit the same way as the tray's Quit.
fn spawn_signal_quit(app: tauri::AppHandle, shell: Arc<Shell>) {
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return tracing::warn!("cannot listen for SIGTERM/SIGINT");
            };
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received"),
                _ = int.recv() => tracing::info!("SIGINT received"),
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        let handle = app.clone();
        let _ = app.run_on_main_thread(move || request_quit(&handle, &shell));
    });
}
