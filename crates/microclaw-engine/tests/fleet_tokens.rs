//! Fleet token storage: the file store seals under the install secret (bound to its entry),
//! and the keychain path runs against a real Secret Service (gnome-keyring in a private
//! `dbus-run-session`) when those binaries exist.
#![allow(clippy::unwrap_used)]

use microclaw_engine::fleet::tokens;
use std::process::Command;

const TOKEN: &str = "mk_fleet_secret_0123456789abcdef";

#[test]
fn the_file_store_seals_under_the_install_secret_and_binds_each_entry() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(tokens::choose("file").unwrap(), tokens::FILE);
    let sealed = tokens::put(tokens::FILE, dir.path(), "ref-1", TOKEN)
        .unwrap()
        .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains(TOKEN));
    let back = tokens::get(tokens::FILE, dir.path(), "ref-1", Some(&sealed)).unwrap();
    assert_eq!(back, TOKEN);
    // Another entry's ref, a flipped byte, another install: refused with a clear message.
    let e = tokens::get(tokens::FILE, dir.path(), "ref-2", Some(&sealed)).unwrap_err();
    assert!(e.message.contains("add the token again"), "{}", e.message);
    let mut bad = sealed.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert!(tokens::get(tokens::FILE, dir.path(), "ref-1", Some(&bad)).is_err());
    let other = tempfile::tempdir().unwrap();
    assert!(tokens::get(tokens::FILE, other.path(), "ref-1", Some(&sealed)).is_err());
    assert!(tokens::get(tokens::FILE, dir.path(), "ref-1", None).is_err());
}

fn have(bin: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Re-runs `keychain_inner` in its own D-Bus session with an unlocked gnome-keyring.
#[test]
fn the_keychain_store_round_trips_through_a_real_secret_service() {
    if std::env::var("FLEET_KEYCHAIN_INNER").is_ok() {
        return keychain_inner();
    }
    if !have("dbus-run-session") || !have("gnome-keyring-daemon") {
        eprintln!("SKIPPED: dbus-run-session / gnome-keyring-daemon not installed (scripts/setup-linux.sh installs them)");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
         exec '{}' --exact the_keychain_store_round_trips_through_a_real_secret_service --nocapture",
        exe.display()
    );
    let out = Command::new("timeout")
        .args(["60", "dbus-run-session", "--", "sh", "-c", &script])
        .env("FLEET_KEYCHAIN_INNER", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "keychain run failed:\n{text}");
    assert!(text.contains("keychain round trip ok"), "{text}");
}

fn keychain_inner() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(tokens::choose("keychain").unwrap(), tokens::KEYCHAIN);
    assert_eq!(
        tokens::choose("auto").unwrap(),
        tokens::KEYCHAIN,
        "auto prefers the keychain"
    );
    let reference = format!("test-{}", std::process::id());
    let sealed = tokens::put(tokens::KEYCHAIN, dir.path(), &reference, TOKEN).unwrap();
    assert!(sealed.is_none(), "nothing to keep in the database");
    assert_eq!(
        tokens::get(tokens::KEYCHAIN, dir.path(), &reference, None).unwrap(),
        TOKEN
    );
    tokens::delete(tokens::KEYCHAIN, &reference);
    assert!(tokens::get(tokens::KEYCHAIN, dir.path(), &reference, None).is_err());
    println!("keychain round trip ok");
}
