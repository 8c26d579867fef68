//! Deep links (`microclaw://session/<key>`, `microclaw://approval/<id>`) reach the running
//! instance: a launch with a link as its argument (the desktop entry's `%u`, `xdg-open`) hands
//! it over through single-instance to the deep-link plugin, whose `deep-link://new-url` event
//! lands here; a first launch with a link opens the window on it.

use crate::routes::{parse_deep_link, Route};
use crate::shell::Shell;
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_deep_link::DeepLinkExt;

/// Listens for links handed over by later launches.
pub fn install<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            open_link(&handle, url.as_str());
        }
    });
}

/// The link this process was started with (first launch), if any.
pub fn initial<R: Runtime>(app: &AppHandle<R>) -> Option<Route> {
    let urls = app.deep_link().get_current().ok().flatten()?;
    let url = urls.into_iter().next()?;
    match parse_deep_link(url.as_str()) {
        Ok(route) => Some(route),
        Err(e) => {
            tracing::warn!("ignored the deep link this launch was given: {e}");
            None
        }
    }
}

/// Parses `link` and shows the window on its page (a bad link is logged, saying what is expected).
pub fn open_link<R: Runtime>(app: &AppHandle<R>, link: &str) {
    tracing::info!("deep link received: {link}");
    let route = match parse_deep_link(link) {
        Ok(r) => r,
        Err(e) => return tracing::warn!("ignored a deep link: {e}"),
    };
    let Some(shell) = app.try_state::<Arc<Shell>>() else {
        return tracing::warn!("a deep link arrived before the app was ready: {link}");
    };
    let shell = shell.inner().clone();
    let handle = app.clone();
    let _ = app.run_on_main_thread(move || route_window(&handle, &shell, &route));
}

/// Shows the main window on `route` (deep links and notification clicks).
pub fn route_window<R: Runtime>(app: &AppHandle<R>, shell: &Arc<Shell>, route: &Route) {
    if shell.is_quitting() {
        return;
    }
    let url = match shell.host.url().parse::<tauri::Url>() {
        Ok(u) => u,
        Err(e) => return tracing::warn!("bad gateway URL {}: {e}", shell.host.url()),
    };
    if let Err(e) = crate::window::open_at(app, &url, shell.host.engine().launch_token(), route) {
        tracing::warn!("could not open the window on {}: {e}", route.hash());
    }
}
