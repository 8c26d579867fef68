//! The web UI, embedded from `ui/dist` at build time. When the UI was not built, a small page
//! says how to build it (the binary still builds and the API still works).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::RustEmbed)]
#[folder = "../../ui/dist"]
#[allow_missing = true]
struct UiDist;

const NOT_BUILT: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>MicroClaw Console</title></head>\
<body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\"><h1>MicroClaw Console</h1>\
<p>The gateway is running, but this binary was built without the web UI.</p>\
<p>Build it with <code>npm --prefix ui ci &amp;&amp; npm --prefix ui run build</code>, then rebuild \
(<code>cargo build -p microclaw-cli</code>). The HTTP API under <code>/api</code> and the WebSocket bridge at \
<code>/</code> work without it.</p></body></html>";

/// Content-Security-Policy for the UI pages: same-origin only.
const CSP: &str = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; \
style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'";

pub fn index() -> Response {
    asset("index.html")
        .unwrap_or_else(|| html_response(NOT_BUILT.as_bytes().to_vec(), "text/html; charset=utf-8"))
}

/// A file from `ui/dist` by its path (no leading slash), if present.
pub fn asset(path: &str) -> Option<Response> {
    let file = UiDist::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut resp = html_response(file.data.into_owned(), mime.as_ref());
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Some(resp)
}

fn html_response(body: Vec<u8>, content_type: &str) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    resp
}
