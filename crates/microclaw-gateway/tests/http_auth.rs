//! First run, login/logout cookies, the login throttle, password changes and the
//! Origin/Host checks on cookie requests (http-api.md, "Password, first run, login").
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod http_common;

use http_common::{cookie_value, read, start, start_with, Cred, PASSWORD};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_needs_the_one_time_setup_token_and_a_password_of_12_chars() {
    let api = start().await;
    let s = api.get("/api/auth/status", &Cred::None).await;
    assert_eq!(s.status, 200);
    assert_eq!(
        s.json["setup_required"], true,
        "no password yet: setup needed"
    );
    assert_eq!(s.json["has_password"], false);
    assert_eq!(s.json["authenticated"], false);
    let token = api
        .engine
        .setup_token()
        .expect("a first run opens a setup token");

    let set = |pw: &str, token: Option<&str>| {
        let mut b = api
            .request(Method::POST, "/api/auth/password", &Cred::None)
            .json(&json!({"password": pw}));
        if let Some(t) = token {
            b = b.header("x-setup-token", t);
        }
        read(b)
    };
    set(PASSWORD, None)
        .await
        .assert_error(401, "UNAUTHORIZED", "no token and no credential");
    set(PASSWORD, Some("not-the-token")).await.assert_error(
        401,
        "UNAUTHORIZED",
        "a wrong setup token",
    );
    let short = set("elevenchars", Some(&token)).await;
    short.assert_error(400, "INVALID_REQUEST", "11 characters is under the minimum");
    assert!(
        short.message().contains("12"),
        "names the minimum: {}",
        short.text
    );
    assert!(
        api.engine.setup_token().is_some(),
        "a refused password leaves the token open"
    );

    let ok = set(PASSWORD, Some(&token)).await;
    assert_eq!(ok.status, 200, "12+ chars with the token: {}", ok.text);
    set("another long password", Some(&token))
        .await
        .assert_error(401, "UNAUTHORIZED", "the setup token works once");

    let s = api.get("/api/auth/status", &Cred::None).await;
    assert_eq!(s.json["has_password"], true);
    assert_eq!(s.json["setup_required"], false);
    api.login(PASSWORD).await; // the password set through the token logs in
}

