//! How approvals end without an operator: expiry on the engine clock (a manual clock here, no
//! real waiting), a killed run, and a gateway restart with one pending (the same data dir
//! reopened). Also `write_file`'s path containment as the model sees it.
#![allow(clippy::unwrap_used)]

mod approvals_support;
mod common;

use approvals_support::{
    config, final_text, gateway, provider, run_command_scene, send, Scene, APPROVER, RW,
};
use microclaw_core::{ManualClock, SharedClock};
use serde_json::json;
use std::sync::Arc;

const CMD: &str = r#"tool:run_command {"command":"echo never-runs"}"#;

#[tokio::test]
async fn an_unanswered_approval_expires_on_the_engine_clock_as_a_denial() {
    let p = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_800_000_000_000);
    let shared: SharedClock = Arc::new(clock.clone());
    let gw = gateway(
        dir.path(),
        config(&p.base_url, &["run_command"], &[]),
        Some(shared),
    )
    .await;
    let mut user = gw.client(&gw.key(RW)).await;
    let mut approver = gw.client(&gw.key(APPROVER)).await;
    let run = send(&mut user, "ops-expire", CMD).await;
    let req = approver.next_event("exec.approval.requested").await["payload"].clone();
    assert_eq!(
        req["expiresAtMs"].as_i64().unwrap() - req["createdAtMs"].as_i64().unwrap(),
        30 * 60 * 1000,
        "default expiry is 30 minutes"
    );
    clock.advance_ms(30 * 60 * 1000 + 1);
    let resolved = approver.next_event("exec.approval.resolved").await["payload"].clone();
    assert_eq!(resolved["id"], req["id"]);
    assert_eq!(
        (
            resolved["decision"].as_str(),
            resolved["status"].as_str(),
            resolved["reason"].as_str()
        ),
        (Some("deny"), Some("expired"), Some("expired"))
    );
    let (state, text) = final_text(&mut user, &run).await;
    assert_eq!(state, "final");
    assert!(p.last_tool_result().unwrap().contains("expired"), "{text}");
    let late = approver
        .call_err(
            "exec.approval.resolve",
            json!({"id": req["id"], "decision": "allow-once"}),
        )
        .await;
    assert_eq!(late["details"]["reason"], "APPROVAL_ALREADY_RESOLVED");
    assert_eq!(late["details"]["status"], "expired");
}

#[tokio::test]
async fn killing_a_waiting_run_settles_its_approval() {
    let Scene {
        p: _p,
        dir: _dir,
        gw: _gw,
        mut user,
        mut approver,
    } = run_command_scene().await;
    let run = send(&mut user, "ops-kill", CMD).await;
    let req = approver.next_event("exec.approval.requested").await["payload"].clone();
    let aborted = user.call("sessions.abort", json!({"runId": run})).await;
    assert_eq!(aborted["status"], "aborted", "{aborted}");
    let resolved = approver.next_event("exec.approval.resolved").await["payload"].clone();
    assert_eq!(resolved["id"], req["id"]);
    assert_eq!(resolved["reason"], "run-aborted");
    let (state, _) = final_text(&mut user, &run).await;
    assert_eq!(state, "aborted");
    assert!(approver
        .call("exec.approval.list", json!({}))
        .await
        .as_array()
        .unwrap()
        .is_empty());
    assert!(user.call("runs.active", json!({})).await["runs"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_restart_denies_the_pending_approval_and_keeps_it_in_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    // The first process: its own runtime, dropped (with every task) while the approval waits.
    let first = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let p = provider().await;
            let gw = gateway(&path, config(&p.base_url, &["run_command"], &[]), None).await;
            let mut user = gw.client(&gw.key(RW)).await;
            let mut approver = gw.client(&gw.key(APPROVER)).await;
            send(&mut user, "ops-restart", CMD).await;
            let req = approver.next_event("exec.approval.requested").await["payload"].clone();
            req["id"].as_str().unwrap().to_string()
        })
    });
    let id = first.join().unwrap();

    let p = provider().await;
    let gw = gateway(dir.path(), config(&p.base_url, &["run_command"], &[]), None).await;
    let mut approver = gw.client(&gw.key(APPROVER)).await;
    let pending = approver.call("exec.approval.list", json!({})).await;
    assert!(pending.as_array().unwrap().is_empty(), "{pending}");
    let hist = approver.call("approval.history", json!({})).await;
    let item = &hist["items"][0];
    assert_eq!(item["id"], id.as_str(), "{hist}");
    assert_eq!(
        (
            item["status"].as_str(),
            item["decision"].as_str(),
            item["reason"].as_str()
        ),
        (Some("denied"), Some("deny"), Some("gateway-restart"))
    );
    assert_eq!(item["request"]["command"], "echo never-runs");
    let late = approver
        .call_err(
            "exec.approval.resolve",
            json!({"id": id, "decision": "allow-once"}),
        )
        .await;
    assert_eq!(late["details"]["decision"], "deny");
}

