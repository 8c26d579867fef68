//! API keys over HTTP: list, create (raw key once), revoke (at once), rotate, and the per-key
//! request limit (http-api.md, "API keys").
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod http_common;

use http_common::{start, start_with, Cred};
use reqwest::Method;
use serde_json::{json, Value};

fn is_raw_key(k: &str) -> bool {
    k.len() == 35 && k.starts_with("mk_") && k[3..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_shows_the_raw_key_once_and_list_never_shows_it() {
    let api = start().await;
    let admin = Cred::bearer(&api.admin_key());
    let r = api
        .post(
            "/api/auth/api_keys",
            &admin,
            json!({"label": "ci", "scopes": ["operator.write", "operator.read"], "expires_days": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let raw = r.json["api_key"].as_str().unwrap().to_string();
    assert!(is_raw_key(&raw), "mk_ + 32 hex: {raw}");
    let prefix = r.json["prefix"].as_str().unwrap();
    assert!(
        raw.starts_with(prefix),
        "the prefix is the start of the key"
    );
    assert_eq!(r.json["scopes"], json!(["operator.read", "operator.write"]));
    let id = r.json["id"].as_i64().unwrap();

    let list = api.get("/api/auth/api_keys", &admin).await;
    assert_eq!(list.status, 200);
    assert!(
        !list.text.contains(&raw),
        "the raw key is never shown again"
    );
    let keys = list.json["keys"].as_array().unwrap();
    assert_eq!(keys[0]["id"], id, "newest first");
    let k = &keys[0];
    for field in [
        "id",
        "label",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "rotated_from_key_id",
    ] {
        assert!(k.get(field).is_some(), "list rows carry {field}: {k}");
    }
    assert_eq!(
        k["scopes"],
        json!(["operator.read", "operator.write"]),
        "sorted"
    );
    let ttl = k["expires_at"].as_i64().unwrap() - k["created_at"].as_i64().unwrap();
    assert_eq!(ttl, 86_400_000, "expires_days = 1 is one day");
    assert_eq!(k["revoked_at"], Value::Null);

    let use_it = api.get("/api/sessions", &Cred::bearer(&raw)).await;
    assert_eq!(use_it.status, 200, "the new key works at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_refuses_bad_labels_scopes_and_expiry() {
    let api = start().await;
    let admin = Cred::bearer(&api.admin_key());
    let cases = [
        (
            json!({"label": "", "scopes": ["operator.read"]}),
            "label",
            "an empty label",
        ),
        (
            json!({"label": "   ", "scopes": ["operator.read"]}),
            "label",
            "a blank label",
        ),
        (json!({"label": "x", "scopes": []}), "scope", "no scopes"),
        (
            json!({"label": "x", "scopes": ["operator.root"]}),
            "operator.root",
            "an unknown scope",
        ),
        (
            json!({"label": "x", "scopes": ["operator.read"], "expires_days": 0}),
            "expires_days",
            "expires_days 0",
        ),
        (
            json!({"label": "x", "scopes": ["operator.read"], "expires_days": 3651}),
            "expires_days",
            "expires_days over 3650",
        ),
    ];
    for (body, named, why) in cases {
        let r = api.post("/api/auth/api_keys", &admin, body).await;
        r.assert_error(400, "INVALID_REQUEST", why);
        assert!(
            r.message().contains(named),
            "{why}: the message names {named}: {}",
            r.text
        );
    }
    let list = api.get("/api/auth/api_keys", &admin).await;
    assert_eq!(
        list.json["keys"].as_array().unwrap().len(),
        1,
        "nothing was created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_stops_at_once() {
    let api = start().await;
    let admin = Cred::bearer(&api.admin_key());
    let (id, raw) = api.key_full(&["operator.read"]);
    assert_eq!(
        api.get("/api/sessions", &Cred::bearer(&raw)).await.status,
        200
    );
    let path = format!("/api/auth/api_keys/{id}");
    let r = api.send(Method::DELETE, &path, &admin, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["revoked"], true);
    api.get("/api/sessions", &Cred::bearer(&raw))
        .await
        .assert_error(401, "UNAUTHORIZED", "revoked keys stop on the next request");
    let again = api.send(Method::DELETE, &path, &admin, None).await;
    assert_eq!(
        again.json["revoked"], false,
        "revoking twice changes nothing"
    );
    let list = api.get("/api/auth/api_keys", &admin).await;
    let row = list.json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .cloned()
        .unwrap();
    assert!(
        row["revoked_at"].is_i64(),
        "revoked keys stay listed with revoked_at"
    );
    let audited = api
        .engine
        .store()
        .audit_list(10, Some("auth.key_revoked"))
        .unwrap();
    assert_eq!(audited.len(), 1, "the revocation is audited once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_revokes_the_old_key_and_issues_a_working_new_one() {
    let api = start().await;
    let admin = Cred::bearer(&api.admin_key());
    let (old_id, old_raw) = api.key_full(&["operator.read", "operator.write"]);
    let path = format!("/api/auth/api_keys/{old_id}/rotate");
    let r = api.post(&path, &admin, json!({"expires_days": 30})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new_raw = r.json["api_key"].as_str().unwrap().to_string();
    assert!(is_raw_key(&new_raw));
    assert_eq!(
        r.json["scopes"],
        json!(["operator.read", "operator.write"]),
        "scopes default to the old key's"
    );
    api.get("/api/sessions", &Cred::bearer(&old_raw))
        .await
        .assert_error(401, "UNAUTHORIZED", "the old key is revoked");
    assert_eq!(
        api.get("/api/sessions", &Cred::bearer(&new_raw))
            .await
            .status,
        200
    );
    let list = api.get("/api/auth/api_keys", &admin).await;
    let newest = &list.json["keys"][0];
    assert_eq!(newest["id"], r.json["id"]);
    assert_eq!(
        newest["rotated_from_key_id"], old_id,
        "the new row points at the old one"
    );
    api.post(&path, &admin, json!({})).await.assert_error(
        409,
        "CONFLICT",
        "a revoked key cannot be rotated again",
    );
    api.post("/api/auth/api_keys/99999/rotate", &admin, json!({}))
        .await
        .assert_error(404, "NOT_FOUND", "an unknown key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_key_request_limit_answers_429_with_retry_after() {
    let api = start_with(|c| c.auth.api_key_rate_limit_per_minute = 10).await;
    let busy = Cred::bearer(&api.key(&["operator.read"]));
    for i in 0..10 {
        let r = api.get("/api/health", &busy).await;
        assert_eq!(r.status, 200, "request {i} is within 10/min: {}", r.text);
    }
    let r = api.get("/api/sessions", &busy).await;
    r.assert_error(429, "RATE_LIMITED", "the 11th request in a minute");
    let secs: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(
        (1..=6).contains(&secs),
        "10/min refills a request every 6 s: {secs}"
    );
    let other = Cred::bearer(&api.key(&["operator.read"]));
    assert_eq!(
        api.get("/api/sessions", &other).await.status,
        200,
        "limits are per key"
    );
}
