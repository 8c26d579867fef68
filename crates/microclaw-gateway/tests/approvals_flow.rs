//! The approval flow end to end (operations.md §1): a real OpenAI-compatible provider asks for
//! `run_command`; the run pauses; a second connection (approvals only) gets
//! `exec.approval.requested`, resolves it, gets `exec.approval.resolved`; the command's output
//! reaches the provider in the tool message; the final reply arrives. Deny, first-answer-wins
//! and allow-always rules too (Mission Control's HTTP pair: approvals_http.rs).
#![allow(clippy::unwrap_used)]

mod approvals_support;
mod common;

use approvals_support::{
    config, final_text, gateway, provider, run_command_scene, send, Scene, RW,
};
use serde_json::json;

#[tokio::test]
async fn allow_once_runs_the_command_and_its_output_reaches_the_model() {
    let Scene {
        p,
        dir: _dir,
        gw,
        mut user,
        mut approver,
    } = run_command_scene().await;

    let run = send(
        &mut user,
        "ops-one",
        r#"tool:run_command {"command":"echo approved-output"}"#,
    )
    .await;
    let req = approver.next_event("exec.approval.requested").await["payload"].clone();
    let id = req["id"].as_str().unwrap().to_string();
    assert_eq!(req["request"]["command"], "echo approved-output");
    assert_eq!(req["request"]["sessionKey"], "ops-one");
    assert_eq!(req["request"]["agentId"], "ops");
    assert_eq!(req["request"]["runId"], run.as_str());
    assert!(req["expiresAtMs"].as_i64().unwrap() > req["createdAtMs"].as_i64().unwrap());
    assert!(
        req["request"]["cwd"]
            .as_str()
            .unwrap()
            .contains("workspaces"),
        "{req}"
    );

    // The run waits: listed as pending, and "now running" shows the wait.
    let pending = approver.call("exec.approval.list", json!({})).await;
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    let active = user.call("runs.active", json!({})).await;
    let row = &active["runs"][0];
    assert_eq!(row["runId"], run.as_str(), "{active}");
    assert_eq!(
        (row["tool"].as_str(), row["waitingForApproval"].as_bool()),
        (Some("run_command"), Some(true))
    );
    assert_eq!(row["waitingApprovalId"], id.as_str());
    assert!(row["tokens"].as_u64().unwrap() > 0, "tokens so far: {row}");
    assert!(row["elapsedMs"].is_i64(), "{row}");
    assert!(
        p.last_tool_result().is_none(),
        "nothing ran before the decision"
    );

    // A read/write key holds no approvals scope: it cannot resolve.
    let err = user
        .call_err(
            "exec.approval.resolve",
            json!({"id": id, "decision": "allow-once"}),
        )
        .await;
    assert_eq!(err["code"], "FORBIDDEN", "{err}");

    let prefix = &id[..8];
    let ok = approver
        .call(
            "exec.approval.resolve",
            json!({"id": prefix, "decision": "allow-once"}),
        )
        .await;
    assert_eq!(ok["ok"], true);
    let resolved = approver.next_event("exec.approval.resolved").await["payload"].clone();
    assert_eq!(
        (resolved["id"].as_str(), resolved["decision"].as_str()),
        (Some(id.as_str()), Some("allow-once"))
    );
    assert!(
        resolved["resolvedBy"].as_str().unwrap().starts_with("key:"),
        "{resolved}"
    );
    assert!(resolved["resolvedAtMs"].is_i64());

    let (state, text) = final_text(&mut user, &run).await;
    assert_eq!(state, "final", "{text}");
    let tool_msg = p.last_tool_result().unwrap();
    assert!(
        tool_msg.contains("approved-output"),
        "the model got the output: {tool_msg}"
    );
    assert!(
        text.contains("tool said:") && text.contains("approved-output"),
        "{text}"
    );

    // First answer wins: the same answer again is ok, a different one names the recorded one.
    let same = approver
        .call(
            "exec.approval.resolve",
            json!({"id": id, "decision": "allow-once"}),
        )
        .await;
    assert_eq!(same["ok"], true);
    let late = approver
        .call_err(
            "exec.approval.resolve",
            json!({"id": id, "decision": "deny"}),
        )
        .await;
    assert_eq!(late["code"], "INVALID_REQUEST");
    assert_eq!(
        late["details"]["reason"], "APPROVAL_ALREADY_RESOLVED",
        "{late}"
    );
    assert_eq!(late["details"]["decision"], "allow-once");

    let hist = approver.call("approval.history", json!({})).await;
    let item = &hist["items"][0];
    assert_eq!(
        (item["id"].as_str(), item["status"].as_str()),
        (Some(id.as_str()), Some("allowed"))
    );
    assert!(approver
        .call("exec.approval.list", json!({}))
        .await
        .as_array()
        .unwrap()
        .is_empty());
    let audit = gw.engine.store().audit_list(50, None).unwrap();
    let kinds: Vec<&str> = audit.iter().map(|a| a.kind.as_str()).collect();
    assert!(
        kinds.contains(&"approval.requested") && kinds.contains(&"approval.resolved"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn deny_tells_the_model_and_bad_decisions_are_named() {
    let Scene {
        p,
        dir,
        gw: _gw,
        mut user,
        mut approver,
    } = run_command_scene().await;
    let run = send(
        &mut user,
        "ops-deny",
        r#"tool:run_command {"command":"touch should-not-exist"}"#,
    )
    .await;
    let id = approver.next_event("exec.approval.requested").await["payload"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let bad = approver
        .call_err(
            "exec.approval.resolve",
            json!({"id": id, "decision": "maybe"}),
        )
        .await;
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("expected one of allow-once, allow-always, deny"),
        "{bad}"
    );
    let unknown = approver
        .call_err(
            "exec.approval.resolve",
            json!({"id": "nope", "decision": "deny"}),
        )
        .await;
    assert_eq!(
        unknown["details"]["reason"], "APPROVAL_NOT_FOUND",
        "{unknown}"
    );

    approver
        .call(
            "exec.approval.resolve",
            json!({"id": id, "decision": "deny", "reason": "not now"}),
        )
        .await;
    let (state, text) = final_text(&mut user, &run).await;
    assert_eq!(state, "final");
    assert!(p.last_tool_result().unwrap().contains("denied by operator"));
    assert!(text.contains("denied by operator"), "{text}");
    let ws = microclaw_engine::tools::workspace::path_for(dir.path(), "ops-deny");
    assert!(
        !ws.join("should-not-exist").exists(),
        "a denied command never runs"
    );
    let hist = approver.call("approval.history", json!({"limit": 1})).await;
    assert_eq!(hist["items"][0]["status"], "denied");
    assert_eq!(hist["items"][0]["reason"], "not now");
}

#[tokio::test]
async fn allow_always_records_a_rule_that_later_identical_calls_match() {
    let p = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), config(&p.base_url, &["run_command"], &[]), None).await;
    let mut user = gw.client(&gw.key(RW)).await;
    let mut approver = gw.client(&gw.key(&["operator.admin"])).await;
    let msg = r#"tool:run_command {"command":"echo again"}"#;
    let run = send(&mut user, "ops-always", msg).await;
    let id = approver.next_event("exec.approval.requested").await["payload"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    approver
        .call(
            "exec.approval.resolve",
            json!({"id": id, "decision": "allow-always"}),
        )
        .await;
    assert_eq!(final_text(&mut user, &run).await.0, "final");

    let run2 = send(&mut user, "ops-always", msg).await;
    let (state, text) = final_text(&mut user, &run2).await;
    assert_eq!(state, "final");
    assert!(text.contains("again"), "ran without asking: {text}");
    let hist = approver.call("approval.history", json!({})).await;
    assert_eq!(
        hist["items"].as_array().unwrap().len(),
        1,
        "no second approval: {hist}"
    );

    // A different command still asks.
    let run3 = send(
        &mut user,
        "ops-always",
        r#"tool:run_command {"command":"echo other"}"#,
    )
    .await;
    let req = approver.next_event("exec.approval.requested").await["payload"].clone();
    assert_eq!(req["request"]["command"], "echo other");
    approver
        .call(
            "exec.approval.resolve",
            json!({"id": req["id"], "decision": "deny"}),
        )
        .await;
    assert_eq!(final_text(&mut user, &run3).await.0, "final");
}
