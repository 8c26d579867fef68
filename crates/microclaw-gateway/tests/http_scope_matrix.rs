//! The scope matrix: every endpoint of the spec's scope table (http-api.md, "Credentials")
//! called with every credential kind, checked against the status the table implies.
//! The table below is written from the spec, not from `scopes.rs`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod http_common;

use http_common::{start_with, Api, Cred, Resp, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

/// What the spec's table says an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Need {
    Public,
    Read,
    Write,
    Approvals,
    Admin,
}

/// The credential kinds of the matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    None,
    BadKey,
    ReadKey,
    WriteKey,
    AdminKey,
    ApprovalsKey,
    CookieNoCsrf,
    CookieCsrf,
}

const KINDS: [Kind; 8] = [
    Kind::None,
    Kind::BadKey,
    Kind::ReadKey,
    Kind::WriteKey,
    Kind::AdminKey,
    Kind::ApprovalsKey,
    Kind::CookieNoCsrf,
    Kind::CookieCsrf,
];

/// The status class the spec implies: 2 (success), 401 or 403.
fn expected(need: Need, kind: Kind) -> u16 {
    use Kind::*;
    if need == Need::Public {
        return 2; // public: no credential needed
    }
    match kind {
        None | BadKey => 401, // no credential, or a Bearer that is not a key (no fall-through)
        AdminKey | CookieCsrf => 2, // admin passes every check; a session carries every scope
        CookieNoCsrf if need == Need::Read => 2, // CSRF is only needed beyond read
        CookieNoCsrf => 403,  // "missing or invalid csrf token"
        ReadKey if need == Need::Read => 2,
        // decisions.md "Scopes": write satisfies read (OpenClaw's rule); nothing implies approvals.
        WriteKey if need == Need::Write || need == Need::Read => 2,
        ApprovalsKey if need == Need::Approvals => 2,
        ReadKey | WriteKey | ApprovalsKey => 403, // otherwise the exact (or implied) scope is needed
    }
}

struct Row {
    method: Method,
    /// `{id}` is replaced by a fresh API key's id before each call.
    path: &'static str,
    body: Option<Value>,
    need: Need,
    /// The call signs out login sessions (password change, logout): fresh cookies afterwards.
    revokes_sessions: bool,
}

fn row(method: Method, path: &'static str, body: Option<Value>, need: Need) -> Row {
    Row {
        method,
        path,
        body,
        need,
        revokes_sessions: false,
    }
}

/// The spec's scope table, one row per endpoint, with a request that succeeds when allowed.
fn table() -> Vec<Row> {
    use Method as M;
    use Need::*;
    let mut rows = vec![
        row(M::GET, "/health", None, Public),
        row(M::GET, "/api/health", None, Public),
        row(M::GET, "/api/auth/status", None, Public),
        row(
            M::POST,
            "/api/auth/login",
            Some(json!({"password": PASSWORD})),
            Public,
        ),
        row(M::GET, "/api/sessions", None, Read),
        row(M::GET, "/api/history?session_key=main", None, Read),
        row(M::GET, "/api/sessions/tree", None, Read),
        row(M::GET, "/api/metrics", None, Read),
        row(M::GET, "/api/metrics/history?minutes=60", None, Read),
        row(M::GET, "/api/metrics/summary", None, Read),
        row(M::GET, "/api/metrics/export", None, Read),
        row(M::GET, "/api/config", None, Read),
        row(M::GET, "/api/config/self_check", None, Read),
        // prometheus_public = false (default): read-scoped
        row(M::GET, "/metrics", None, Read),
        row(
            M::POST,
            "/api/send",
            Some(json!({"session_key": "main", "message": "/echo hi"})),
            Write,
        ),
        row(
            M::POST,
            "/api/sessions/settings",
            Some(json!({"session_key": "main", "label": "Main"})),
            Write,
        ),
        row(
            M::POST,
            "/api/sessions/fork",
            Some(json!({"source_session_key": "main"})),
            Approvals,
        ),
        row(
            M::POST,
            "/api/delete_session",
            Some(json!({"session_key": "never-existed"})),
            Approvals,
        ),
        row(
            M::POST,
            "/api/reset",
            Some(json!({"session_key": "main"})),
            Approvals,
        ),
        row(M::GET, "/api/auth/api_keys", None, Admin),
        row(
            M::POST,
            "/api/auth/api_keys",
            Some(json!({"label": "matrix", "scopes": ["operator.read"]})),
            Admin,
        ),
        row(M::DELETE, "/api/auth/api_keys/{id}", None, Admin),
        row(
            M::POST,
            "/api/auth/api_keys/{id}/rotate",
            Some(json!({})),
            Admin,
        ),
        row(M::GET, "/api/audit", None, Admin),
    ];
    let mut password = row(
        M::POST,
        "/api/auth/password",
        Some(json!({"password": PASSWORD, "current_password": PASSWORD})),
        Admin,
    );
    password.revokes_sessions = true;
    rows.push(password);
    // Last: logout revokes the cookie's session.
    let mut logout = row(M::POST, "/api/auth/logout", None, Public);
    logout.revokes_sessions = true;
    rows.push(logout);
    rows
}

