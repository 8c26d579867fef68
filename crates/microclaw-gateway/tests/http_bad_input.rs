//! Bad input on every JSON body endpoint (http-api.md, "Errors"): malformed JSON, a wrong
//! content type, a body over `server.max_body_bytes`, wrong field types, bad path ids and
//! unknown paths all get `{"ok":false,"error":{code,message}}`, never HTML, a panic or a hang.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod http_common;

use http_common::{assert_json_error, read, start_with, Api, Cred, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

const LIMIT: usize = 2048;

async fn server() -> (Api, Cred, i64) {
    let api = start_with(|c| c.server.max_body_bytes = LIMIT).await;
    api.set_password(PASSWORD);
    let admin = Cred::bearer(&api.admin_key());
    let (victim, _) = api.key_full(&["operator.read"]);
    (api, admin, victim)
}

/// Every endpoint that takes a JSON body, with a body whose field has the wrong type.
fn body_endpoints(victim: i64) -> Vec<(String, Value)> {
    vec![
        ("/api/auth/login".into(), json!({"password": 5})),
        ("/api/auth/password".into(), json!({"password": true})),
        (
            "/api/auth/api_keys".into(),
            json!({"label": "x", "scopes": "operator.read"}),
        ),
        (
            format!("/api/auth/api_keys/{victim}/rotate"),
            json!({"scopes": "operator.read"}),
        ),
        (
            "/api/sessions/fork".into(),
            json!({"source_session_key": 1}),
        ),
        ("/api/delete_session".into(), json!({"session_key": []})),
        ("/api/reset".into(), json!({"session_key": {}})),
        (
            "/api/sessions/settings".into(),
            json!({"session_key": "m", "thinking_level": 3}),
        ),
        (
            "/api/send".into(),
            json!({"session_key": "m", "message": 7}),
        ),
    ]
}

async fn raw_post(
    api: &Api,
    path: &str,
    cred: &Cred,
    ct: Option<&str>,
    body: Vec<u8>,
) -> http_common::Resp {
    let mut b = api.request(Method::POST, path, cred).body(body);
    if let Some(ct) = ct {
        b = b.header("content-type", ct);
    }
    read(b).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_400() {
    let (api, admin, victim) = server().await;
    for (path, _) in body_endpoints(victim) {
        let r = raw_post(
            &api,
            &path,
            &admin,
            Some("application/json"),
            b"{\"a\": ".to_vec(),
        )
        .await;
        r.assert_error(400, "INVALID_REQUEST", &format!("{path}: truncated JSON"));
        let r = raw_post(
            &api,
            &path,
            &admin,
            Some("application/json"),
            b"not json".to_vec(),
        )
        .await;
        r.assert_error(400, "INVALID_REQUEST", &format!("{path}: not JSON"));
    }
    assert!(api.healthy().await, "still serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_content_type_is_415() {
    let (api, admin, victim) = server().await;
    for (path, _) in body_endpoints(victim) {
        let body = br#"{"session_key":"m","password":"x"}"#.to_vec();
        let r = raw_post(&api, &path, &admin, Some("text/plain"), body.clone()).await;
        r.assert_error(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            &format!("{path}: text/plain"),
        );
        assert!(
            r.message().contains("application/json"),
            "says what is expected: {}",
            r.text
        );
        let r = raw_post(&api, &path, &admin, None, body).await;
        r.assert_error(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            &format!("{path}: no content type"),
        );
    }
    assert!(api.healthy().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413() {
    let (api, admin, victim) = server().await;
    let big =
        serde_json::to_vec(&json!({"session_key": "m", "message": "x".repeat(LIMIT * 2)})).unwrap();
    // The rotate endpoint has its own (failing) test below.
    for (path, _) in body_endpoints(victim)
        .into_iter()
        .filter(|(p, _)| !p.ends_with("/rotate"))
    {
        let r = raw_post(&api, &path, &admin, Some("application/json"), big.clone()).await;
        r.assert_error(
            413,
            "PAYLOAD_TOO_LARGE",
            &format!("{path}: {} bytes over {LIMIT}", big.len()),
        );
        assert!(
            r.message().contains("max_body_bytes"),
            "names the setting: {}",
            r.text
        );
    }
    assert!(api.healthy().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotate_body_over_the_limit_is_a_413_json_error() {
    let (api, admin, victim) = server().await;
    let big = serde_json::to_vec(&json!({"label": "x".repeat(LIMIT * 2)})).unwrap();
    let path = format!("/api/auth/api_keys/{victim}/rotate");
    let r = raw_post(&api, &path, &admin, Some("application/json"), big).await;
    r.assert_error(
        413,
        "PAYLOAD_TOO_LARGE",
        "rotate with a body over the limit",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_field_types_and_missing_fields_are_400_or_422() {
    let (api, admin, victim) = server().await;
    for (path, body) in body_endpoints(victim) {
        let r = api.post(&path, &admin, body.clone()).await;
        assert!(
            matches!(r.status, 400 | 422),
            "{path} {body}: got {} {}",
            r.status,
            r.text
        );
        assert_json_error(&r, &format!("{path} {body}"));
        assert_eq!(r.json["error"]["code"], "INVALID_REQUEST", "{}", r.text);
        let arr = api.post(&path, &admin, json!([1, 2])).await;
        if !path.ends_with("/rotate") {
            assert!(matches!(arr.status, 400 | 422), "{path} []: {}", arr.text);
            assert_json_error(&arr, &format!("{path} with an array body"));
        }
    }
    for (path, body) in [
        ("/api/auth/login", json!({})),
        ("/api/send", json!({"session_key": "m"})),
        ("/api/sessions/fork", json!({"target_session_key": "t"})),
    ] {
        let r = api.post(path, &admin, body).await;
        assert!(
            matches!(r.status, 400 | 422),
            "{path} missing a field: {}",
            r.text
        );
        assert_json_error(&r, path);
    }
    assert_eq!(
        api.engine
            .store()
            .audit_list(100, Some("auth.login_failed"))
            .unwrap()
            .len(),
        0,
        "rejected bodies never reach the password check"
    );
    assert!(api.healthy().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_path_ids_are_400_naming_the_id() {
    let (api, admin, _) = server().await;
    for id in ["abc", "-1", "0", "1.5", "99999999999999999999999"] {
        let r = api
            .send(
                Method::DELETE,
                &format!("/api/auth/api_keys/{id}"),
                &admin,
                None,
            )
            .await;
        r.assert_error(400, "INVALID_REQUEST", &format!("DELETE key id {id}"));
        assert!(r.message().contains(id), "names the bad id: {}", r.text);
        let r = api
            .post(
                &format!("/api/auth/api_keys/{id}/rotate"),
                &admin,
                json!({}),
            )
            .await;
        r.assert_error(400, "INVALID_REQUEST", &format!("rotate key id {id}"));
    }
    assert!(api.healthy().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_paths_are_404_json() {
    let (api, admin, _) = server().await;
    for (m, p) in [
        (Method::GET, "/api/nope"),
        (Method::POST, "/api/nope"),
        (Method::GET, "/api/sessions/nope/deeper"),
        (Method::DELETE, "/api/history/1"),
    ] {
        for cred in [&Cred::None, &admin] {
            let r = api.send(m.clone(), p, cred, None).await;
            r.assert_error(404, "NOT_FOUND", &format!("{m} {p}"));
        }
    }
    let r = api.get("/api/sessions?limit=abc", &admin).await;
    r.assert_error(
        400,
        "INVALID_REQUEST",
        "a query parameter of the wrong type",
    );
    assert!(api.healthy().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_method_on_a_known_path_is_a_json_error() {
    let (api, admin, _) = server().await;
    for (m, p) in [
        (Method::GET, "/api/send"),
        (Method::PUT, "/api/sessions"),
        (Method::PUT, "/api/config"),
    ] {
        let r = api.send(m.clone(), p, &admin, None).await;
        assert!(r.status >= 400, "{m} {p}: {}", r.status);
        assert_json_error(&r, &format!("{m} {p}"));
    }
}
