//! Secrets out of log lines before they are kept: API keys (`mk_…`), launch tokens (`mlt_…`),
//! provider keys (`sk-…`), `Bearer`/`Basic` credentials, the values of password/token/secret
//! keys (`password=…`, `"token": "…"`, `Authorization: …`, `mc_session=…`) and URL userinfo
//! (core's [`microclaw_core::redact`], applied to every URL in the text).

/// The redacted stand-in for a secret.
pub const MASK: &str = "***";

/// `text` with every secret it recognises replaced by `***`.
pub fn redact_secrets(text: &str) -> String {
    // Each pass runs only when its trigger appears (most lines have none).
    let mut s = if text.contains("://") {
        redact_urls(text)
    } else {
        text.to_string()
    };
    for (prefix, min_len) in [("mk_", 4), ("mlt_", 4), ("sk-", 12)] {
        if s.contains(prefix) {
            s = redact_prefixed(&s, prefix, min_len);
        }
    }
    s = redact_auth_schemes(&s);
    redact_key_values(&s)
}

/// Whether a field or key name holds a secret (`password`, `api_key`, `setup_token`, …).
pub fn is_secret_name(name: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "api-key",
        "authorization",
        "cookie",
        "mc_session",
        "credential",
        "credentials",
    ];
    let name = name.as_bytes();
    SUFFIXES.iter().any(|s| {
        name.len() >= s.len() && name[name.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes())
    })
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Characters of a token-like secret (base64, JWT, hex, url-safe).
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'~' | b'+' | b'/' | b'=')
}

/// `<prefix><at least min_len token chars>` at a word start → `<prefix>***`.
fn redact_prefixed(s: &str, prefix: &str, min_len: usize) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut from = 0;
    while let Some(pos) = s[from..].find(prefix).map(|p| p + from) {
        let start = pos + prefix.len();
        let mut end = start;
        while end < b.len() && (is_word(b[end]) || b[end] == b'-') {
            end += 1;
        }
        let at_word_start = pos == 0 || !is_word(b[pos - 1]);
        if at_word_start && end - start >= min_len {
            out.push_str(&s[last..start]);
            out.push_str(MASK);
            last = end;
        }
        from = end.max(start);
    }
    out.push_str(&s[last..]);
    out
}

/// `Bearer <token>` / `Basic <token>` (any case) → `Bearer ***`.
fn redact_auth_schemes(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let lower = lower.as_bytes();
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        let scheme_len = ["bearer ", "basic "]
            .iter()
            .find(|p| lower[i..].starts_with(p.as_bytes()))
            .map(|p| p.len());
        match scheme_len {
            Some(n) if i == 0 || !is_word(b[i - 1]) => {
                let start = i + n;
                let mut end = start;
                while end < b.len() && is_token_char(b[end]) {
                    end += 1;
                }
                if end > start {
                    out.push_str(&s[last..start]);
                    out.push_str(MASK);
                    last = end;
                }
                i = end.max(start);
            }
            _ => i += 1,
        }
    }
    out.push_str(&s[last..]);
    out
}

/// `<secret name><quote?> (=|:) <value>` → the value replaced; quoted values up to their quote.
fn redact_key_values(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        if !(is_word(b[i]) || b[i] == b'-') || (i > 0 && (is_word(b[i - 1]) || b[i - 1] == b'-')) {
            i += 1;
            continue;
        }
        let name_start = i;
        while i < b.len() && (is_word(b[i]) || b[i] == b'-') {
            i += 1;
        }
        if !is_secret_name(&s[name_start..i]) {
            continue;
        }
        let mut j = i;
        if j < b.len() && matches!(b[j], b'"' | b'\'') {
            j += 1;
        }
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        if j >= b.len() || !matches!(b[j], b'=' | b':') {
            continue;
        }
        j += 1;
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        let (start, end) = match b.get(j) {
            Some(&q @ (b'"' | b'\'')) => {
                let mut k = j + 1;
                while k < b.len() && !(b[k] == q && b[k - 1] != b'\\') {
                    k += 1;
                }
                (j + 1, k)
            }
            _ => {
                let mut k = j;
                while k < b.len()
                    && !b[k].is_ascii_whitespace()
                    && !matches!(b[k], b',' | b';' | b'&' | b')' | b'}' | b']' | b'"' | b'\'')
                {
                    k += 1;
                }
                (j, k)
            }
        };
        if end > start && &s[start..end] != MASK {
            out.push_str(&s[last..start]);
            out.push_str(MASK);
            last = end;
        }
        i = end.max(j);
    }
    out.push_str(&s[last..]);
    out
}