#[tokio::test]
async fn write_file_refuses_paths_that_leave_the_workspace() {
    let p = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let gw = gateway(
        dir.path(),
        config(&p.base_url, &["write_file"], &["write_file"]),
        None,
    )
    .await;
    let mut user = gw.client(&gw.key(RW)).await;
    let session = "ops-files";
    let ws = microclaw_engine::tools::workspace::ensure(dir.path(), session).unwrap();
    std::os::unix::fs::symlink(outside.path(), ws.join("out")).unwrap();
    let abs = outside.path().join("abs.txt");
    let cases = [
        ("../escape.txt".to_string(), "it contains '..'"),
        (abs.display().to_string(), "it is absolute"),
        (
            "out/x.txt".to_string(),
            "a symlink in it leads out of the workspace",
        ),
    ];
    for (path, why) in &cases {
        let args = json!({"path": path, "content": "x"});
        let run = send(&mut user, session, &format!("tool:write_file {args}")).await;
        let (state, _) = final_text(&mut user, &run).await;
        assert_eq!(state, "final");
        let tool = p.last_tool_result().unwrap();
        assert!(
            tool.contains("is refused") && tool.contains(why),
            "{path}: {tool}"
        );
    }
    assert!(!dir.path().join("workspaces").join("escape.txt").exists());
    assert!(!abs.exists() && !outside.path().join("x.txt").exists());

    let args = json!({"path": "notes/a.txt", "content": "hello file"});
    let run = send(&mut user, session, &format!("tool:write_file {args}")).await;
    final_text(&mut user, &run).await;
    assert_eq!(
        std::fs::read_to_string(ws.join("notes/a.txt")).unwrap(),
        "hello file"
    );
}

#[tokio::test]
async fn run_command_output_is_capped_and_a_slow_command_is_killed_per_config() {
    let p = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&p.base_url, &["run_command"], &["run_command"]);
    cfg.approvals.command_output_bytes = 256;
    cfg.approvals.command_timeout_ms = 300;
    let gw = gateway(dir.path(), cfg, None).await;
    let mut user = gw.client(&gw.key(RW)).await;
    let run = send(
        &mut user,
        "ops-limits",
        r#"tool:run_command {"command":"seq 1 500"}"#,
    )
    .await;
    assert_eq!(final_text(&mut user, &run).await.0, "final");
    let tool = p.last_tool_result().unwrap();
    assert!(
        tool.contains("[truncated: ") && tool.contains("\"truncated\":true"),
        "{tool}"
    );
    assert!(!tool.contains("500\\n"), "the tail is cut: {tool}");

    let run = send(
        &mut user,
        "ops-limits",
        r#"tool:run_command {"command":"sleep 30"}"#,
    )
    .await;
    assert_eq!(final_text(&mut user, &run).await.0, "final");
    let tool = p.last_tool_result().unwrap();
    assert!(
        tool.contains("timed out after 300 ms and was killed"),
        "{tool}"
    );

    let run = send(
        &mut user,
        "ops-limits",
        r#"tool:run_command {"command":"echo 'unclosed"}"#,
    )
    .await;
    assert_eq!(final_text(&mut user, &run).await.0, "final");
    assert!(p.last_tool_result().unwrap().contains("check its quotes"));
}
