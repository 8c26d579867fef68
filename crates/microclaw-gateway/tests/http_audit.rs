//! The audit log (http-api.md, "Audit"): auth events and destructive session actions append
//! hash-chained rows, `GET /api/audit` lists and filters them, and editing a row in the
//! database file breaks the chain. (The CLI's `audit verify` exit codes: microclaw-cli tests.)
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod http_common;

use http_common::{start, Api, Cred, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

async fn entries(api: &Api, admin: &Cred, query: &str) -> Vec<Value> {
    let r = api.get(&format!("/api/audit{query}"), admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["entries"].as_array().unwrap().clone()
}

/// Performs one of every audited action over HTTP.
async fn audited_actions(api: &Api, admin: &Cred) {
    api.post(
        "/api/auth/login",
        &Cred::None,
        json!({"password": "wrong password!"}),
    )
    .await;
    let (cookie, _) = api.login(PASSWORD).await;
    let r = api
        .post(
            "/api/auth/password",
            &cookie,
            json!({"password": PASSWORD, "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    api.send(Method::POST, "/api/auth/logout", &cookie, None)
        .await;
    let k = api
        .post(
            "/api/auth/api_keys",
            admin,
            json!({"label": "a", "scopes": ["operator.read"]}),
        )
        .await;
    let id = k.json["id"].as_i64().unwrap();
    let rot = api
        .post(&format!("/api/auth/api_keys/{id}/rotate"), admin, json!({}))
        .await;
    let new_id = rot.json["id"].as_i64().unwrap();
    api.send(
        Method::DELETE,
        &format!("/api/auth/api_keys/{new_id}"),
        admin,
        None,
    )
    .await;
    let reader = Cred::bearer(&api.key(&["operator.read"]));
    let denied = api
        .post("/api/reset", &reader, json!({"session_key": "main"}))
        .await;
    assert_eq!(denied.status, 403);
    microclaw_engine::ops::chat::send_and_wait(&api.engine, Some("main"), "/echo one")
        .await
        .unwrap();
    for (path, body) in [
        (
            "/api/sessions/fork",
            json!({"source_session_key": "main", "target_session_key": "f"}),
        ),
        ("/api/reset", json!({"session_key": "main"})),
        ("/api/delete_session", json!({"session_key": "main"})),
    ] {
        let r = api.post(path, admin, body).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_events_and_destructive_actions_append_chained_rows() {
    let api = start().await;
    api.set_password(PASSWORD);
    let admin = Cred::bearer(&api.admin_key());
    audited_actions(&api, &admin).await;
    let all = entries(&api, &admin, "?limit=1000").await;
    let kinds: Vec<&str> = all.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for k in [
        "auth.login_failed",
        "auth.login",
        "auth.password_changed",
        "auth.logout",
        "auth.key_created",
        "auth.key_rotated",
        "auth.key_revoked",
        "auth.scope_denied",
        "session.fork",
        "session.reset",
        "session.delete",
    ] {
        assert!(kinds.contains(&k), "'{k}' is audited: {kinds:?}");
    }
    // Each row's prev_hash is the entry_hash of the row before it (by id).
    let mut rows = all.clone();
    rows.sort_by_key(|e| e["id"].as_i64().unwrap());
    for pair in rows.windows(2) {
        assert_eq!(
            pair[1]["prev_hash"], pair[0]["entry_hash"],
            "chained: {pair:?}"
        );
    }
    let denied = entries(&api, &admin, "?kind=auth.scope_denied").await;
    assert_eq!(denied.len(), 1, "the kind filter: {denied:?}");
    assert_eq!(denied[0]["target"], "/api/reset");
    assert_eq!(entries(&api, &admin, "?limit=2").await.len(), 2, "limit");
    api.get("/api/audit?limit=0", &admin)
        .await
        .assert_error(400, "INVALID_REQUEST", "limit 0");
    assert_eq!(
        api.engine.store().audit_verify().unwrap(),
        Ok(rows.len() as u64),
        "an untouched chain verifies"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_write_no_audit_rows() {
    let api = start().await;
    let reader = Cred::bearer(&api.key(&["operator.read"]));
    let before = api.engine.store().audit_list(1000, None).unwrap().len();
    for p in [
        "/api/health",
        "/api/sessions",
        "/api/metrics",
        "/api/config",
    ] {
        assert_eq!(api.get(p, &reader).await.status, 200);
    }
    assert_eq!(api.get("/health", &Cred::None).await.status, 200);
    let after = api.engine.store().audit_list(1000, None).unwrap().len();
    assert_eq!(before, after, "health probes and reads are not audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_a_row_in_the_database_file_breaks_the_chain() {
    let api = start().await;
    api.set_password(PASSWORD);
    let admin = Cred::bearer(&api.admin_key());
    audited_actions(&api, &admin).await;
    let total = api.engine.store().audit_verify().unwrap().unwrap();
    assert!(total >= 10);
    let victim = entries(&api, &admin, "?kind=session.fork").await[0]["id"]
        .as_i64()
        .unwrap();

    let db = api.data_dir().join(microclaw_engine::DB_FILE_NAME);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    let changed = conn
        .execute(
            "UPDATE audit_log SET detail = '{\"target\":\"elsewhere\"}' WHERE id = ?1",
            [victim],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);

    let why = api
        .engine
        .store()
        .audit_verify()
        .unwrap()
        .expect_err("a modified row breaks the chain");
    assert!(
        why.contains(&format!("id {victim}")),
        "names the broken row: {why}"
    );
}
