//! The desktop's own secrets in the OS keychain (`keyring`: Secret Service on Linux, Keychain
//! on macOS, Credential Manager on Windows), service `microclaw-desktop`. Remote gateway tokens
//! are the engine's (`microclaw_engine::fleet::tokens`, service `microclaw-fleet`); this module
//! reuses its availability check. Every call blocks (D-Bus): run it on a blocking thread.

use microclaw_engine::fleet::tokens::keychain_available;

pub const SERVICE: &str = "microclaw-desktop";

/// What the user reads when no keychain answers: why, what is kept instead, how to fix it.
pub fn fallback_message(why: &str) -> String {
    format!(
        "no OS keychain answers ({why}): the desktop keeps no secrets until one does. Start a \
         Secret Service (on Linux: gnome-keyring-daemon, or KeePassXC's Secret Service) and \
         restart MicroClaw Console; remote gateway tokens meanwhile use fleet.token_store = \"file\""
    )
}

/// `Ok(())` when the keychain answers, else the fallback message.
pub fn status() -> Result<(), String> {
    keychain_available().map_err(|why| fallback_message(&why))
}

/// Stores `secret` under `account`.
pub fn put(account: &str, secret: &str) -> Result<(), String> {
    keyring::Entry::new(SERVICE, account)
        .and_then(|e| e.set_password(secret))
        .map_err(|e| format!("cannot store {account} in the keychain: {e}"))
}

/// The secret under `account`; `Ok(None)` when there is none.
pub fn get(account: &str) -> Result<Option<String>, String> {
    match keyring::Entry::new(SERVICE, account).and_then(|e| e.get_password()) {
        Ok(s) => Ok(Some(s)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(format!("cannot read {account} from the keychain: {e}")),
    }
}

/// Forgets `account` (no entry is not an error).
pub fn delete(account: &str) -> Result<(), String> {
    match keyring::Entry::new(SERVICE, account).and_then(|e| e.delete_credential()) {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(format!("cannot delete {account} from the keychain: {e}")),
    }
}

/// `microclaw-desktop --keychain-check`: stores a random value, reads it back, deletes it.
/// Prints what happened; the exit code says whether the keychain works.
pub fn check_command() -> std::process::ExitCode {
    if let Err(msg) = status() {
        println!("keychain: {msg}");
        return std::process::ExitCode::FAILURE;
    }
    let account = format!("self-check-{}", std::process::id());
    let value = format!("check-{:x}", rand_u64());
    let outcome = put(&account, &value).and_then(|()| get(&account));
    let _ = delete(&account);
    match outcome {
        Ok(Some(back)) if back == value => {
            println!(
                "keychain: ok (service {SERVICE}: a secret was stored, read back and deleted)"
            );
            std::process::ExitCode::SUCCESS
        }
        Ok(other) => {
            println!("keychain: the secret read back differs ({other:?})");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            println!("keychain: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fallback_message_says_why_and_what_to_do() {
        let m = super::fallback_message("org.freedesktop.secrets was not provided");
        assert!(
            m.contains("org.freedesktop.secrets was not provided"),
            "{m}"
        );
        assert!(m.contains("gnome-keyring-daemon"), "{m}");
        assert!(m.contains("fleet.token_store"), "{m}");
    }
}
