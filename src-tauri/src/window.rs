//! The main window: the UI loaded from the engine's own URL (same origin as the API and the
//! bridge, so no CORS), with the per-launch token injected before the page's scripts run.

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

pub const MAIN: &str = "main";
const TITLE: &str = "MicroClaw Console";

/// The init script that hands the page its launch token, only on the engine's own origin
/// (`origin` like `http://127.0.0.1:10961`), so a page from anywhere else never sees it.
pub fn launch_token_script(origin: &str, token: &str) -> String {
    // JSON string literals are valid JavaScript string literals.
    let origin = serde_json::Value::from(origin).to_string();
    let token = serde_json::Value::from(token).to_string();
    format!(
        "(function () {{\n  if (window.location.origin !== {origin}) return;\n  \
         Object.defineProperty(window, '__MICROCLAW_LAUNCH_TOKEN__', \
         {{ value: {token}, writable: false, enumerable: false, configurable: false }});\n}})();"
    )
}

/// `http://127.0.0.1:PORT` for `http://127.0.0.1:PORT/`.
pub fn origin_of(url: &tauri::Url) -> String {
    url.origin().ascii_serialization()
}

/// Opens the main window on `url` (the gateway's UI), or focuses it when it exists.
pub fn open_main<R: Runtime>(
    app: &AppHandle<R>,
    url: &tauri::Url,
    token: &str,
) -> tauri::Result<WebviewWindow<R>> {
    if let Some(w) = app.get_webview_window(MAIN) {
        focus(&w);
        return Ok(w);
    }
    let origin = origin_of(url);
    let allowed = origin.clone();
    WebviewWindowBuilder::new(app, MAIN, WebviewUrl::External(url.clone()))
        .title(TITLE)
        .inner_size(1280.0, 820.0)
        .min_inner_size(720.0, 480.0)
        .initialization_script(launch_token_script(&origin, token))
        // The window only ever shows the console: navigation elsewhere is refused.
        .on_navigation(move |to| {
            let ok = origin_of(to) == allowed;
            if !ok {
                tracing::warn!("refused navigation of the console window to {to}");
            }
            ok
        })
        .build()
}

/// Brings the main window to the front (a second launch, the tray's Open).
pub fn focus<R: Runtime>(w: &WebviewWindow<R>) {
    let _ = w.unminimize();
    let _ = w.show();
    let _ = w.set_focus();
    tracing::info!("window shown");
}

/// Shows the main window on `route` (a deep link, a notification click): an open window
/// changes its hash (the UI's router follows, no reload); a new one starts there.
pub fn open_at<R: Runtime>(
    app: &AppHandle<R>,
    url: &tauri::Url,
    token: &str,
    route: &crate::routes::Route,
) -> tauri::Result<()> {
    if let Some(w) = app.get_webview_window(MAIN) {
        focus(&w);
        w.eval(route.script())?;
    } else {
        let mut at = url.clone();
        at.set_fragment(Some(route.hash().trim_start_matches('#')));
        open_main(app, &at, token)?;
    }
    tracing::info!("window routed to {}", route.hash());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_script_is_guarded_by_origin_and_escapes_its_values() {
        let s = launch_token_script("http://127.0.0.1:10961", "mlt_ab\"c</script>");
        assert!(
            s.contains(r#"window.location.origin !== "http://127.0.0.1:10961""#),
            "{s}"
        );
        assert!(
            s.contains(r#"value: "mlt_ab\"c</script>""#),
            "quotes are escaped: {s}"
        );
        assert!(s.contains("__MICROCLAW_LAUNCH_TOKEN__"));
    }

    #[test]
    fn origins_drop_the_path() {
        let u: tauri::Url = "http://127.0.0.1:4321/sessions?x=1".parse().unwrap();
        assert_eq!(origin_of(&u), "http://127.0.0.1:4321");
    }
}
