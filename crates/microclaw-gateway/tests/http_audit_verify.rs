//! `GET /api/audit/verify` (http-api.md, "Audit"): the same chain check as
//! `microclaw audit verify`, answered over HTTP — intact with the number of rows verified, or
//! broken with the reason naming the first bad row after a row is edited in the database file.
//! Admin only, like `GET /api/audit`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod http_common;

use http_common::{start, Cred, PASSWORD};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_an_intact_chain_then_the_row_that_was_edited() {
    let api = start().await;
    api.set_password(PASSWORD);
    let admin = Cred::bearer(&api.admin_key());
    // A few audited actions: two failed logins, a login, a key.
    for _ in 0..2 {
        api.post(
            "/api/auth/login",
            &Cred::None,
            json!({"password": "wrong password!"}),
        )
        .await;
    }
    api.login(PASSWORD).await;
    let k = api
        .post(
            "/api/auth/api_keys",
            &admin,
            json!({"label": "v", "scopes": ["operator.read"]}),
        )
        .await;
    assert_eq!(k.status, 200, "{}", k.text);

    let rows = api.engine.store().audit_list(1000, None).unwrap();
    assert!(rows.len() >= 4, "audited: {}", rows.len());
    let r = api.get("/api/audit/verify", &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["ok"], true);
    assert_eq!(r.json["intact"], true, "{}", r.text);
    assert_eq!(r.json["verified"], rows.len() as u64, "every row checked");
    assert!(r.json.get("reason").is_none(), "{}", r.text);

    // Edit the second-oldest row behind the gateway's back.
    let victim = rows.iter().map(|e| e.id).min().unwrap() + 1;
    let db = api.data_dir().join(microclaw_engine::DB_FILE_NAME);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    let changed = conn
        .execute(
            "UPDATE audit_log SET actor = 'someone else' WHERE id = ?1",
            [victim],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);

    let r = api.get("/api/audit/verify", &admin).await;
    assert_eq!(
        r.status, 200,
        "a broken chain is an answer, not an error: {}",
        r.text
    );
    assert_eq!(r.json["intact"], false, "{}", r.text);
    let reason = r.json["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("id {victim}")),
        "names the row: {reason}"
    );
    assert!(
        reason.contains("entry_hash"),
        "says what did not match: {reason}"
    );
    // The same verdict as the store's check (which the CLI prints).
    let direct = api.engine.store().audit_verify().unwrap().unwrap_err();
    assert_eq!(reason, direct);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_needs_admin() {
    let api = start().await;
    let reader = Cred::bearer(&api.key(&["operator.read"]));
    let writer = Cred::bearer(&api.key(&["operator.write"]));
    for cred in [&reader, &writer] {
        let r = api.get("/api/audit/verify", cred).await;
        assert_eq!(r.status, 403, "{}", r.text);
    }
    assert_eq!(api.get("/api/audit/verify", &Cred::None).await.status, 401);
    let admin = Cred::bearer(&api.admin_key());
    let r = api.get("/api/audit/verify", &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json["intact"], true,
        "an empty or fresh chain is intact: {}",
        r.text
    );
}
