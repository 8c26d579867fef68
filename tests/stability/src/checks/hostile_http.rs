//! Promise 3 (HTTP): every endpoint that reads a body, and the query strings, answer hostile
//! input with the documented JSON errors (400/413/415/422), never a 5xx, a plain-text body
//! or a hang; other clients keep being served and memory stays bounded.

use super::canary::Canary;
use super::hostile_bridge_cases::deep;
use crate::cli;
use crate::env::Env;
use crate::http::{short, Http, Resp};
use crate::procfs;
use crate::report::CheckResult;
use crate::server::{Server, StartOpts};
use std::time::Duration;

/// Default `server.max_body_bytes`.
const MAX_BODY: usize = 1 << 20;
const RSS_GROWTH_LIMIT_KB: u64 = 200 * 1024;
const CANARY_MAX_MS: u64 = 2000;

/// (path, reads a JSON body). Logout ignores its body; the rest must validate it.
const BODY_ENDPOINTS: &[(&str, bool)] = &[
    ("/api/auth/login", true),
    ("/api/auth/logout", false),
    ("/api/auth/password", true),
    ("/api/auth/api_keys", true),
    ("/api/auth/api_keys/999/rotate", true),
    ("/api/sessions/fork", true),
    ("/api/delete_session", true),
    ("/api/reset", true),
    ("/api/sessions/settings", true),
    ("/api/send", true),
];

const BAD_QUERIES: &[&str] = &[
    "/api/history?session_key=x&limit=abc",
    "/api/history?session_key=x&limit=-5",
    "/api/metrics/history?minutes=0",
    "/api/metrics/history?minutes=99999999999",
    "/api/metrics/history?minutes=5&step=7",
    "/api/sessions?limit=-1",
    "/api/sessions/tree?limit=abc",
    "/api/audit?limit=0",
    "/api/metrics/export?format=exe",
];

