//! The desktop CLI key against a real Secret Service: gnome-keyring in a private
//! `dbus-run-session` (this test re-runs itself inside one), and the fallback against a bus
//! where no Secret Service runs (a bus config without service directories).

use super::*;
use std::process::Command;

const INNER: &str = "MICROCLAW_CLI_KEY_INNER";

fn have(bin: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn engine(dir: &Path) -> Arc<Engine> {
    let config = microclaw_core::config::load(None, false, std::iter::empty()).unwrap();
    Engine::open(microclaw_engine::EngineOptions {
        data_dir: dir.to_path_buf(),
        config,
        clock: None,
    })
    .unwrap()
}

fn rerun(test: &str, script_prefix: &str, bus_config: Option<&Path>) -> String {
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "{script_prefix} exec '{}' --exact cli_key::tests::{test} --nocapture",
        exe.display()
    );
    let mut cmd = Command::new("timeout");
    cmd.arg("60").arg("dbus-run-session");
    if let Some(conf) = bus_config {
        cmd.arg(format!("--config-file={}", conf.display()));
    }
    // A keyring of its own (gnome-keyring keeps it under $XDG_DATA_HOME/keyrings).
    let keyrings = tempfile::tempdir().unwrap();
    let out = cmd
        .args(["--", "sh", "-c", &script])
        .env(INNER, "1")
        .env("XDG_DATA_HOME", keyrings.path())
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "inner run failed:\n{text}");
    text
}

#[test]
fn the_key_is_minted_once_read_back_and_replaced_when_revoked() {
    if std::env::var(INNER).is_err() {
        if !have("dbus-run-session") || !have("gnome-keyring-daemon") {
            panic!("dbus-run-session / gnome-keyring-daemon missing: run scripts/setup-linux.sh");
        }
        let text = rerun(
            "the_key_is_minted_once_read_back_and_replaced_when_revoked",
            "echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null &&",
            None,
        );
        assert!(text.contains("cli key round trip ok"), "{text}");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    rt.block_on(async {
        let Outcome::Minted { prefix } = ensure(&engine, dir.path()).await.unwrap() else {
            panic!("the first start mints a key");
        };
        let stored = keychain::get(&account(dir.path())).unwrap().unwrap();
        assert!(
            stored.starts_with(&prefix) && stored.starts_with("mk_"),
            "{stored}"
        );
        let p = engine.authenticate_token(&stored).await.unwrap();
        assert!(p
            .scopes
            .to_strings()
            .contains(&"operator.admin".to_string()));
        assert_eq!(
            ensure(&engine, dir.path()).await.unwrap(),
            Outcome::Kept {
                prefix: prefix.clone()
            },
            "the next start reads the same key back"
        );
        let id = microclaw_engine::ops::auth::keys_list(&engine)
            .await
            .unwrap()
            .into_iter()
            .find(|k| k["label"] == LABEL)
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        microclaw_engine::ops::auth::key_revoke(&engine, "test", id)
            .await
            .unwrap();
        let Outcome::Minted { prefix: again } = ensure(&engine, dir.path()).await.unwrap() else {
            panic!("a revoked key is replaced");
        };
        assert_ne!(again, prefix);
        keychain::delete(&account(dir.path())).unwrap();
    });
    println!("cli key round trip ok");
}

#[test]
fn without_a_secret_service_nothing_is_minted_and_the_message_says_why() {
    if std::env::var(INNER).is_err() {
        if !have("dbus-run-session") {
            panic!("dbus-run-session missing: run scripts/setup-linux.sh");
        }
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("bus.conf");
        std::fs::write(&conf, BARE_BUS).unwrap();
        let text = rerun(
            "without_a_secret_service_nothing_is_minted_and_the_message_says_why",
            "",
            Some(&conf),
        );
        assert!(text.contains("fallback ok"), "{text}");
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    rt.block_on(async {
        let Outcome::NoKeychain(msg) = ensure(&engine, dir.path()).await.unwrap() else {
            panic!("no keychain: no key");
        };
        assert!(msg.starts_with("no OS keychain answers ("), "{msg}");
        assert!(msg.contains("gnome-keyring-daemon"), "{msg}");
        let keys = microclaw_engine::ops::auth::keys_list(&engine)
            .await
            .unwrap();
        assert!(
            keys.iter().all(|k| k["label"] != LABEL),
            "no key minted: {keys:?}"
        );
    });
    println!("fallback ok");
}

/// A session bus with no service directories: nothing can be activated, so no Secret Service.
pub const BARE_BUS: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;
