//! The tray icon: a health dot (ok / SLO burning / gateway down) and a badge count (firing
//! alerts + pending approvals, as the tray's label and the window's badge); a menu with the
//! health line, firing alerts, pending approvals and the change freeze (each opens its page),
//! Open, the Close to tray and Start at login switches, and Quit.

use crate::health::{gateway_answers, Health};
use crate::routes::Route;
use crate::shell::{request_quit, Shell};
use crate::tray_badge::{with_badge, with_count};
use crate::tray_state::{badge_text, lines, TrayLines};
use std::sync::Arc;
use std::time::Duration;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_autostart::ManagerExt;

const TRAY_ID: &str = "microclaw";
const HEALTH_EVERY: Duration = Duration::from_secs(3);
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// The tray's base picture (the app icon); the health dot is drawn on it.
const BASE_ICON_PNG: &[u8] = include_bytes!("../../icons/128x128.png");

struct TrayParts<R: Runtime> {
    tray: TrayIcon<R>,
    status: MenuItem<R>,
    alerts: MenuItem<R>,
    approvals: MenuItem<R>,
    freeze: MenuItem<R>,
    base: Image<'static>,
}

/// Builds the tray and starts the task that keeps its health current.
pub fn install<R: Runtime>(app: &AppHandle<R>, shell: Arc<Shell>) -> tauri::Result<()> {
    let base = Image::from_bytes(BASE_ICON_PNG)?.to_owned();
    let status = MenuItem::with_id(app, "status", "Starting…", false, None::<&str>)?;
    let alerts = MenuItem::with_id(app, "alerts", "No alerts firing", true, None::<&str>)?;
    let approvals =
        MenuItem::with_id(app, "approvals", "No approvals pending", true, None::<&str>)?;
    let freeze = MenuItem::with_id(app, "freeze", "Change freeze: off", true, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open MicroClaw Console", true, None::<&str>)?;
    let to_tray = CheckMenuItem::with_id(
        app,
        "close_to_tray",
        "Close to tray",
        true,
        shell.desktop.close_to_tray(),
        None::<&str>,
    )?;
    let at_login = CheckMenuItem::with_id(
        app,
        "autostart",
        "Start at login",
        true,
        app.autolaunch().is_enabled().unwrap_or(false),
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let (sep1, sep2, sep3) = (
        PredefinedMenuItem::separator(app)?,
        PredefinedMenuItem::separator(app)?,
        PredefinedMenuItem::separator(app)?,
    );
    let menu = Menu::with_items(
        app,
        &[
            &status, &alerts, &approvals, &freeze, &sep1, &open, &sep2, &to_tray, &at_login, &sep3,
            &quit,
        ],
    )?;

    let on_menu = shell.clone();
    let on_click = shell.clone();
    let tray = TrayIconBuilder::with_id(TRAY_ID)
        .icon(badged(&base, Health::Ok))
        .tooltip("MicroClaw Console")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(move |app, event| match event.id().as_ref() {
            "open" => open_window(app, &on_menu),
            "alerts" => crate::deep_links::route_window(app, &on_menu, &Route::Alerts),
            "approvals" => crate::deep_links::route_window(app, &on_menu, &Route::Approvals),
            "freeze" => {
                let id = on_menu.facts.freeze().incident_id;
                crate::deep_links::route_window(app, &on_menu, &Route::Incident(id))
            }
            "close_to_tray" => toggle_close_to_tray(&on_menu, &to_tray),
            "autostart" => toggle_autostart(app, &at_login),
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

    let parts = TrayParts {
        tray,
        status,
        alerts,
        approvals,
        freeze,
        base,
    };
    tauri::async_runtime::spawn(keep_health_current(parts, shell));
    Ok(())
}

fn toggle_close_to_tray<R: Runtime>(shell: &Arc<Shell>, item: &CheckMenuItem<R>) {
    let on = item.is_checked().unwrap_or(!shell.desktop.close_to_tray());
    match shell.desktop.set_close_to_tray(on) {
        Ok(()) => tracing::info!("close to tray: {}", if on { "on" } else { "off" }),
        Err(e) => tracing::warn!("could not save the close-to-tray setting: {e}"),
    }
}

/// Start at login is opt-in: the autostart entry exists only after this is checked.
fn toggle_autostart<R: Runtime>(app: &AppHandle<R>, item: &CheckMenuItem<R>) {
    let on = item.is_checked().unwrap_or(false);
    let done = if on {
        app.autolaunch().enable()
    } else {
        app.autolaunch().disable()
    };
    match done {
        Ok(()) => tracing::info!("start at login: {}", if on { "on" } else { "off" }),
        Err(e) => {
            tracing::warn!("could not change start at login: {e}");
            let _ = item.set_checked(!on);
        }
    }
}

/// Shows the main window (creating it when the app started hidden at login).
pub fn open_window<R: Runtime>(app: &AppHandle<R>, shell: &Arc<Shell>) {
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
    badged_count(base, health, None)
}

/// The icon with the health dot and, when `count` is set, the badge count in it.
fn badged_count(base: &Image<'_>, health: Health, count: Option<&str>) -> Image<'static> {
    let drawn = match count {
        Some(text) => with_count(
            base.rgba(),
            base.width(),
            base.height(),
            health.badge_color(),
            text,
        ),
        None => with_badge(
            base.rgba(),
            base.width(),
            base.height(),
            health.badge_color(),
        ),
    };
    match drawn {
        Some(rgba) => Image::new_owned(rgba, base.width(), base.height()),
        None => base.clone().to_owned(),
    }
}

/// Re-checks health every few seconds (and at once when an alert fires, an approval waits or
/// the freeze changes) and updates the tray only when something changed.
async fn keep_health_current<R: Runtime>(parts: TrayParts<R>, shell: Arc<Shell>) {
    let mut shown: Option<(Health, usize, TrayLines)> = None;
    loop {
        if shell.is_quitting() {
            let _ = parts.status.set_text("Stopping…");
            let _ = parts.tray.set_tooltip(Some("MicroClaw Console — stopping"));
            return;
        }
        let up =
            shell.host.serving().await && gateway_answers(shell.host.addr(), PROBE_TIMEOUT).await;
        let firing = shell.host.engine().metrics_engine().firing_alerts().len();
        let health = Health::classify(up, firing);
        let now = (
            health,
            firing,
            lines(
                firing,
                shell.facts.pending_approvals(),
                &shell.facts.freeze(),
            ),
        );
        if shown.as_ref() != Some(&now) {
            let (health, firing, l) = &now;
            let url = shell.host.url();
            let badge = badge_text(l.badge);
            let _ = parts
                .tray
                .set_icon(Some(badged_count(&parts.base, *health, badge.as_deref())));
            let mut tip = health.tooltip(*firing, &url);
            tip.push_str(&format!("\n{} · {}", l.approvals, l.freeze));
            let _ = parts.tray.set_tooltip(Some(tip));
            let _ = parts.tray.set_title(badge.as_deref());
            let _ = parts.status.set_text(health.label(*firing));
            let _ = parts.alerts.set_text(&l.alerts);
            let _ = parts.approvals.set_text(&l.approvals);
            let _ = parts.freeze.set_text(&l.freeze);
            if let Some(w) = parts
                .tray
                .app_handle()
                .get_webview_window(crate::window::MAIN)
            {
                let _ = w.set_badge_count((l.badge > 0).then_some(l.badge as i64));
            }
            if shown.as_ref().map(|s| s.0) != Some(*health) && shown.is_some() {
                tracing::info!("health: {}", health.label(*firing));
            }
            tracing::info!(
                "tray: {} | {} | {} | {} | badge {}",
                health.label(*firing),
                l.alerts,
                l.approvals,
                l.freeze,
                badge.as_deref().unwrap_or("none")
            );
            shown = Some(now);
        }
        tokio::select! {
            _ = tokio::time::sleep(HEALTH_EVERY) => {}
            _ = shell.health_changed.notified() => {}
        }
    }
}
