//! Keeping credentials in URLs out of logs, status and errors: a configured endpoint
//! such as `https://user:secret@collector:4318` is shown as `https://***@collector:4318`.

/// The `user:password` part of `url`'s authority, if any.
pub fn userinfo(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    authority.rfind('@').map(|at| &authority[..at])
}

/// `url` with its userinfo replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match userinfo(url) {
        Some(info) if !info.is_empty() => url.replacen(&format!("{info}@"), "***@", 1),
        _ => url.to_string(),
    }
}

/// `text` with every occurrence of `url`'s userinfo replaced by `***` (for messages that may
/// quote the URL, such as transport errors).
pub fn scrub(text: &str, url: &str) -> String {
    match userinfo(url) {
        Some(info) if !info.is_empty() => text.replace(info, "***"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_replaced_and_the_rest_kept() {
        assert_eq!(
            redact_url("https://u:p%40ss@collector:4318/v1/metrics"),
            "https://***@collector:4318/v1/metrics"
        );
        assert_eq!(redact_url("http://token@h/x?a=b@c"), "http://***@h/x?a=b@c");
        assert_eq!(
            redact_url("http://h:4318/v1/metrics"),
            "http://h:4318/v1/metrics"
        );
        assert_eq!(
            redact_url("http://h/p@x"),
            "http://h/p@x",
            "an @ in the path is not userinfo"
        );
        assert_eq!(
            scrub("POST http://u:pw@h failed: u:pw refused", "http://u:pw@h"),
            "POST http://***@h failed: *** refused"
        );
    }
}
