//! Session keys are free strings; params arrive trimmed or blank.

use crate::error::Error;

/// Longest accepted session key, in bytes.
pub const MAX_SESSION_KEY_LEN: usize = 256;

/// Trims a session key; a missing or blank key means `main`. Keys longer than
/// [`MAX_SESSION_KEY_LEN`] or containing control characters are rejected.
pub fn normalize_session_key(raw: Option<&str>) -> Result<String, Error> {
    let t = raw.map(str::trim).unwrap_or("");
    if t.is_empty() {
        return Ok("main".to_string());
    }
    if t.len() > MAX_SESSION_KEY_LEN {
        return Err(Error::invalid(format!(
            "sessionKey is {} bytes long: expected at most {MAX_SESSION_KEY_LEN}",
            t.len()
        )));
    }
    if t.chars().any(char::is_control) {
        return Err(Error::invalid(
            "sessionKey contains control characters: expected printable text",
        ));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_means_main_and_keys_are_trimmed() {
        assert_eq!(normalize_session_key(None).unwrap(), "main");
        assert_eq!(normalize_session_key(Some("   ")).unwrap(), "main");
        assert_eq!(normalize_session_key(Some(" ops ")).unwrap(), "ops");
        assert!(normalize_session_key(Some(&"x".repeat(300))).is_err());
        assert!(normalize_session_key(Some("a\nb")).is_err());
    }
}
