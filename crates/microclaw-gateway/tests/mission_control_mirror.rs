//! Mission Control reads sessions from `{OPENCLAW_STATE_DIR}/agents/<agent>/sessions/
//! sessions.json`: with `compat.openclaw_state_dir` set, the console keeps that file current
//! after sends, forks, resets and deletes (issue 20). Real data dir, real gateway, a short
//! debounce; every wait is a bounded poll of the file.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{start_with, Client, TestServer};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

struct Mirrored {
    srv: TestServer,
    file: PathBuf,
    _state: tempfile::TempDir,
}

async fn start_mirrored() -> Mirrored {
    let state = tempfile::tempdir().unwrap();
    let dir = state.path().to_string_lossy().to_string();
    let srv = start_with(move |c| {
        c.compat.openclaw_state_dir = dir;
        c.compat.openclaw_agent = "main".into();
        c.compat.mirror_debounce_ms = 20;
    })
    .await;
    srv.engine.start_background();
    let file = state.path().join("agents/main/sessions/sessions.json");
    Mirrored {
        srv,
        file,
        _state: state,
    }
}

/// The file's content once `ok` holds for it (polled every 20 ms, at most 10 s).
async fn file_when(path: &Path, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..500 {
        if let Ok(bytes) = std::fs::read(path) {
            // The file is replaced whole: every read parses.
            last = serde_json::from_slice(&bytes).expect("the mirror is always whole JSON");
            if ok(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what}: the mirror never matched; last content: {last}");
}

async fn send_and_finish(c: &mut Client, key: &str, text: &str) -> Value {
    let sent = c
        .call("sessions.send", json!({"sessionKey": key, "message": text}))
        .await;
    let run_id = sent["runId"].as_str().unwrap().to_string();
    let events = c.run_events(&run_id).await;
    assert_eq!(events.last().unwrap()["payload"]["state"], "final");
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mirror_follows_sends_forks_resets_and_deletes() {
    let m = start_mirrored().await;
    let key = m.srv.key(&["operator.admin"]);
    let (mut c, _) = m.srv.client_v4(&key).await;
    // The loop writes an (empty) file at start.
    file_when(&m.file, "initial write", |v| v.as_object().is_some()).await;

    let secret_text = "deploy with password hunter2";
    let sent = send_and_finish(&mut c, "ops", secret_text).await;
    let v = file_when(&m.file, "after the send", |v| {
        v["ops"]["totalTokens"].as_u64().unwrap_or(0) > 0
    })
    .await;
    let e = &v["ops"];
    assert_eq!(e["sessionId"], sent["sessionId"], "{e}");
    assert_eq!(e["chatType"], "direct");
    assert_eq!(e["channel"], "webchat");
    assert_eq!(e["lastChannel"], "webchat");
    assert_eq!(e["model"], "builtin-operator");
    let (i, o, t) = (
        e["inputTokens"].as_u64().unwrap(),
        e["outputTokens"].as_u64().unwrap(),
        e["totalTokens"].as_u64().unwrap(),
    );
    assert!(i > 0 && o > 0 && t == i + o, "{e}");
    assert_eq!(
        e["contextTokens"].as_u64().unwrap(),
        i + o,
        "one run so far"
    );
    assert!(e["updatedAt"].as_i64().unwrap() > 0);
    let raw = std::fs::read_to_string(&m.file).unwrap();
    assert!(
        !raw.contains("hunter2") && !raw.contains(&key) && !raw.contains("mk_"),
        "no message text and no credential in the mirror: {raw}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&m.file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "readable by its owner only");
    }

    // A second run adds up.
    send_and_finish(&mut c, "ops", "and again").await;
    let v = file_when(&m.file, "after the second send", |v| {
        v["ops"]["totalTokens"].as_u64().unwrap_or(0) > t
    })
    .await;
    let total_after_two = v["ops"]["totalTokens"].as_u64().unwrap();
    assert!(v["ops"]["contextTokens"].as_u64().unwrap() < total_after_two);

    // A fork appears under its own key with its own generation.
    let fork = c
        .call(
            "sessions.fork",
            json!({"sessionKey": "ops", "targetKey": "ops-branch"}),
        )
        .await;
    assert_eq!(fork["ok"], true, "{fork}");
    let v = file_when(&m.file, "after the fork", |v| v.get("ops-branch").is_some()).await;
    assert_eq!(v["ops-branch"]["parentKey"], "ops");
    assert_ne!(v["ops-branch"]["sessionId"], v["ops"]["sessionId"]);
    assert_eq!(
        v["ops-branch"]["totalTokens"], 0,
        "a fork has run nothing yet"
    );

    // A reset starts a new generation from zero.
    let before = v["ops"]["sessionId"].clone();
    c.call("sessions.reset", json!({"key": "ops"})).await;
    let v = file_when(&m.file, "after the reset", |v| {
        v["ops"]["sessionId"] != before
    })
    .await;
    assert_eq!(v["ops"]["totalTokens"], 0, "{}", v["ops"]);

    // A delete removes the entry; the fork stays.
    let del = c
        .call("sessions.delete", json!({"sessionKey": "ops"}))
        .await;
    assert_eq!(del["deleted"], true);
    let v = file_when(&m.file, "after the delete", |v| v.get("ops").is_none()).await;
    assert!(v.get("ops-branch").is_some(), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_marks_the_mirrored_session_watched() {
    let m = start_mirrored().await;
    let (mut c, _) = m.srv.client_v4(&m.srv.rw_key()).await;
    send_and_finish(&mut c, "watch-me", "hello").await;
    let ack = c
        .call(
            "sessions.send",
            json!({"sessionKey": "watch-me", "message": {"type": "control", "action": "monitor"}}),
        )
        .await;
    assert_eq!(
        (
            ack["action"].as_str(),
            ack["applied"].as_bool(),
            ack["watched"].as_bool()
        ),
        (Some("monitor"), Some(true), Some(true)),
        "{ack}"
    );
    let v = file_when(&m.file, "watched", |v| v["watch-me"]["watched"] == true).await;
    assert_eq!(v["watch-me"]["watchedSince"], ack["watchedSince"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_counts_survive_a_restart_through_the_mirror_file() {
    let state = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let file = state.path().join("agents/ops-agent/sessions/sessions.json");
    let open = || {
        let mut config = microclaw_core::Config::default();
        config.compat.openclaw_state_dir = state.path().to_string_lossy().to_string();
        config.compat.openclaw_agent = "ops-agent".into();
        config.compat.mirror_debounce_ms = 20;
        microclaw_engine::Engine::open(microclaw_engine::EngineOptions {
            data_dir: data.path().to_path_buf(),
            config,
            clock: None,
        })
        .unwrap()
    };
    let engine = open();
    engine.start_background();
    let (_, mut outcome) =
        microclaw_engine::ops::chat::send(&engine, Some("kept"), "count me", None, None)
            .await
            .unwrap();
    let run_id = outcome.run_id.clone();
    outcome.release();
    engine.runs().wait(&run_id).await.unwrap();
    let v = file_when(&file, "first process", |v| {
        v["kept"]["totalTokens"].as_u64().unwrap_or(0) > 0
    })
    .await;
    let total = v["kept"]["totalTokens"].clone();
    engine.shutdown("test restart").await;
    drop(engine);

    let engine = open();
    engine.start_background();
    // A change after the restart rewrites the file: the counts read back are still there.
    microclaw_engine::ops::chat::send(&engine, Some("other"), "hello", None, None)
        .await
        .unwrap();
    let v = file_when(&file, "second process", |v| v.get("other").is_some()).await;
    assert_eq!(v["kept"]["totalTokens"], total, "{v}");
    engine.shutdown("test end").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_priced_model_shows_its_cost_in_the_mirror() {
    let state = tempfile::tempdir().unwrap();
    let dir = state.path().to_string_lossy().to_string();
    let srv = start_with(move |c| {
        c.compat.openclaw_state_dir = dir;
        c.compat.mirror_debounce_ms = 20;
        c.pricing.insert(
            "builtin-operator".into(),
            microclaw_core::config::ModelPrice {
                input_per_mtok: 1_000_000.0,
                output_per_mtok: 1_000_000.0,
            },
        );
    })
    .await;
    srv.engine.start_background();
    let file = state.path().join("agents/main/sessions/sessions.json");
    let (mut c, _) = srv.client_v4(&srv.rw_key()).await;
    send_and_finish(&mut c, "paid", "what does this cost").await;
    let v = file_when(&file, "priced run", |v| {
        v["paid"]["estimatedCostUsd"].as_f64().unwrap_or(0.0) > 0.0
    })
    .await;
    let e = &v["paid"];
    // One USD per token at this price: the cost equals the token count.
    assert_eq!(
        e["estimatedCostUsd"].as_f64().unwrap(),
        e["totalTokens"].as_f64().unwrap(),
        "{e}"
    );
}
