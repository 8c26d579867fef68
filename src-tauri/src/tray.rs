//! The tray icon: a health dot (ok / SLO burning / gateway down), a status line, Open and Quit.

use crate::health::{gateway_answers, Health};
use crate::shell::{request_quit, Shell};
use crate::tray_badge::with_badge;
use std::sync::Arc;
use std::time::Duration;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Runtime};

const TRAY_ID: &str = "microclaw";
const HEALTH_EVERY: Duration = Duration::from_secs(3);
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// The tray's base picture (the app icon); the health dot is drawn on it.
const BASE_ICON_PNG: &[u8] = include_bytes!("../../icons/128x128.png");

struct TrayParts<R: Runtime> {
    tray: TrayIcon<R>,
    status: MenuItem<R>,
    base: Image<'static>,
}

/// Builds the tray and starts the task that keeps its health current.
pub fn install<R: Runtime>(app: &AppHandle<R>, shell: Arc<Shell>) -> tauri::Result<()> {
    let base = Image::from_bytes(BASE_ICON_PNG)?.to_owned();
    let status = MenuItem::with_id(app, "status", "Starting…", false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open MicroClaw Console", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let sep = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&status, &sep, &open, &quit])?;

    let on_menu = shell.clone();
    let on_click = shell.clone();
    let tray = TrayIconBuilder::with_id(TRAY_ID)
        .icon(badged(&base, Health::Ok))
        .tooltip("MicroClaw Console")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(move |app, event| match event.id().as_ref() {
            "open" => open_window(app, &on_menu),
            "quit" => request_quit(app, &on_menu),
            _ => {}
        })
        .on_tray_icon_event(move |tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                open_window(tray.app_handle(), &on_click);
            }
        })
        .build(app)?;

    let parts = TrayParts { tray, status, base };
    tauri::async_runtime::spawn(keep_health_current(parts, shell));
    Ok(())
}

fn open_window<R: Runtime>(app: &AppHandle<R>, shell: &Arc<Shell>) {
    if shell.is_quitting() {
        return;
    }
    let url = match shell.host.url().parse() {
        Ok(u) => u,
        Err(e) => return tracing::warn!("bad gateway URL {}: {e}", shell.host.url()),
    };
    if let Err(e) = crate::window::open_main(app, &url, shell.host.engine().launch_token()) {
        tracing::warn!("could not open the window: {e}");
    }
}

fn badged(base: &Image<'_>, health: Health) -> Image<'static> {
    match with_badge(
        base.rgba(),
        base.width(),
        base.height(),
        health.badge_color(),
    ) {
        Some(rgba) => Image::new_owned(rgba, base.width(), base.height()),
        None => base.clone().to_owned(),
    }
}

/// Re-checks health every few seconds (and at once when an alert fires) and updates the
/// tray only when something changed.
async fn keep_health_current<R: Runtime>(parts: TrayParts<R>, shell: Arc<Shell>) {
    let mut shown: Option<(Health, usize)> = None;
    loop {
        if shell.is_quitting() {
            let _ = parts.status.set_text("Stopping…");
            let _ = parts.tray.set_tooltip(Some("MicroClaw Console — stopping"));
            return;
        }
        let up =
            shell.host.serving().await && gateway_answers(shell.host.addr(), PROBE_TIMEOUT).await;
        let firing = shell.host.engine().metrics_engine().firing_alerts().len();
        let now = (Health::classify(up, firing), firing);
        if shown != Some(now) {
            let (health, firing) = now;
            let url = shell.host.url();
            let _ = parts.tray.set_icon(Some(badged(&parts.base, health)));
            let _ = parts.tray.set_tooltip(Some(health.tooltip(firing, &url)));
            let _ = parts.status.set_text(health.label(firing));
            if shown.is_some() {
                tracing::info!("health: {}", health.label(firing));
            }
            shown = Some(now);
        }
        tokio::select! {
            _ = tokio::time::sleep(HEALTH_EVERY) => {}
            _ = shell.health_changed.notified() => {}
        }
    }
}
