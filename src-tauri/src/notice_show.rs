//! Shows one system notification (freedesktop Notifications over D-Bus on Linux, through
//! `notify-rust`) with a default action: clicking it brings the window up on the page the
//! notification is about. Waiting for the click holds a blocking thread until the notice is
//! closed, so at most `MAX_WAITING` notices wait at once; beyond that they show without one.

use crate::routes::Route;
use crate::shell::Shell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tauri::{AppHandle, Runtime};

const APP_NAME: &str = "MicroClaw Console";
pub const MAX_WAITING: usize = 8;
static WAITING: AtomicUsize = AtomicUsize::new(0);

/// Shows `title`/`body`; a click opens `route`. Failures are logged, never fatal.
pub fn show<R: Runtime>(
    app: &AppHandle<R>,
    shell: &Arc<Shell>,
    title: &str,
    body: &str,
    route: Route,
) {
    tracing::info!("notifying: {title} (opens {})", route.hash());
    let (app, shell) = (app.clone(), shell.clone());
    let (title, body) = (title.to_string(), body.to_string());
    tauri::async_runtime::spawn_blocking(move || {
        let wait = WAITING.fetch_add(1, Ordering::SeqCst) < MAX_WAITING;
        let mut n = notify_rust::Notification::new();
        n.appname(APP_NAME).summary(&title).body(&body);
        if wait {
            n.action("default", "Open");
        }
        match n.show() {
            Ok(handle) if wait => {
                #[cfg(all(unix, not(target_os = "macos")))]
                handle.wait_for_action(|action| {
                    if action == "default" {
                        open(&app, &shell, &route);
                    }
                });
                #[cfg(not(all(unix, not(target_os = "macos"))))]
                drop((handle, &app, &shell, &route));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("could not show the notification ({title}): {e}"),
        }
        WAITING.fetch_sub(1, Ordering::SeqCst);
    });
}

fn open<R: Runtime>(app: &AppHandle<R>, shell: &Arc<Shell>, route: &Route) {
    tracing::info!("notification clicked: opening {}", route.hash());
    let (handle, shell, route) = (app.clone(), shell.clone(), route.clone());
    let _ =
        app.run_on_main_thread(move || crate::deep_links::route_window(&handle, &shell, &route));
}
