//! Wiring the shell together: plugins, the engine (started once single-instance has let this
//! process through), the window, the tray, notifications, deep links, the keychain, the
//! commands, close to tray and the quit path.

use crate::desktop_settings::DesktopSettings;
use crate::engine_host::EngineHost;
use crate::launch::{platform_data_dir, LaunchSettings};
use crate::shell::{request_quit, Shell};
use crate::window;
use anyhow::Context;
use std::sync::Arc;
use tauri::{Manager, RunEvent, WindowEvent};
use tauri_plugin_window_state::StateFlags;

/// Size, position and maximized state are remembered; visibility is not (a window saved while
/// closing must not come back hidden).
pub fn window_state_flags() -> StateFlags {
    StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED
}

/// The argument the login autostart entry passes: start in the tray, without the window.
pub const AUTOSTART_ARG: &str = "--autostart";

pub fn run() -> anyhow::Result<()> {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let settings = LaunchSettings::from_vars(&vars, platform_data_dir())?;
    let config = settings.load_config(&vars)?;
    let desktop = DesktopSettings::load(&settings.data_dir, &vars)?;
    let hidden = std::env::args().any(|a| a == AUTOSTART_ARG);

    let app = tauri::Builder::default()
        // First: a second launch hands over to the first (which comes to the front) and exits
        // before it opens the database or binds a port. A deep link among its arguments goes
        // to the deep-link plugin first (the `deep-link` feature), which routes the window.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            tracing::info!("a second launch handed over to this instance");
            if !crate::routes::links_in_args(&argv).is_empty() {
                return; // the deep link shows the window on its page
            }
            match app.try_state::<Arc<Shell>>() {
                Some(shell) => crate::tray::open_window(app, &shell),
                None => tracing::info!("second launch before the app was ready"),
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .app_name("MicroClaw Console")
                .arg(AUTOSTART_ARG)
                .build(),
        )
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
        // Close to tray: the window's close button hides it; the engine keeps running.
        .on_window_event(|w, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                let Some(shell) = w.try_state::<Arc<Shell>>() else {
                    return;
                };
                if w.label() == window::MAIN
                    && shell.desktop.close_to_tray()
                    && !shell.is_quitting()
                {
                    api.prevent_close();
                    let _ = w.hide();
                    tracing::info!(
                        "closed to tray: the window is hidden, the engine keeps running"
                    );
                }
            }
        })
        .setup(move |app| {
            let data_dir = settings.data_dir.clone();
            let host = tauri::async_runtime::block_on(EngineHost::start(
                settings.data_dir.clone(),
                config,
            ))?;
            let url: tauri::Url = host.url().parse().context("the gateway URL")?;
            let token = host.engine().launch_token().to_string();
            let engine = host.engine().clone();
            let shell = Shell::new(host, settings, desktop);
            app.manage(shell.clone());
            crate::deep_links::install(app.handle());
            match crate::deep_links::initial(app.handle()) {
                Some(route) => window::open_at(app.handle(), &url, &token, &route)?,
                None if hidden => {
                    tracing::info!("started at login: the window opens from the tray")
                }
                None => {
                    window::open_main(app.handle(), &url, &token)?;
                }
            }
            crate::tray::install(app.handle(), shell.clone())?;
            crate::alerts_notify::spawn(app.handle().clone(), shell.clone());
            crate::cli_key::spawn(engine, data_dir);
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
