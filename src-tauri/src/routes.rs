//! Where the window goes: deep links (`microclaw://session/<key>`, `microclaw://approval/<id>`)
//! and notification clicks become the UI's hash routes (`#/sessions?key=…`, `#/approvals?id=…`).

/// The URL scheme the app registers (desktop entry `MimeType=x-scheme-handler/microclaw`).
pub const SCHEME: &str = "microclaw";

/// A page of the UI, as the hash router reads it (`ui/src/lib/router.ts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Session(String),
    Approval(String),
    Approvals,
    Alerts,
    Incident(Option<String>),
    Cost,
    Scheduler,
    Auth,
    Fleet,
}

impl Route {
    /// The hash the window's location gets, query values percent-encoded.
    pub fn hash(&self) -> String {
        match self {
            Route::Session(key) => format!("#/sessions?key={}", encode(key)),
            Route::Approval(id) => format!("#/approvals?id={}", encode(id)),
            Route::Approvals => "#/approvals".into(),
            Route::Alerts => "#/alerts".into(),
            Route::Incident(Some(id)) => format!("#/incidents?id={}", encode(id)),
            Route::Incident(None) => "#/incidents".into(),
            Route::Cost => "#/cost".into(),
            Route::Scheduler => "#/scheduler".into(),
            Route::Auth => "#/auth".into(),
            Route::Fleet => "#/fleet".into(),
        }
    }

    /// JavaScript that moves the window to this route (a JSON string literal is a JS one).
    pub fn script(&self) -> String {
        format!(
            "window.location.hash = {};",
            serde_json::Value::from(self.hash())
        )
    }
}

/// Parses a deep link. `microclaw://session/<key>` and `microclaw://approval/<id>` (the key or
/// id percent-decoded, one path segment); anything else is an error saying what is expected.
pub fn parse_deep_link(link: &str) -> Result<Route, String> {
    let expected = "expected microclaw://session/<key> or microclaw://approval/<id>";
    let rest = link
        .trim()
        .strip_prefix(SCHEME)
        .and_then(|r| r.strip_prefix("://"))
        .ok_or_else(|| format!("not a {SCHEME}:// link: {link:?} ({expected})"))?;
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (kind, value) = rest
        .split_once('/')
        .ok_or_else(|| format!("deep link {link:?} has no value ({expected})"))?;
    let value = value.trim_end_matches('/');
    if value.is_empty() || value.contains('/') {
        return Err(format!(
            "deep link {link:?} needs exactly one value after {kind}/ ({expected})"
        ));
    }
    let value = decode(value).ok_or_else(|| {
        format!("deep link {link:?} has a bad percent-escape or is not UTF-8 ({expected})")
    })?;
    if value.chars().count() > 256 || value.chars().any(char::is_control) {
        return Err(format!(
            "deep link {link:?}: the value must be at most 256 printable characters"
        ));
    }
    match kind {
        "session" | "sessions" => Ok(Route::Session(value)),
        "approval" | "approvals" => Ok(Route::Approval(value)),
        other => Err(format!(
            "deep link {link:?}: unknown target {other:?} ({expected})"
        )),
    }
}

/// The deep links among command-line arguments (a second launch's argv, the first launch's).
pub fn links_in_args<S: AsRef<str>>(args: &[S]) -> Vec<&str> {
    args.iter()
        .map(AsRef::as_ref)
        .filter(|a| a.starts_with("microclaw:"))
        .collect()
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_and_approval_links_become_hash_routes() {
        let r = parse_deep_link("microclaw://session/main").unwrap();
        assert_eq!(r.hash(), "#/sessions?key=main");
        let r = parse_deep_link("microclaw://approval/apr_12").unwrap();
        assert_eq!(r.hash(), "#/approvals?id=apr_12");
        let r = parse_deep_link("microclaw://session/ops%20room/").unwrap();
        assert_eq!(r, Route::Session("ops room".into()));
        assert_eq!(r.hash(), "#/sessions?key=ops%20room");
    }

    #[test]
    fn bad_links_say_what_is_expected() {
        for bad in [
            "https://session/main",
            "microclaw://session",
            "microclaw://session/",
            "microclaw://session/a/b",
            "microclaw://cron/1",
            "microclaw://session/%zz",
        ] {
            let err = parse_deep_link(bad).unwrap_err();
            assert!(
                err.contains("microclaw://session/<key>") || err.contains("256"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_script_quotes_the_hash() {
        let s = Route::Session("x\"';alert(1)".into()).script();
        assert_eq!(
            s,
            "window.location.hash = \"#/sessions?key=x%22%27%3Balert%281%29\";"
        );
        assert_eq!(Route::Incident(None).hash(), "#/incidents");
        assert_eq!(
            Route::Incident(Some("inc_1".into())).hash(),
            "#/incidents?id=inc_1"
        );
    }

    #[test]
    fn links_are_picked_from_arguments() {
        let args = ["/usr/bin/microclaw-desktop", "microclaw://session/a", "--x"];
        assert_eq!(links_in_args(&args), vec!["microclaw://session/a"]);
    }
}
