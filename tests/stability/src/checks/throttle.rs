//! Promise 2: throttles recover. Over the limit → 429 / RATE_LIMITED (503 / UNAVAILABLE for a
//! full session queue) with a retry hint; after that long the same request succeeds. Login,
//! per-key and per-session-queue limits.

use crate::bridge::{is_terminal, Conn};
use crate::cli;
use crate::env::Env;
use crate::http::{short, Http, Resp};
use crate::report::CheckResult;
use crate::server::{Server, StartOpts};
use serde_json::json;
use std::time::{Duration, Instant};

const PASSWORD: &str = "stability smoke password 7f3a!";
const LOGIN_WINDOW: u64 = 4;
const KEY_LIMIT: u64 = 10;

pub async fn run(env: &Env) -> Vec<(&'static str, CheckResult, f64)> {
    let names = [
        "throttle_login_recovers",
        "throttle_session_queue_recovers",
        "throttle_api_key_recovers",
    ];
    let dir = env.data_dir("throttle");
    let setup = async {
        cli::set_password(env, &dir, PASSWORD).await?;
        let admin = cli::create_key(env, &dir, "throttle-admin", "operator.admin").await?;
        let reader = cli::create_key(env, &dir, "throttle-read", "operator.read").await?;
        let other = cli::create_key(env, &dir, "throttle-other", "operator.read").await?;
        let mut o = StartOpts::new("throttle", &dir)
            .set("MICROCLAW_AUTH__LOGIN_WINDOW_SECONDS", LOGIN_WINDOW)
            .set("MICROCLAW_AUTH__API_KEY_RATE_LIMIT_PER_MINUTE", KEY_LIMIT)
            .set("MICROCLAW_SESSIONS__MAX_QUEUED_PER_SESSION", 1);
        o.debug_log = true;
        let server = Server::start(env, &o).await?;
        Ok::<_, String>((server, admin, reader, other))
    };
    let (server, admin, reader, other) = match setup.await {
        Ok(s) => s,
        Err(e) => {
            return names
                .iter()
                .map(|n| (*n, Err(format!("setup failed: {e}")), 0.0))
                .collect()
        }
    };
    let mut out = Vec::new();
    let t = Instant::now();
    out.push((
        names[0],
        login_recovers(env, &server).await,
        t.elapsed().as_secs_f64(),
    ));
    let t = Instant::now();
    out.push((
        names[1],
        session_queue_recovers(&server, &admin).await,
        t.elapsed().as_secs_f64(),
    ));
    let t = Instant::now();
    out.push((
        names[2],
        api_key_recovers(&server, &reader, &other).await,
        t.elapsed().as_secs_f64(),
    ));
    let _ = server.stop(Duration::from_secs(15)).await;
    out
}

/// The `Retry-After` header as whole seconds.
fn retry_after(r: &Resp) -> Result<u64, String> {
    r.retry_after
        .as_deref()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            format!(
                "{} without a numeric Retry-After header: {}",
                r.status,
                short(&r.text)
            )
        })
}

/// Catches: a throttle that never lets the client back in (a window that keeps sliding on
/// refused attempts), a missing/incorrect Retry-After, or no throttle at all.
async fn login_recovers(env: &Env, server: &Server) -> CheckResult {
    let http = Http::new(&server.http())?;
    for i in 0..5 {
        let wrong = format!(
            "wrong password number {i} {}",
            uuid::Uuid::new_v4().simple()
        );
        env.secret(&wrong);
        let r = http
            .post_json("/api/auth/login", None, &json!({"password": wrong}))
            .await?;
        if r.status != 401 {
            return Err(format!(
                "wrong password attempt {i} answered {}, expected 401: {}",
                r.status,
                short(&r.text)
            ));
        }
    }
    let r = http
        .post_json("/api/auth/login", None, &json!({"password": PASSWORD}))
        .await?;
    if r.status != 429 {
        return Err(format!(
            "the 6th attempt within {LOGIN_WINDOW} s answered {}, expected 429: {}",
            r.status,
            short(&r.text)
        ));
    }
    if r.json["error"]["code"] != "RATE_LIMITED" {
        return Err(format!(
            "429 body is not a RATE_LIMITED error: {}",
            short(&r.text)
        ));
    }
    let wait = retry_after(&r)?;
    if wait == 0 || wait > LOGIN_WINDOW {
        return Err(format!(
            "Retry-After {wait} is outside 1..={LOGIN_WINDOW} (the cooldown window)"
        ));
    }
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 300)).await;
    let r = http
        .post_json("/api/auth/login", None, &json!({"password": PASSWORD}))
        .await?;
    if r.status != 200 {
        return Err(format!(
            "the correct password {wait} s after the 429 (its Retry-After) answered {}: {}",
            r.status,
            short(&r.text)
        ));
    }
    for k in ["session_id", "csrf_token"] {
        if let Some(s) = r.json[k].as_str() {
            env.secret(s);
        }
    }
    if !r.set_cookie.iter().any(|c| c.starts_with("mc_session=")) {
        return Err("the successful login set no mc_session cookie".into());
    }
    Ok(format!(
        "429 with Retry-After {wait}; login succeeded after it"
    ))
}

