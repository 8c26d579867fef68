//! MicroClaw Console, the desktop app: runs the engine (gateway, store, metrics) in-process on
//! one tokio runtime and shows the web UI from the engine's own URL, with a tray, native save
//! dialog and notifications. Settings: see `launch.rs`; everything else is the engine's config.

// No console window behind the app in Windows release builds.
#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

mod alert_notice;
mod alerts_notify;
mod app;
mod cli_key;
mod commands;
mod deep_links;
mod desktop_settings;
mod engine_host;
mod event_notices;
mod export_file;
mod health;
mod keychain;
mod launch;
mod metrics_export;
mod notice_show;
mod routes;
mod shell;
mod tray;
mod tray_badge;
mod tray_state;
mod window;

use std::process::ExitCode;

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--keychain-check") {
        return keychain::check_command(); // store, read back and delete one secret; no window
    }
    {
        // stderr and the process log ring (`logs.tail`, `GET /api/logs`).
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tao=warn,wry=warn"));
        let ring = microclaw_engine::log_ring::install_process_ring();
        tracing_subscriber::registry()
            .with(filter)
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .with(microclaw_engine::log_ring::LogRingLayer::new(ring))
            .init();
    }

    // One runtime for Tauri and the engine.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("microclaw")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("microclaw-desktop: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    tauri::async_runtime::set(runtime.handle().clone());

    match app::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("microclaw-desktop: {e:#}");
            ExitCode::FAILURE
        }
    }
}
