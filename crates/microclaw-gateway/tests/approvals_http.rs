//! Mission Control's HTTP pair (operations.md §1): `GET /api/exec-approvals` lists the
//! pending approval of a run paused on `run_command`, `POST /api/exec-approvals/respond`
//! answers it (a bad action is named), the run finishes with the command's output, and the
//! history route reports the decision. Scope `operator.approvals` (a read/write key: 403).
#![allow(clippy::unwrap_used)]

mod approvals_support;
mod common;

use approvals_support::{config, final_text, gateway, provider, send, APPROVER, RW};
use serde_json::json;

#[tokio::test]
async fn mission_control_http_pair_lists_and_responds() {
    let p = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path(), config(&p.base_url, &["run_command"], &[]), None).await;
    let mut user = gw.client(&gw.key(RW)).await;
    let approver_key = gw.key(APPROVER);
    let mut watcher_first = gw.client(&approver_key).await;
    let run = send(
        &mut user,
        "ops-http",
        r#"tool:run_command {"command":"echo via-http"}"#,
    )
    .await;
    watcher_first.next_event("exec.approval.requested").await;
    let http = reqwest::Client::new();
    let base = format!("http://{}", gw.addr);
    let listed: serde_json::Value = http
        .get(format!("{base}/api/exec-approvals"))
        .bearer_auth(&approver_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = listed["approvals"][0]["id"].as_str().unwrap().to_string();
    let forbidden = http
        .get(format!("{base}/api/exec-approvals"))
        .bearer_auth(gw.key(RW))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    let bad = http
        .post(format!("{base}/api/exec-approvals/respond"))
        .bearer_auth(&approver_key)
        .json(&json!({"id": id, "action": "perhaps"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expected \"approve\", \"always\" or \"deny\""),
        "{body}"
    );
    let ok = http
        .post(format!("{base}/api/exec-approvals/respond"))
        .bearer_auth(&approver_key)
        .json(&json!({"id": id, "action": "approve"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let (state, text) = final_text(&mut user, &run).await;
    assert_eq!(state, "final");
    assert!(text.contains("via-http"), "{text}");
    let hist: serde_json::Value = http
        .get(format!("{base}/api/exec-approvals/history"))
        .bearer_auth(&approver_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hist["items"][0]["decision"], "allow-once", "{hist}");
}