/// Catches: a per-session queue bound that is not enforced (decisions.md: one active run per
/// session, at most `sessions.max_queued_per_session` messages waiting behind it, beyond that
/// UNAVAILABLE with a retry hint), or a queue that never drains (the session stays blocked).
async fn session_queue_recovers(server: &Server, admin: &str) -> CheckResult {
    let mut conn = Conn::connect(server.addr, admin, 4).await?;
    let first = conn
        .call(
            "chat.send",
            json!({"sessionKey": "throttled", "message": "/slow 1.5"}),
        )
        .await?;
    let run_id = first["runId"]
        .as_str()
        .ok_or("chat.send payload has no runId")?
        .to_string();
    let queued = conn
        .call(
            "chat.send",
            json!({"sessionKey": "throttled", "message": "/echo queued"}),
        )
        .await
        .map_err(|e| {
            format!("a 2nd message on a busy session with a queue of 1 was not queued: {e}")
        })?;
    if queued["status"] != "accepted" {
        return Err(format!(
            "a 2nd message behind the active run was acknowledged {queued}, expected status \"accepted\" (queued)"
        ));
    }
    let queued_id = queued["runId"]
        .as_str()
        .ok_or("the queued chat.send payload has no runId")?
        .to_string();
    let res = conn
        .request(
            "chat.send",
            json!({"sessionKey": "throttled", "message": "/echo third"}),
            Duration::from_secs(10),
        )
        .await?;
    if res["ok"] == true || res["error"]["code"] != "UNAVAILABLE" {
        return Err(format!(
            "a 3rd message with the session's queue of 1 full was not refused with UNAVAILABLE: {res}"
        ));
    }
    if res["error"]["retryable"] != true || !res["error"]["retryAfterMs"].is_u64() {
        return Err(format!(
            "UNAVAILABLE without retryable/retryAfterMs: {}",
            res["error"]
        ));
    }
    let http = Http::new(&server.http())?;
    let r = http
        .post_json(
            "/api/send",
            Some(admin),
            &json!({"session_key": "throttled", "message": "/echo http"}),
        )
        .await?;
    if r.status != 503 {
        return Err(format!(
            "POST /api/send on the session with a full queue answered {}, expected 503: {}",
            r.status,
            short(&r.text)
        ));
    }
    retry_after(&r)?;
    for (id, what) in [(&run_id, "the /slow run"), (&queued_id, "the queued run")] {
        let end = conn
            .wait_event(|e| is_terminal(e, id), Duration::from_secs(10))
            .await
            .map_err(|e| format!("{what}: {e}"))?;
        if end["payload"]["state"] != "final" {
            return Err(format!(
                "{what} ended as {}, expected final",
                end["payload"]["state"]
            ));
        }
    }
    let again = conn
        .request(
            "chat.send",
            json!({"sessionKey": "throttled", "message": "/echo after"}),
            Duration::from_secs(10),
        )
        .await?;
    conn.close().await;
    if again["ok"] != true {
        return Err(format!(
            "after the queue drained the session still refuses messages: {}",
            again["error"]
        ));
    }
    Ok("2nd message queued, 3rd refused UNAVAILABLE (bridge) / 503 (HTTP) while busy; accepted after the queue drained".into())
}

/// Catches: a per-key limit that is global (throttles other keys), never resets, or answers
/// without Retry-After.
async fn api_key_recovers(server: &Server, key: &str, other: &str) -> CheckResult {
    let http = Http::new(&server.http())?;
    let started = Instant::now();
    let mut limited = None;
    for i in 0..(KEY_LIMIT * 3) {
        let r = http.get("/api/sessions?limit=1", Some(key)).await?;
        match r.status {
            200 => continue,
            429 => {
                limited = Some((i, r));
                break;
            }
            s => return Err(format!("request {i} answered {s}: {}", short(&r.text))),
        }
    }
    let Some((i, r)) = limited else {
        return Err(format!(
            "{} requests with one key were never limited (limit {KEY_LIMIT}/min)",
            KEY_LIMIT * 3
        ));
    };
    if i < KEY_LIMIT {
        return Err(format!(
            "limited after only {i} requests; the limit is {KEY_LIMIT} per minute"
        ));
    }
    let wait = retry_after(&r)?;
    if wait == 0 || wait > 60 {
        return Err(format!("Retry-After {wait} is outside 1..=60"));
    }
    let o = http.get("/api/sessions?limit=1", Some(other)).await?;
    if o.status != 200 {
        return Err(format!(
            "another key was throttled too ({}): the limit is not per key",
            o.status
        ));
    }
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 300)).await;
    let r = http.get("/api/sessions?limit=1", Some(key)).await?;
    if r.status != 200 {
        return Err(format!(
            "{} s after the 429 (Retry-After {wait}) the key still gets {}",
            started.elapsed().as_secs(),
            r.status
        ));
    }
    Ok(format!(
        "limited after {i} requests, Retry-After {wait}, recovered"
    ))
}
