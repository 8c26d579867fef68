//! The login cookies: `mc_session` (HttpOnly) and `mc_csrf` (readable by the UI).

use axum::http::{header, HeaderMap};

pub const SESSION_COOKIE: &str = "mc_session";
pub const CSRF_COOKIE: &str = "mc_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` in the request, if any.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

fn http_date(epoch_ms: i64) -> String {
    httpdate::fmt_http_date(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(epoch_ms.max(0) as u64),
    )
}

/// `Set-Cookie` values for a new login session.
pub fn login_cookies(session_id: &str, csrf: &str, expires_at: i64, secure: bool) -> [String; 2] {
    let exp = http_date(expires_at);
    let sec = if secure { "; Secure" } else { "" };
    [
        format!(
            "{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Strict; Expires={exp}{sec}"
        ),
        format!("{CSRF_COOKIE}={csrf}; Path=/; SameSite=Strict; Expires={exp}{sec}"),
    ]
}

/// `Set-Cookie` values that clear both cookies.
pub fn clear_cookies() -> [String; 2] {
    [
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        format!("{CSRF_COOKIE}=; Path=/; SameSite=Strict; Max-Age=0"),
    ]
}
