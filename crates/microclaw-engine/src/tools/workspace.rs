//! The per-session workspace of the acting tools: `<data_dir>/workspaces/<name>`, where the
//! name is derived from the session key so that no key can point outside (letters, digits,
//! `-`, `_` kept, everything else `_`, at most 48 of them, then 8 hex digits of the key's
//! SHA-256 so keys that sanitize alike stay apart), and path containment for `write_file`.

use sha2::{Digest, Sha256};
use std::path::{Component, Path, PathBuf};

/// The workspace directory name of a session key (never empty, never `.`/`..`, no separator).
pub fn dir_name(session_key: &str) -> String {
    let mut safe: String = session_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect();
    if safe.is_empty() {
        safe.push('_');
    }
    let hash = Sha256::digest(session_key.as_bytes());
    format!("{safe}-{}", hex::encode(&hash[..4]))
}

/// The session's workspace path (not created).
pub fn path_for(data_dir: &Path, session_key: &str) -> PathBuf {
    data_dir.join("workspaces").join(dir_name(session_key))
}

/// Creates the workspace (and its parents) and returns its canonical path.
pub fn ensure(data_dir: &Path, session_key: &str) -> Result<PathBuf, String> {
    let dir = path_for(data_dir, session_key);
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create the workspace {}: {e}", dir.display()))?;
    dir.canonicalize()
        .map_err(|e| format!("cannot resolve the workspace {}: {e}", dir.display()))
}

/// Resolves `rel` inside the canonical workspace `ws`, creating missing parent directories.
/// Refused with a clear message: an absolute path, a `..` component, an empty path, and any
/// existing component that is a symlink leading out of the workspace. The last component, if
/// it exists, must not be a symlink at all (the write opens it with `O_NOFOLLOW` too).
pub fn resolve_inside(ws: &Path, rel: &str) -> Result<PathBuf, String> {
    let refuse = |why: &str| {
        Err(format!(
            "path '{rel}' is refused: {why}; expected a relative path inside the session workspace"
        ))
    };
    if rel.trim().is_empty() {
        return refuse("it is empty");
    }
    let p = Path::new(rel);
    if p.is_absolute() || rel.starts_with('/') || rel.starts_with('\\') {
        return refuse("it is absolute");
    }
    let mut parts = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_os_string()),
            Component::CurDir => {}
            Component::ParentDir => return refuse("it contains '..'"),
            Component::RootDir | Component::Prefix(_) => return refuse("it is absolute"),
        }
    }
    let Some(last) = parts.pop() else {
        return refuse("it names no file");
    };
    let mut cur = ws.to_path_buf();
    for part in parts {
        cur.push(part);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = cur
                    .canonicalize()
                    .map_err(|e| format!("path '{rel}': cannot resolve a symlink: {e}"))?;
                if !target.starts_with(ws) {
                    return refuse("a symlink in it leads out of the workspace");
                }
                if !target.is_dir() {
                    return refuse("a part of it is not a directory");
                }
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return refuse("a part of it is not a directory"),
            Err(_) => std::fs::create_dir(&cur)
                .map_err(|e| format!("path '{rel}': cannot create {}: {e}", cur.display()))?,
        }
    }
    cur.push(last);
    if let Ok(m) = std::fs::symlink_metadata(&cur) {
        if m.file_type().is_symlink() {
            return refuse("it is a symlink");
        }
        if m.is_dir() {
            return refuse("it is a directory");
        }
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_and_distinct() {
        let a = dir_name("../../etc");
        assert!(!a.contains('/') && !a.contains(".."), "{a}");
        assert_ne!(dir_name("a/b"), dir_name("a_b"));
        assert!(dir_name("").starts_with("_-"));
        assert!(dir_name(&"x".repeat(500)).len() <= 48 + 9);
    }

    #[test]
    fn escapes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().canonicalize().unwrap();
        for bad in ["../x", "a/../../x", "/etc/passwd", "", "."] {
            let e = resolve_inside(&ws, bad).unwrap_err();
            assert!(e.contains("is refused"), "{bad}: {e}");
        }
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), ws.join("out")).unwrap();
        let e = resolve_inside(&ws, "out/x.txt").unwrap_err();
        assert!(e.contains("leads out of the workspace"), "{e}");
        std::os::unix::fs::symlink(outside.path().join("f"), ws.join("link")).unwrap();
        assert!(resolve_inside(&ws, "link").unwrap_err().contains("symlink"));
        let ok = resolve_inside(&ws, "sub/dir/file.txt").unwrap();
        assert!(ok.starts_with(&ws) && ws.join("sub/dir").is_dir());
    }
}
