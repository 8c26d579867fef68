//! Offline commands on a data dir: `auth keys create --quiet`, `auth password set`,
//! `config self-check --json` exit codes, and `audit verify` on a clean and a tampered chain.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod cli_support;

use cli_support::*;
use serde_json::Value;

#[test]
fn keys_create_quiet_prints_only_the_key() {
    let (_tmp, dir) = data_dir();
    let out = run_in(
        dir.as_path(),
        &[
            "auth",
            "keys",
            "create",
            "--label",
            "ci",
            "--scope",
            "operator.read",
            "--quiet",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.lines().count(), 1, "one line: {out:?}");
    assert!(is_raw_key(out.stdout.trim()), "only the key: {out:?}");

    let loud = run_in(
        dir.as_path(),
        &[
            "auth", "keys", "create", "--label", "ci2", "--scope", "read",
        ],
    );
    assert_eq!(loud.code, 0, "{loud:?}");
    assert!(
        loud.stdout.lines().count() > 1,
        "without --quiet it explains: {loud:?}"
    );
    assert!(loud.stdout.lines().any(is_raw_key));

    let bad = run_in(
        dir.as_path(),
        &[
            "auth",
            "keys",
            "create",
            "--label",
            "x",
            "--scope",
            "operator.root",
            "--quiet",
        ],
    );
    assert_ne!(bad.code, 0, "an unknown scope fails: {bad:?}");
    assert!(bad.stdout.trim().is_empty(), "and prints no key: {bad:?}");
    assert!(
        bad.stderr.contains("operator.root"),
        "naming the scope: {bad:?}"
    );
}

#[test]
fn self_check_json_exits_2_when_high_and_0_after_the_password_is_set() {
    let (_tmp, dir) = data_dir();
    let high = run_in(dir.as_path(), &["config", "self-check", "--json"]);
    assert_eq!(high.code, 2, "no password yet is high risk: {high:?}");
    let v: Value = serde_json::from_str(&high.stdout).unwrap();
    assert_eq!(v["risk_level"], "high");
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["code"] == "operator_password_missing"));

    let mut c = microclaw();
    c.args(["auth", "password", "set", "--data-dir"])
        .arg(dir.as_path());
    let short = run(c, "too short\n");
    assert_ne!(short.code, 0, "under 12 characters is refused: {short:?}");
    let mut c = microclaw();
    c.args(["auth", "password", "set", "--data-dir"])
        .arg(dir.as_path());
    let set = run(c, "a long enough password\n");
    assert_eq!(set.code, 0, "{set:?}");

    let fine = run_in(dir.as_path(), &["config", "self-check", "--json"]);
    assert_eq!(fine.code, 0, "{fine:?}");
    let v: Value = serde_json::from_str(&fine.stdout).unwrap();
    assert_eq!(v["risk_level"], "none", "{v}");
}

/// Replaces every occurrence of `from` with `to` (same length) in `path`; returns the count.
fn patch_bytes(path: &std::path::Path, from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut data = std::fs::read(path).unwrap();
    let mut n = 0;
    let mut i = 0;
    while i + from.len() <= data.len() {
        if &data[i..i + from.len()] == from {
            data[i..i + from.len()].copy_from_slice(to);
            n += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    std::fs::write(path, data).unwrap();
    n
}

#[test]
fn audit_verify_exits_0_on_a_clean_chain_and_1_after_a_row_is_edited() {
    let (_tmp, dir) = data_dir();
    create_key(dir.as_path(), "first", &["operator.read"]);
    create_key(dir.as_path(), "tamper-me-AAAAAAAA", &["operator.read"]);
    create_key(dir.as_path(), "third", &["operator.read"]);
    let clean = run_in(dir.as_path(), &["audit", "verify"]);
    assert_eq!(clean.code, 0, "{clean:?}");
    assert!(clean.stdout.contains("3 entries"), "{clean:?}");

    // Every process has exited, so the WAL is checkpointed into the main file.
    let db = dir.as_path().join("microclaw.db");
    let wal = dir.as_path().join("microclaw.db-wal");
    assert!(
        std::fs::metadata(&wal)
            .map(|m| m.len() == 0)
            .unwrap_or(true),
        "WAL checkpointed"
    );
    let n = patch_bytes(&db, b"tamper-me-AAAAAAAA", b"tamper-me-BBBBBBBB");
    assert!(n >= 1, "the label is in the audit row's detail");

    let broken = run_in(dir.as_path(), &["audit", "verify"]);
    assert_eq!(broken.code, 1, "an edited row breaks the chain: {broken:?}");
    assert!(
        broken.stderr.contains("id 2"),
        "names the edited row: {broken:?}"
    );
}
