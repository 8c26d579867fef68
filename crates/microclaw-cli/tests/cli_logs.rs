//! `microclaw start` feeds its own log (the `MICROCLAW_LOG` filter) into the ring that
//! `logs.tail` reads: a failed call logged by the running server comes back through
//! `microclaw gateway call logs.tail`, the key it quoted redacted.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod cli_support;

use cli_support::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

/// `microclaw start --port 0` with `MICROCLAW_LOG=log`; returns the guard and the port.
fn start_logging(dir: &std::path::Path, log: &str) -> (ChildGuard, u16) {
    let mut c = microclaw();
    c.env("MICROCLAW_LOG", log)
        .args(["start", "--port", "0", "--data-dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(
            std::fs::File::create(dir.with_extension("stderr.log")).unwrap(),
        ));
    let mut child = ChildGuard(c.spawn().expect("spawn microclaw start"));
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // Keep draining after the receiver is gone: a closed pipe would make the
            // server's next line fail.
            let _ = tx.send(line);
        }
    });
    let first = rx.recv_timeout(WAIT).expect("start prints a first line");
    let port = first
        .strip_prefix("listening on http://127.0.0.1:")
        .and_then(|p| p.trim().parse::<u16>().ok())
        .unwrap_or_else(|| panic!("first line: {first:?}"));
    (child, port)
}

#[test]
fn the_running_server_logs_into_the_ring_logs_tail_reads() {
    let (_tmp, dir) = data_dir();
    let key = create_key(dir.as_path(), "logs", &["operator.read"]);
    let (_child, port) = start_logging(dir.as_path(), "warn,microclaw_gateway=debug");
    let server_url = format!("http://127.0.0.1:{port}");
    let call = |args: &[&str]| {
        let mut c = microclaw();
        c.args(["gateway", "call"])
            .args(args)
            .args(["--json", "--url", &server_url])
            .env("MICROCLAW_GATEWAY_TOKEN", &key);
        run(c, "")
    };
    let bad = call(&[&format!("no.such.{key}")]);
    assert_ne!(bad.code, 0, "{bad:?}");
    let out = call(&["logs.tail", "--params", r#"{"limit": 5000}"#]);
    let server_err = std::fs::read_to_string(dir.with_extension("stderr.log")).unwrap_or_default();
    assert_eq!(out.code, 0, "{out:?}\nserver stderr:\n{server_err}");
    let v: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["file"], "memory");
    let lines: Vec<&str> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let failed = lines
        .iter()
        .find(|l| l.contains("bridge request failed"))
        .unwrap_or_else(|| panic!("the server's own line: {lines:#?}"));
    assert!(
        failed.contains("DEBUG microclaw_gateway::bridge::methods:"),
        "{failed}"
    );
    assert!(failed.contains("mk_***"), "{failed}");
    assert!(
        !out.stdout.contains(&key[3..]),
        "the key leaked: {}",
        out.stdout
    );
}
