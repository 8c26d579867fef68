//! `GET /api/config/self_check` (http-api.md, "Config self-check"): every warning code of the
//! spec's table triggered by config or state, one engine per case, with its severity, the
//! overall `risk_level`, high-first order, and a message/fix naming what to change.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod http_common;

use http_common::{start_full, start_with, Api, Cred, PASSWORD};
use microclaw_core::config::Synchronous;
use microclaw_core::{Config, ManualClock};
use serde_json::Value;
use std::sync::Arc;

async fn check(api: &Api) -> Value {
    let r = api
        .get(
            "/api/config/self_check",
            &Cred::bearer(&api.key(&["operator.read"])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["ok"], true);
    assert!(r.json["checked_at"].is_i64(), "{}", r.text);
    r.json
}

fn rank(sev: &str) -> u8 {
    match sev {
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        other => panic!("severity is high|medium|low, got {other}"),
    }
}

/// Checks the whole answer: exactly `codes` fire, `code` has `severity` and mentions `needle`,
/// warnings are sorted high first, and `risk_level` is the worst severity present.
fn assert_warning(v: &Value, code: &str, severity: &str, needle: &str, codes: &[&str]) {
    let ws = v["warnings"].as_array().unwrap();
    let mut got: Vec<&str> = ws.iter().map(|w| w["code"].as_str().unwrap()).collect();
    got.sort();
    let mut want = codes.to_vec();
    want.sort();
    assert_eq!(got, want, "exactly these warnings fire: {v}");
    let w = ws.iter().find(|w| w["code"] == code).unwrap();
    assert_eq!(w["severity"], severity, "{code}: {w}");
    let text = format!(
        "{} {}",
        w["message"].as_str().unwrap(),
        w["fix"].as_str().unwrap()
    );
    assert!(!w["fix"].as_str().unwrap().is_empty(), "{code} has a fix");
    assert!(text.contains(needle), "{code} names '{needle}': {text}");
    let ranks: Vec<u8> = ws
        .iter()
        .map(|w| rank(w["severity"].as_str().unwrap()))
        .collect();
    assert!(
        ranks.windows(2).all(|p| p[0] >= p[1]),
        "sorted high first: {ranks:?}"
    );
    let worst = ws
        .iter()
        .map(|w| w["severity"].as_str().unwrap())
        .max_by_key(|s| rank(s));
    assert_eq!(
        v["risk_level"],
        worst.unwrap(),
        "risk_level is the worst severity"
    );
}

/// A gateway with `tweak` applied and the password set (so only the case's warning fires).
async fn case(tweak: impl FnOnce(&mut Config)) -> Api {
    let api = start_with(tweak).await;
    api.set_password(PASSWORD);
    api
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_install_with_a_password_has_no_warnings() {
    let v = check(&case(|_| {}).await).await;
    assert_eq!(v["risk_level"], "none", "{v}");
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_with_the_setup_token_open_is_high() {
    let api = start_with(|_| {}).await;
    let v = check(&api).await;
    assert_warning(
        &v,
        "operator_password_missing",
        "high",
        "password",
        &["operator_password_missing"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_warnings_each_fire_with_their_severity_and_key() {
    type Tweak = fn(&mut Config);
    let cases: Vec<(&str, &str, &str, Tweak, &[&str])> = vec![
        (
            "bind_not_loopback_without_tls",
            "high",
            "server.behind_tls",
            |c| c.server.host = "0.0.0.0".into(),
            &["bind_not_loopback_without_tls"],
        ),
        (
            "allowed_origins_wildcard",
            "high",
            "server.allowed_origins",
            |c| c.server.allowed_origins = vec!["*".into()],
            &["allowed_origins_wildcard"],
        ),
        (
            "login_throttle_weak",
            "medium",
            "auth.login_max_attempts",
            |c| c.auth.login_max_attempts = 21,
            &["login_throttle_weak"],
        ),
        (
            "login_throttle_weak",
            "medium",
            "auth.login_window_seconds",
            |c| c.auth.login_window_seconds = 9,
            &["login_throttle_weak"],
        ),
        (
            "trust_forwarded_for_on_loopback",
            "medium",
            "server.trust_x_forwarded_for",
            |c| c.server.trust_x_forwarded_for = true,
            &["trust_forwarded_for_on_loopback"],
        ),
        (
            "otlp_enabled_without_endpoint",
            "high",
            "observability.otlp_endpoint",
            |c| c.observability.otlp_enabled = true,
            &["otlp_enabled_without_endpoint"],
        ),
        (
            "otlp_queue_capacity_low",
            "medium",
            "observability.otlp_queue_capacity",
            |c| {
                c.observability.otlp_enabled = true;
                c.observability.otlp_endpoint = "http://127.0.0.1:9".into();
                c.observability.otlp_queue_capacity = 8;
            },
            &["otlp_queue_capacity_low"],
        ),
        (
            "otlp_retry_attempts_too_low",
            "medium",
            "observability.otlp_retry_max_attempts",
            |c| {
                c.observability.otlp_enabled = true;
                c.observability.otlp_endpoint = "http://127.0.0.1:9".into();
                c.observability.otlp_retry_max_attempts = 1;
            },
            &["otlp_retry_attempts_too_low"],
        ),
        (
            "metrics_retention_short",
            "low",
            "metrics.history_retention_days",
            |c| c.metrics.history_retention_days = 3,
            &["metrics_retention_short"],
        ),
        (
            "prometheus_public_off_loopback",
            "high",
            "metrics.prometheus_public",
            |c| {
                c.metrics.prometheus_public = true;
                c.server.host = "0.0.0.0".into();
            },
            &[
                "prometheus_public_off_loopback",
                "bind_not_loopback_without_tls",
            ],
        ),
        (
            "sqlite_sync_off",
            "high",
            "storage.synchronous",
            |c| c.storage.synchronous = Synchronous::Off,
            &["sqlite_sync_off"],
        ),
    ];
    for (code, severity, key, tweak, codes) in cases {
        let v = check(&case(tweak).await).await;
        assert_warning(&v, code, severity, key, codes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_severities_sort_high_first_and_risk_is_the_worst() {
    let api = case(|c| {
        c.metrics.history_retention_days = 3;
        c.auth.login_max_attempts = 50;
        c.storage.synchronous = Synchronous::Off;
    })
    .await;
    let v = check(&api).await;
    assert_warning(
        &v,
        "sqlite_sync_off",
        "high",
        "storage.synchronous",
        &[
            "sqlite_sync_off",
            "login_throttle_weak",
            "metrics_retention_short",
        ],
    );
    let order: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["severity"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["high", "medium", "low"]);
    let low_only = check(&case(|c| c.metrics.history_retention_days = 1).await).await;
    assert_eq!(low_only["risk_level"], "low");
    let medium = check(&case(|c| c.auth.login_window_seconds = 1).await).await;
    assert_eq!(medium["risk_level"], "medium");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_key_without_expiry_is_medium() {
    let api = case(|_| {}).await;
    let (id, _) = api.key_full(&["operator.admin"]);
    let v = check(&api).await;
    assert_warning(
        &v,
        "api_key_admin_no_expiry",
        "medium",
        "expires_days",
        &["api_key_admin_no_expiry"],
    );
    let w = &v["warnings"][0];
    assert!(
        w["message"].as_str().unwrap().contains(&id.to_string()),
        "names the key: {w}"
    );
    // An expiring admin key is fine.
    let api = case(|_| {}).await;
    microclaw_engine::ops::auth::key_create_blocking(
        &api.engine,
        "t",
        "exp",
        &["operator.admin".into()],
        Some(30),
    )
    .unwrap();
    assert_eq!(check(&api).await["risk_level"], "none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_unused_for_90_days_is_low() {
    let clock = ManualClock::new(1_700_000_000_000);
    let api = start_full(|_| {}, Some(Arc::new(clock.clone()))).await;
    api.set_password(PASSWORD);
    let (old, _) = api.key_full(&["operator.read"]);
    clock.advance_ms(89 * 86_400_000);
    assert_eq!(
        check(&api).await["risk_level"],
        "none",
        "89 days is not stale yet"
    );
    clock.advance_ms(2 * 86_400_000);
    let v = check(&api).await;
    // The reader keys made by check() were just used; only the old one is stale.
    assert_warning(
        &v,
        "api_key_stale",
        "low",
        &format!("revoke key {old}"),
        &["api_key_stale"],
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_readable_data_dir_or_database_is_high() {
    use std::os::unix::fs::PermissionsExt;
    let api = case(|_| {}).await;
    let db = api.data_dir().join(microclaw_engine::DB_FILE_NAME);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let v = check(&api).await;
    assert_warning(
        &v,
        "data_dir_permissions_open",
        "high",
        "chmod 600",
        &["data_dir_permissions_open"],
    );
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(api.data_dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let v = check(&api).await;
    assert_warning(
        &v,
        "data_dir_permissions_open",
        "high",
        "chmod 700",
        &["data_dir_permissions_open"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firing_slo_burn_alert_is_high() {
    let api = case(|_| {}).await;
    // The built-in SLOs need 30 samples and `for` 2m before paging (a handful of failures
    // cannot page); this SLO file lets 3 failures fire at once.
    let defs = microclaw_metrics::slo_file::parse(
        "slos.toml",
        "[[slo]]\nname = \"request_success_rate\"\nobjective = 0.995\nsli = \"request_success\"\nmin_samples = 3\n[[slo.alert]]\nlong = \"1h\"\nshort = \"5m\"\nfactor = 14.4\nseverity = \"page\"\nfor = \"0m\"\n",
    )
    .unwrap();
    api.engine.metrics_engine().set_slo_defs(defs);
    for _ in 0..3 {
        let (_, _, outcome) =
            microclaw_engine::ops::chat::send_and_wait(&api.engine, Some("bad"), "/fail")
                .await
                .unwrap();
        assert_eq!(
            outcome.state.as_str(),
            "error",
            "/fail ends the run in error"
        );
    }
    let events = api.engine.metrics_engine().evaluate_alerts().unwrap();
    assert!(
        !events.is_empty(),
        "every request failed: the burn alerts fire"
    );
    let v = check(&api).await;
    let w = v["warnings"].as_array().unwrap();
    assert!(w.iter().all(|w| w["code"] == "slo_burn_active"), "{v}");
    assert_warning(
        &v,
        "slo_burn_active",
        "high",
        "runbook",
        &vec!["slo_burn_active"; w.len()],
    );
}
