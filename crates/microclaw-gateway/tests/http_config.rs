//! `GET /api/config` (redacted) and `PUT /api/config` (validated, written to the config file,
//! applied at the next start).

mod http_common;

use http_common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_config_redacts_otlp_header_values() {
    let api = start_with(|c| {
        c.observability
            .otlp_headers
            .insert("authorization".into(), "Bearer s3cret-value".into());
    })
    .await;
    let r = api
        .get("/api/config", &Cred::bearer(&api.admin_key()))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        !r.text.contains("s3cret-value"),
        "header values are secrets: {}",
        r.text
    );
    assert_eq!(
        r.json["config"]["observability"]["otlp_headers"]["authorization"],
        "[redacted]"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_config_validates_then_writes_the_file_for_the_next_start() {
    let api = start().await;
    let admin = Cred::bearer(&api.admin_key());
    let bad = api
        .send(
            Method::PUT,
            "/api/config",
            &admin,
            Some(json!({"auth": {"login_window_seconds": 0}})),
        )
        .await;
    bad.assert_error(400, "INVALID_REQUEST", "an out-of-range value is refused");
    assert!(
        bad.message().contains("auth.login_window_seconds"),
        "names the key: {}",
        bad.message()
    );
    let file = api.data_dir().join("microclaw.toml");
    assert!(!file.exists(), "a refused update writes nothing");

    let ok = api
        .send(
            Method::PUT,
            "/api/config",
            &admin,
            Some(json!({"auth": {"login_window_seconds": 120}})),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(
        ok.json["restart_required"], true,
        "running settings change at the next start"
    );
    assert_eq!(ok.json["config"]["auth"]["login_window_seconds"], 120);
    let text = std::fs::read_to_string(&file).unwrap();
    let reloaded =
        microclaw_core::config::load_from_str(&text, "file", Vec::<(String, String)>::new())
            .unwrap();
    assert_eq!(
        reloaded.auth.login_window_seconds, 120,
        "the file holds the update"
    );

    let cleared = api
        .send(
            Method::PUT,
            "/api/config",
            &admin,
            Some(json!({"auth": {"login_window_seconds": null}})),
        )
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    assert_eq!(
        cleared.json["config"]["auth"]["login_window_seconds"], 60,
        "null restores the default"
    );
}