/// (case name, content type, body, statuses allowed for a body-reading endpoint).
fn corpus() -> Vec<(&'static str, &'static str, Vec<u8>, &'static [u16])> {
    let json = "application/json";
    vec![
        ("malformed JSON", json, b"{\"session_key\":".to_vec(), &[400]),
        ("wrong content type", "text/plain", b"{\"session_key\":\"a\"}".to_vec(), &[415]),
        ("no content type", "", b"{\"session_key\":\"a\"}".to_vec(), &[415]),
        ("oversized body", json, format!("{{\"session_key\":\"{}\"}}", "x".repeat(MAX_BODY + 16)).into_bytes(), &[413]),
        ("wrong types", json, br#"{"session_key":5,"source_session_key":[1],"password":7,"label":{},"scopes":"x","message":false}"#.to_vec(), &[400, 422]),
        ("deep nesting", json, deep(100_000).into_bytes(), &[400, 422]),
        ("invalid UTF-8", json, b"{\"session_key\":\"\xff\xfe\",\"source_session_key\":\"\xff\",\"label\":\"\xfd\",\"password\":\"\xff\xff\",\"message\":\"\xc3\x28\"}".to_vec(), &[400, 422]),
        ("JSON null", json, b"null".to_vec(), &[400, 422]),
        ("JSON array", json, b"[1,2,3]".to_vec(), &[400, 422]),
        ("huge unknown field", json, format!("{{\"unused\":\"{}\"}}", "y".repeat(MAX_BODY - 64)).into_bytes(), &[400, 404, 422]),
    ]
}

/// A documented error: JSON `{ok:false, error:{code, message}}` with a 4xx status.
fn documented(r: &Resp, allowed: &[u16]) -> Result<(), String> {
    if !allowed.contains(&r.status) {
        return Err(format!(
            "status {} (expected one of {allowed:?}): {}",
            r.status,
            short(&r.text)
        ));
    }
    if !r.content_type.starts_with("application/json")
        || r.json["ok"] != false
        || !r.json["error"]["code"].is_string()
    {
        return Err(format!(
            "status {} without a JSON error body (content-type '{}'): {}",
            r.status,
            r.content_type,
            short(&r.text)
        ));
    }
    Ok(())
}

/// Catches: handlers that panic (5xx) or hang on bad bodies, extractor rejections that
/// leak axum's plain-text bodies, missing size limits, and memory growth from big bodies.
pub async fn run(env: &Env) -> CheckResult {
    let dir = env.data_dir("hostile-http");
    let admin = cli::create_key(env, &dir, "hostile-http-admin", "operator.admin").await?;
    let mut o = StartOpts::new("hostile-http", &dir);
    o.debug_log = true;
    let server = Server::start(env, &o).await?;
    let rss_before = procfs::rss_kb(server.pid)?;
    let canary = Canary::start(server.addr, &admin, Duration::from_millis(100)).await?;
    let http = Http::new(&server.http())?;
    let mut failures = Vec::new();
    let mut n = 0;
    for (path, reads_body) in BODY_ENDPOINTS {
        for (case, ct, body, allowed) in corpus() {
            n += 1;
            let ct = (!ct.is_empty()).then_some(ct);
            match http.raw("POST", path, Some(&admin), ct, body).await {
                // An endpoint that ignores its body may answer before the upload ends.
                Err(_) if !reads_body => {}
                Err(e) => failures.push(format!("POST {path} {case}: {e}")),
                Ok(r) if !reads_body => {
                    if r.status >= 500 || r.json.is_null() {
                        failures.push(format!(
                            "POST {path} {case}: status {} body {}",
                            r.status,
                            short(&r.text)
                        ));
                    }
                }
                Ok(r) => {
                    if let Err(e) = documented(&r, allowed) {
                        failures.push(format!("POST {path} {case}: {e}"));
                    }
                }
            }
        }
    }
    for q in BAD_QUERIES {
        n += 1;
        match http.get(q, Some(&admin)).await {
            Err(e) => failures.push(format!("GET {q}: {e}")),
            Ok(r) => {
                if let Err(e) = documented(&r, &[400, 422]) {
                    failures.push(format!("GET {q}: {e}"));
                }
            }
        }
    }
    n += 1;
    if let Err(e) = http
        .raw(
            "DELETE",
            "/api/auth/api_keys/abc",
            Some(&admin),
            None,
            Vec::new(),
        )
        .await
        .and_then(|r| documented(&r, &[400, 404]))
    {
        failures.push(format!("DELETE /api/auth/api_keys/abc: {e}"));
    }
    // 32 concurrent 4 MiB bodies: refused with 413 without buffering them all.
    let big = vec![b'z'; 4 << 20];
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (http, admin, body) = (http.clone(), admin.clone(), big.clone());
            tokio::spawn(async move {
                http.raw(
                    "POST",
                    "/api/send",
                    Some(&admin),
                    Some("application/json"),
                    body,
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        match t.await {
            Ok(Ok(r)) if r.status == 413 => {}
            Ok(Ok(r)) => failures.push(format!(
                "concurrent 4 MiB body: status {} {}",
                r.status,
                short(&r.text)
            )),
            // The server may cut the upload short after answering 413: a reset is fine.
            Ok(Err(_)) => {}
            Err(e) => failures.push(format!("concurrent body task: {e}")),
        }
    }
    let stats = canary.finish().await;
    let hwm = procfs::status_kb(server.pid, "VmHWM").unwrap_or(0);
    let alive = http.get("/api/health", None).await.map(|r| r.status);
    let _ = server.stop(Duration::from_secs(15)).await;
    match stats {
        Err(e) => failures.push(e),
        Ok(s) if s.max() > CANARY_MAX_MS => failures.push(format!(
            "a well-behaved client waited {} ms (limit {CANARY_MAX_MS})",
            s.max()
        )),
        Ok(_) => {}
    }
    if alive != Ok(200) {
        failures.push(format!("GET /api/health after the corpus: {alive:?}"));
    }
    if hwm.saturating_sub(rss_before) > RSS_GROWTH_LIMIT_KB {
        failures.push(format!(
            "peak RSS grew {} MB (limit {} MB)",
            (hwm - rss_before) / 1024,
            RSS_GROWTH_LIMIT_KB / 1024
        ));
    }
    if failures.is_empty() {
        Ok(format!(
            "{n} cases + 32 concurrent oversized bodies ok; RSS {} MB → peak {} MB",
            rss_before / 1024,
            hwm / 1024
        ))
    } else {
        Err(format!(
            "{} of {n} cases broke: {}",
            failures.len(),
            failures
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}
