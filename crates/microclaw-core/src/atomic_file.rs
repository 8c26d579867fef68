//! Writing a file so that a crash leaves either the old file or the new one, never half of one.

use crate::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to a temporary file in `path`'s directory, syncs it, then renames it into
/// place. With `private`, the file is created readable by its owner only (mode 0600 on unix),
/// before any byte is written.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), Error> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("path {} has no file name", path.display())))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let io_err =
        |what: &str, e: std::io::Error| Error::internal(format!("{what} {}: {e}", tmp.display()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        let mut f = options.open(&tmp).map_err(|e| io_err("cannot create", e))?;
        f.write_all(bytes).map_err(|e| io_err("cannot write", e))?;
        f.sync_all().map_err(|e| io_err("cannot sync", e))?;
        std::fs::rename(&tmp, path).map_err(|e| {
            Error::internal(format!("cannot move the file into {}: {e}", path.display()))
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_whole_and_leaves_no_temporary_behind() {
        let dir = std::env::temp_dir().join(format!("mc-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.toml");
        write_atomic(&path, b"old", false).unwrap();
        write_atomic(&path, b"new", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "a private file is owner-only");
        }
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "only the target remains");
        assert!(write_atomic(&dir.join("missing-dir/x"), b"x", false).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
