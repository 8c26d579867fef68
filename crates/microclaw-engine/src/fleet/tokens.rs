//! Remote gateway tokens, write-only: in the OS keychain (`keyring`, Secret Service on Linux)
//! or sealed with ChaCha20-Poly1305 under a key derived from the install secret
//! (`<data_dir>/install.secret`) and kept in the database. `fleet.token_store` chooses:
//! "auto" (the keychain when one answers, else the file store), "keychain", "file". All calls
//! block (D-Bus, file reads): run them on a blocking thread.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use microclaw_core::{Error, Result};
use parking_lot::Mutex;
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;
use std::time::{Duration, Instant};

pub const KEYCHAIN: &str = "keychain";
pub const FILE: &str = "file";
/// The keychain service name; the entry's user is the gateway's `token_ref`.
pub const KEYCHAIN_SERVICE: &str = "microclaw-fleet";

/// Where a new token goes for this config: `keychain` or `file`.
pub fn choose(setting: &str) -> Result<&'static str> {
    match setting {
        "file" => Ok(FILE),
        "keychain" => match keychain_available() {
            Ok(()) => Ok(KEYCHAIN),
            Err(why) => Err(Error::unavailable(format!(
                "fleet.token_store = \"keychain\" but no OS keychain answers ({why}): start a \
                 Secret Service (e.g. gnome-keyring) or set fleet.token_store = \"file\""
            ))),
        },
        _ => Ok(if keychain_available().is_ok() {
            KEYCHAIN
        } else {
            FILE
        }),
    }
}

/// How long one answer of [`keychain_available`] is reused (it costs a D-Bus round trip).
const AVAILABILITY_TTL: Duration = Duration::from_secs(60);
type Availability = std::result::Result<(), String>;
static AVAILABLE: Mutex<Option<(Instant, Availability)>> = Mutex::new(None);

/// Whether the OS keychain answers (a lookup of an entry that need not exist); the answer is
/// reused for a minute.
pub fn keychain_available() -> Availability {
    if let Some((at, answer)) = AVAILABLE.lock().as_ref() {
        if at.elapsed() < AVAILABILITY_TTL {
            return answer.clone();
        }
    }
    let answer = keyring::Entry::new(KEYCHAIN_SERVICE, "availability-check")
        .and_then(|entry| match entry.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        })
        .map_err(|e| e.to_string());
    *AVAILABLE.lock() = Some((Instant::now(), answer.clone()));
    answer
}

/// Stores `token` for `token_ref`; returns the ciphertext to keep for the file store.
pub fn put(store: &str, data_dir: &Path, token_ref: &str, token: &str) -> Result<Option<Vec<u8>>> {
    if store == KEYCHAIN {
        keyring::Entry::new(KEYCHAIN_SERVICE, token_ref)
            .and_then(|e| e.set_password(token))
            .map_err(|e| {
                Error::unavailable(format!("cannot store the token in the keychain: {e}"))
            })?;
        return Ok(None);
    }
    let cipher = cipher(data_dir)?;
    let mut nonce = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: token.as_bytes(),
                aad: token_ref.as_bytes(),
            },
        )
        .map_err(|_| Error::internal("sealing the gateway token failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(Some(out))
}

/// Reads the token back (the prober and the call route only; never returned to a client).
pub fn get(store: &str, data_dir: &Path, token_ref: &str, sealed: Option<&[u8]>) -> Result<String> {
    if store == KEYCHAIN {
        return keyring::Entry::new(KEYCHAIN_SERVICE, token_ref)
            .and_then(|e| e.get_password())
            .map_err(|e| {
                Error::unavailable(format!("cannot read the token from the keychain: {e}"))
            });
    }
    let sealed = sealed.filter(|s| s.len() > 12).ok_or_else(|| {
        Error::internal("the gateway's sealed token is missing: add the token again")
    })?;
    let plain = cipher(data_dir)?
        .decrypt(
            Nonce::from_slice(&sealed[..12]),
            Payload {
                msg: &sealed[12..],
                aad: token_ref.as_bytes(),
            },
        )
        .map_err(|_| {
            Error::internal(
                "the gateway token cannot be opened (install.secret changed?): add the token again",
            )
        })?;
    String::from_utf8(plain).map_err(|_| Error::internal("the gateway token is not UTF-8"))
}

/// Forgets the token (keychain entries are deleted; file ciphertext goes with the row).
pub fn delete(store: &str, token_ref: &str) {
    if store == KEYCHAIN {
        if let Err(e) =
            keyring::Entry::new(KEYCHAIN_SERVICE, token_ref).and_then(|e| e.delete_credential())
        {
            tracing::warn!("could not delete the keychain entry of a removed gateway: {e}");
        }
    }
}

fn cipher(data_dir: &Path) -> Result<ChaCha20Poly1305> {
    let secret = crate::auth::secret::load_or_create(data_dir)?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret)
        .map_err(|_| Error::internal("the install secret cannot key the token cipher"))?;
    mac.update(b"microclaw fleet gateway tokens v1");
    let key = mac.finalize().into_bytes();
    Ok(ChaCha20Poly1305::new(Key::from_slice(&key)))
}
