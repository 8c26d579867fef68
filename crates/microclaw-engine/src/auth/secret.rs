//! The per-installation secret that keys the API-key hash. It lives in its own file
//! (`<data_dir>/install.secret`, mode 0600), not in the database, so a copy of the database
//! alone is not enough to test guesses offline.

use microclaw_core::Error;
use std::path::Path;

pub const SECRET_FILE_NAME: &str = "install.secret";

/// Reads the secret, creating it on first use.
pub fn load_or_create(data_dir: &Path) -> Result<Vec<u8>, Error> {
    let path = data_dir.join(SECRET_FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => hex::decode(text.trim()).map_err(|_| {
            Error::internal(format!(
                "{} is corrupt: expected 64 hex characters (delete it to create a new one; existing API keys will stop working)",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = super::random_hex(32);
            write_private(&path, &secret)
                .map_err(|e| Error::internal(format!("cannot write {}: {e}", path.display())))?;
            hex::decode(&secret).map_err(|_| Error::internal("secret encoding failed"))
        }
        Err(e) => Err(Error::internal(format!("cannot read {}: {e}", path.display()))),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}