struct Creds {
    read: String,
    write: String,
    admin: String,
    approvals: String,
    cookie_no_csrf: Cred,
    cookie_csrf: Cred,
}

async fn fresh_cookies(api: &Api, c: &mut Creds) {
    let (a, _) = api.login(PASSWORD).await;
    let (b, _) = api.login(PASSWORD).await;
    c.cookie_no_csrf = match a {
        Cred::Cookie {
            session,
            csrf_cookie,
            ..
        } => Cred::Cookie {
            session,
            csrf_cookie,
            csrf_header: None,
        },
        other => other,
    };
    c.cookie_csrf = b;
}

fn cred(c: &Creds, kind: Kind) -> Cred {
    match kind {
        Kind::None => Cred::None,
        Kind::BadKey => Cred::bearer("mk_00000000000000000000000000000000"),
        Kind::ReadKey => Cred::bearer(&c.read),
        Kind::WriteKey => Cred::bearer(&c.write),
        Kind::AdminKey => Cred::bearer(&c.admin),
        Kind::ApprovalsKey => Cred::bearer(&c.approvals),
        Kind::CookieNoCsrf => c.cookie_no_csrf.clone(),
        Kind::CookieCsrf => c.cookie_csrf.clone(),
    }
}

async fn call(api: &Api, r: &Row, cred: &Cred) -> Resp {
    let path = if r.path.contains("{id}") {
        let (id, _) = api.key_full(&["operator.read"]);
        r.path.replace("{id}", &id.to_string())
    } else {
        r.path.to_string()
    };
    api.send(r.method.clone(), &path, cred, r.body.clone())
        .await
}

fn class(status: u16) -> u16 {
    if (200..300).contains(&status) {
        2
    } else {
        status
    }
}

async fn matrix_server() -> (Api, Creds) {
    // Enough login attempts for every login the matrix makes (the throttle has its own tests).
    let api = start_with(|c| c.auth.login_max_attempts = 1000).await;
    api.set_password(PASSWORD);
    microclaw_engine::ops::chat::send_and_wait(&api.engine, Some("main"), "/echo seed")
        .await
        .unwrap();
    let mut creds = Creds {
        read: api.key(&["operator.read"]),
        write: api.key(&["operator.write"]),
        admin: api.key(&["operator.admin"]),
        approvals: api.key(&["operator.approvals"]),
        cookie_no_csrf: Cred::None,
        cookie_csrf: Cred::None,
    };
    fresh_cookies(&api, &mut creds).await;
    (api, creds)
}

