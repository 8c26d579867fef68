//! `write_file`: writes one file inside the session's workspace (parents created); a path that
//! leaves the workspace is refused before anything is written.

use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Most bytes one call may write.
pub const MAX_WRITE_BYTES: usize = 1 << 20;

/// `(path, content)` of a call, or a message for the model.
pub fn parse(args: &Value) -> Result<(String, String), String> {
    let path = match args.get("path") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err("write_file needs 'path' (a string): expected e.g. {\"path\": \"notes/a.txt\", \"content\": \"…\"}".into()),
    };
    let content = match args.get("content") {
        Some(Value::String(s)) => s.clone(),
        None => String::new(),
        Some(other) => {
            return Err(format!(
                "write_file: 'content' must be a string, got {}",
                crate::tools::json_kind(other)
            ))
        }
    };
    if content.len() > MAX_WRITE_BYTES {
        return Err(format!(
            "write_file: content is {} bytes: expected at most {MAX_WRITE_BYTES}",
            content.len()
        ));
    }
    Ok((path, content))
}

/// The approval's command text for a write.
pub fn command_text(path: &str, content: &str) -> String {
    format!("write_file {path} ({} bytes)", content.len())
}

/// Writes `content` to `rel` inside the canonical workspace `ws` (blocking: call it off the
/// async workers).
pub fn write(ws: &Path, rel: &str, content: &str) -> Result<Value, String> {
    let target = super::workspace::resolve_inside(ws, rel)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&target)
        .map_err(|e| format!("write_file: cannot open '{rel}': {e}"))?;
    f.write_all(content.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("write_file: cannot write '{rel}': {e}"))?;
    Ok(json!({"path": rel, "bytes": content.len()}))
}