/// The userinfo of every `scheme://user:pass@host` in the text → `scheme://***@host`.
fn redact_urls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut from = 0;
    while let Some(pos) = s[from..].find("://").map(|p| p + from) {
        let rest = &s[pos + 3..];
        let auth_len = rest
            .find(|c: char| c.is_whitespace() || "/?#\"'<>,;)]}".contains(c))
            .unwrap_or(rest.len());
        let authority = &rest[..auth_len];
        if let Some(info) = microclaw_core::redact::userinfo(authority).filter(|i| !i.is_empty()) {
            out.push_str(&s[last..pos + 3]);
            out.push_str(MASK);
            last = pos + 3 + info.len();
        }
        from = pos + 3 + auth_len;
    }
    out.push_str(&s[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tokens_and_provider_keys_are_masked_at_word_starts_only() {
        let key = "mk_0123456789abcdef0123456789abcdef";
        assert_eq!(
            redact_secrets(&format!("key {key} used")),
            "key mk_*** used"
        );
        assert_eq!(redact_secrets("launch mlt_abcdef0123"), "launch mlt_***");
        assert_eq!(
            redact_secrets("provider sk-proj-ABCDEFGHIJKLMNOP x"),
            "provider sk-*** x"
        );
        assert_eq!(redact_secrets("task-list stays"), "task-list stays");
        assert_eq!(redact_secrets("bookmk_abcdef stays"), "bookmk_abcdef stays");
        assert_eq!(redact_secrets("mk_ab short"), "mk_ab short");
    }

    #[test]
    fn auth_schemes_and_secret_keys_lose_their_values() {
        assert_eq!(
            redact_secrets("Authorization: Bearer abc.def-ghi rest"),
            "Authorization: *** *** rest"
        );
        assert_eq!(redact_secrets("got bearer xyz"), "got bearer ***");
        assert_eq!(
            redact_secrets(r#"{"password":"hunter 2","user":"op"}"#),
            r#"{"password":"***","user":"op"}"#
        );
        assert_eq!(
            redact_secrets("login password=hunter2 ok; setup_token: 99ff&x=1"),
            "login password=*** ok; setup_token: ***&x=1"
        );
        assert_eq!(
            redact_secrets("cookie mc_session=abcd; mc_csrf=1"),
            "cookie mc_session=***; mc_csrf=1"
        );
        assert_eq!(
            redact_secrets("max_tokens=100 tokens: 5"),
            "max_tokens=100 tokens: 5"
        );
        assert_eq!(
            redact_secrets("wrong password for op"),
            "wrong password for op"
        );
    }

    #[test]
    fn url_userinfo_is_masked_everywhere_in_the_text() {
        assert_eq!(
            redact_secrets("POST http://u:p%40ss@h:4318/v1 then https://a@b/c?d=e@f"),
            "POST http://***@h:4318/v1 then https://***@b/c?d=e@f"
        );
        assert_eq!(redact_secrets("http://h/p@x"), "http://h/p@x");
        assert_eq!(
            redact_secrets("plain ünïcode ✓ text"),
            "plain ünïcode ✓ text"
        );
    }

    #[test]
    fn arbitrary_text_never_panics_and_masked_values_stay_masked() {
        // Pieces that start, end or break every pattern, mixed with multi-byte characters.
        let pieces = [
            "mk_", "mlt_", "sk-", "Bearer ", "basic ", "password", "token", "=", ":", "\"", "'",
            "://", "@", "/", " ", "é", "✓", "ab12", "x", "\\", "_", "-", ";", "ü:",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            let once = redact_secrets(&s);
            assert!(!once.contains("password=ab12"), "{s:?} -> {once:?}");
        }
    }
}