/// Runs `rows` × `kinds` and returns every cell whose status differs from the spec.
async fn run_matrix(api: &Api, creds: &mut Creds, rows: &[Row], kinds: &[Kind]) -> Vec<String> {
    let mut mismatches = Vec::new();
    for r in rows {
        for &kind in kinds {
            let c = cred(creds, kind);
            let resp = call(api, r, &c).await;
            let want = expected(r.need, kind);
            let got = class(resp.status);
            if got != want {
                mismatches.push(format!(
                    "{} {} with {kind:?}: expected {}, got {} {}",
                    r.method,
                    r.path,
                    if want == 2 {
                        "2xx".into()
                    } else {
                        want.to_string()
                    },
                    resp.status,
                    resp.text.chars().take(160).collect::<String>()
                ));
            } else if want != 2 {
                // Refusals are the spec's JSON errors with the matching code.
                let code = if want == 401 {
                    "UNAUTHORIZED"
                } else {
                    "FORBIDDEN"
                };
                resp.assert_error(want, code, &format!("{} {} {kind:?}", r.method, r.path));
                if kind == Kind::CookieNoCsrf {
                    assert!(
                        resp.message().contains("csrf"),
                        "a cookie without x-csrf-token is refused for the csrf token: {}",
                        resp.text
                    );
                }
            }
            if r.revokes_sessions && got == 2 {
                fresh_cookies(api, creds).await;
            }
        }
    }
    mismatches
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scoped_endpoint_answers_each_credential_kind_as_the_scope_table_says() {
    let (api, mut creds) = matrix_server().await;
    let rows: Vec<Row> = table()
        .into_iter()
        .filter(|r| r.need != Need::Public)
        .collect();
    assert_eq!(
        rows.len(),
        21,
        "every scoped endpoint of the spec's table is covered"
    );
    let mismatches = run_matrix(&api, &mut creds, &rows, &KINDS).await;
    assert!(
        mismatches.is_empty(),
        "cells that differ from the spec's scope table:\n{}",
        mismatches.join("\n")
    );
    assert!(api.healthy().await, "the server still serves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_endpoints_answer_without_credentials_and_with_valid_ones() {
    let (api, mut creds) = matrix_server().await;
    let rows: Vec<Row> = table()
        .into_iter()
        .filter(|r| r.need == Need::Public)
        .collect();
    assert_eq!(rows.len(), 5, "the spec lists five public endpoints");
    let kinds: Vec<Kind> = KINDS
        .iter()
        .copied()
        .filter(|k| *k != Kind::BadKey)
        .collect();
    let mismatches = run_matrix(&api, &mut creds, &rows, &kinds).await;
    assert!(
        mismatches.is_empty(),
        "public endpoints refused a caller:\n{}",
        mismatches.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_endpoints_ignore_a_bad_bearer_key() {
    let (api, mut creds) = matrix_server().await;
    let rows: Vec<Row> = table()
        .into_iter()
        .filter(|r| r.need == Need::Public)
        .collect();
    let mismatches = run_matrix(&api, &mut creds, &rows, &[Kind::BadKey]).await;
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_text_is_public_when_configured() {
    let api = start_with(|c| c.metrics.prometheus_public = true).await;
    let r = api.get("/metrics", &Cred::None).await;
    assert_eq!(
        r.status, 200,
        "metrics.prometheus_public = true makes GET /metrics public: {}",
        r.text
    );
    let closed = start_with(|_| {}).await;
    closed.get("/metrics", &Cred::None).await.assert_error(
        401,
        "UNAUTHORIZED",
        "GET /metrics is read-scoped by default",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_config_is_admin_scoped() {
    let api = start_with(|_| {}).await;
    let read = api.key(&["operator.read"]);
    let body = Some(json!({}));
    let none = api
        .send(Method::PUT, "/api/config", &Cred::None, body.clone())
        .await;
    let read_r = api
        .send(Method::PUT, "/api/config", &Cred::bearer(&read), body)
        .await;
    none.assert_error(401, "UNAUTHORIZED", "PUT /api/config without credentials");
    read_r.assert_error(403, "FORBIDDEN", "PUT /api/config needs operator.admin");
}