fn attr(cookie: &str, name: &str) -> Option<String> {
    cookie.split(';').skip(1).find_map(|a| {
        let a = a.trim();
        match a.split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case(name) => Some(v.to_string()),
            None if a.eq_ignore_ascii_case(name) => Some(String::new()),
            _ => None,
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_the_spec_cookies_and_logout_clears_and_revokes_them() {
    let api = start().await;
    api.set_password(PASSWORD);
    let (cookie, r) = api.login(PASSWORD).await;
    let sets = r.set_cookies();
    let session = sets.iter().find(|c| c.starts_with("mc_session=")).unwrap();
    let csrf = sets.iter().find(|c| c.starts_with("mc_csrf=")).unwrap();
    assert_eq!(
        cookie_value(&sets, "mc_session").unwrap(),
        r.json["session_id"].as_str().unwrap(),
        "the cookie carries the session id of the body"
    );
    assert_eq!(
        cookie_value(&sets, "mc_csrf").unwrap(),
        r.json["csrf_token"].as_str().unwrap()
    );
    for (c, http_only) in [(session, true), (csrf, false)] {
        assert_eq!(attr(c, "Path").as_deref(), Some("/"), "{c}");
        assert_eq!(attr(c, "SameSite").as_deref(), Some("Strict"), "{c}");
        assert_eq!(
            attr(c, "HttpOnly").is_some(),
            http_only,
            "only mc_session is HttpOnly (the UI reads mc_csrf): {c}"
        );
        assert!(
            attr(c, "Secure").is_none(),
            "no Secure over plain http: {c}"
        );
        let exp = attr(c, "Expires").expect("Expires attribute");
        let at = httpdate_secs(&exp);
        let body_at = r.json["expires_at"].as_i64().unwrap() / 1000;
        assert!((at - body_at).abs() <= 1, "Expires matches expires_at: {c}");
    }
    let days = (r.json["expires_at"].as_i64().unwrap() - api.engine.now_ms()) as f64 / 86_400_000.0;
    assert!(
        (29.9..=30.0).contains(&days),
        "remember_days defaults to 30: {days}"
    );

    let st = api.get("/api/auth/status", &cookie).await;
    assert_eq!(st.json["authenticated"], true, "the cookie authenticates");
    assert_eq!(api.get("/api/sessions", &cookie).await.status, 200);

    let out = api
        .send(Method::POST, "/api/auth/logout", &cookie, None)
        .await;
    assert_eq!(out.status, 200, "{}", out.text);
    let cleared = out.set_cookies();
    for name in ["mc_session", "mc_csrf"] {
        let c = cleared
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("logout clears {name}: {cleared:?}"));
        assert_eq!(attr(c, "Max-Age").as_deref(), Some("0"), "{c}");
        assert_eq!(cookie_value(&cleared, name).as_deref(), Some(""), "{c}");
    }
    api.get("/api/sessions", &cookie).await.assert_error(
        401,
        "UNAUTHORIZED",
        "a logged-out session is revoked on the server too",
    );
}

/// Seconds since the epoch of an HTTP date like `Sun, 06 Nov 1994 08:49:37 GMT`.
fn httpdate_secs(s: &str) -> i64 {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let day: i64 = parts[1].parse().unwrap();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == parts[2]).unwrap() as i64 + 1;
    let year: i64 = parts[3].parse().unwrap();
    let hms: Vec<i64> = parts[4].split(':').map(|x| x.parse().unwrap()).collect();
    // days from civil (Howard Hinnant's algorithm)
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remember_days_is_clamped_to_1_through_90() {
    let api = start().await;
    api.set_password(PASSWORD);
    for (asked, want) in [(0, 1.0), (7, 7.0), (365, 90.0)] {
        let r = api
            .post(
                "/api/auth/login",
                &Cred::None,
                json!({"password": PASSWORD, "remember_days": asked}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let days =
            (r.json["expires_at"].as_i64().unwrap() - api.engine.now_ms()) as f64 / 86_400_000.0;
        assert!(
            (want - 0.01..=want).contains(&days),
            "remember_days {asked} → {want} days, got {days}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_401_and_audited() {
    let api = start().await;
    api.set_password(PASSWORD);
    let r = api
        .post(
            "/api/auth/login",
            &Cred::None,
            json!({"password": "wrong password!"}),
        )
        .await;
    r.assert_error(401, "UNAUTHORIZED", "wrong password");
    assert!(r.message().contains("invalid credentials"), "{}", r.text);
    assert!(r.set_cookies().is_empty(), "no cookies for a failed login");
    let rows = api
        .engine
        .store()
        .audit_list(10, Some("auth.login_failed"))
        .unwrap();
    assert_eq!(rows.len(), 1, "failed logins are audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_throttle_answers_429_with_the_cooldown_then_lets_the_right_password_in() {
    let api = start_with(|c| {
        c.auth.login_window_seconds = 2;
        c.auth.login_max_attempts = 3;
    })
    .await;
    api.set_password(PASSWORD);
    let wrong = json!({"password": "not the password"});
    for i in 0..3 {
        let r = api
            .post("/api/auth/login", &Cred::None, wrong.clone())
            .await;
        r.assert_error(
            401,
            "UNAUTHORIZED",
            &format!("attempt {i} is within the limit"),
        );
    }
    let r = api
        .post(
            "/api/auth/login",
            &Cred::None,
            json!({"password": PASSWORD}),
        )
        .await;
    r.assert_error(
        429,
        "RATE_LIMITED",
        "the 4th attempt in the window, even with the right password",
    );
    let secs: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!(
        (1..=2).contains(&secs),
        "Retry-After is the remaining part of a 2 s window: {secs}"
    );
    assert!(
        r.message().contains(&format!("{secs} s")),
        "the message carries the same number: {}",
        r.text
    );
    tokio::time::sleep(Duration::from_millis(secs * 1000 + 100)).await;
    let r = api
        .post(
            "/api/auth/login",
            &Cred::None,
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(
        r.status, 200,
        "after the cooldown the right password succeeds: {}",
        r.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_throttle_is_per_client() {
    let api = start_with(|c| {
        c.auth.login_max_attempts = 2;
        c.server.trust_x_forwarded_for = true;
    })
    .await;
    api.set_password(PASSWORD);
    let attempt = |ip: &'static str| {
        read(
            api.request(Method::POST, "/api/auth/login", &Cred::None)
                .header("x-forwarded-for", ip)
                .json(&json!({"password": "not the password"})),
        )
    };
    attempt("10.0.0.1").await;
    attempt("10.0.0.1").await;
    assert_eq!(
        attempt("10.0.0.1").await.status,
        429,
        "10.0.0.1 used its attempts"
    );
    assert_eq!(
        attempt("10.0.0.2").await.status,
        401,
        "another client has its own bucket (ours: MicroClaw shared one)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_signs_out_other_sessions_but_not_the_callers() {
    let api = start().await;
    api.set_password(PASSWORD);
    let (mine, _) = api.login(PASSWORD).await;
    let (other, _) = api.login(PASSWORD).await;
    let new_pw = "a brand new passphrase";
    let r = api
        .post(
            "/api/auth/password",
            &mine,
            json!({"password": new_pw, "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        api.get("/api/sessions", &mine).await.status,
        200,
        "the caller stays in"
    );
    api.get("/api/sessions", &other).await.assert_error(
        401,
        "UNAUTHORIZED",
        "the other session was revoked",
    );
    api.post(
        "/api/auth/login",
        &Cred::None,
        json!({"password": PASSWORD}),
    )
    .await
    .assert_error(401, "UNAUTHORIZED", "the old password no longer works");
    api.login(new_pw).await;
    let short = api
        .post("/api/auth/password", &mine, json!({"password": "short"}))
        .await;
    short.assert_error(
        400,
        "INVALID_REQUEST",
        "a new password needs 12 characters too",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_requests_check_origin_and_host_but_bearer_requests_do_not() {
    let api = start().await;
    api.set_password(PASSWORD);
    let (cookie, _) = api.login(PASSWORD).await;
    let key = api.key(&["operator.read"]);
    let own = format!("http://{}", api.addr);
    let rebound_host = format!("evil.example:{}", api.addr.port());
    let get = |cred: &Cred, origin: Option<&str>, host: Option<&str>| {
        let mut b = api.request(Method::GET, "/api/sessions", cred);
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        if let Some(h) = host {
            b = b.header("host", h);
        }
        read(b)
    };
    assert_eq!(
        get(&cookie, None, None).await.status,
        200,
        "no Origin: not a browser"
    );
    assert_eq!(
        get(&cookie, Some(&own), None).await.status,
        200,
        "same origin"
    );
    get(&cookie, Some("http://evil.example"), None)
        .await
        .assert_error(403, "FORBIDDEN", "a foreign Origin with the cookie");
    get(
        &cookie,
        Some(&format!("http://{rebound_host}")),
        Some(&rebound_host),
    )
    .await
    .assert_error(403, "FORBIDDEN", "DNS rebinding: a foreign Host");
    get(&cookie, None, Some(&rebound_host)).await.assert_error(
        403,
        "FORBIDDEN",
        "a foreign Host alone is refused for cookies",
    );
    let r = get(
        &Cred::bearer(&key),
        Some("http://evil.example"),
        Some(&rebound_host),
    )
    .await;
    assert_eq!(
        r.status, 200,
        "Bearer keys are not browser credentials: {}",
        r.text
    );
}
