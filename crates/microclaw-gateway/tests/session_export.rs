//! Issue 17 over the real gateway: `GET /api/sessions/export` (Markdown / JSON, streamed over
//! several store pages) and `sessions.export` (bounded pages), plus `search` in message text
//! through both `GET /api/sessions` and `sessions.list`.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{start, TestServer, WAIT};
use microclaw_store::{RunBegin, RunEnd, RunReply};
use serde_json::{json, Value};

/// `n` alternating user/assistant messages in `key`, then a run that failed with a timeout.
async fn seed(srv: &TestServer, key: &'static str, n: usize) {
    srv.engine
        .store()
        .write_async(move |s| {
            for i in 0..n {
                let role = if i % 2 == 0 { "user" } else { "assistant" };
                s.message_append(
                    key,
                    role,
                    &format!("line {i} about the zeppelin"),
                    1_000 + i as i64,
                )?;
            }
            let begun = s.run_begin(&RunBegin {
                run_id: format!("run-{key}"),
                session_key: key.into(),
                idempotency_key: None,
                message: "and now?".into(),
                history_limit: 5,
                now: 900_000,
            })?;
            s.run_complete(&RunEnd {
                run_id: format!("run-{key}"),
                session_key: key.into(),
                generation: begun.generation,
                state: "error".into(),
                error_message: Some("model timed out".into()),
                reply: Some(RunReply {
                    text: "partial answ".into(),
                    stop_reason: Some("timeout".into()),
                    error_message: Some("model timed out".into()),
                }),
                now: 900_001,
            })?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn get(srv: &TestServer, key: &str, path: &str) -> (u16, String, String, String) {
    let r = reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .unwrap()
        .get(format!("http://{}{path}", srv.addr))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let header = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (r.status().as_u16(), ct, cd, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_export_markdown_and_json_cover_every_page_and_mark_failed_runs() {
    let srv = start().await;
    let read = srv.key(&["operator.read"]);
    // 1203 messages + the run's 2: more than two store pages of 500.
    seed(&srv, "big one", 1203).await;

    let (status, ct, cd, md) = get(
        &srv,
        &read,
        "/api/sessions/export?session_key=big%20one&format=md",
    )
    .await;
    assert_eq!(status, 200, "{md}");
    assert!(ct.starts_with("text/markdown"), "{ct}");
    assert_eq!(cd, "attachment; filename=\"big_one.md\"");
    assert!(
        md.starts_with("# big one\n\n- Session key: `big one`\n"),
        "{}",
        &md[..200]
    );
    assert!(md.contains("- Messages: 1205\n"));
    assert_eq!(
        md.matches("\n## user · ").count() + md.matches("\n## assistant · ").count(),
        1205
    );
    let first = md.find("line 0 about").unwrap();
    let last = md.find("line 1202 about").unwrap();
    assert!(first < last, "oldest first");
    assert!(md.contains("## user · 1970-01-01T00:00:01Z\n\nline 0 about the zeppelin\n"));
    assert!(
        md.contains("> **Run failed** (stopReason: `timeout`): model timed out\n\npartial answ\n"),
        "the failed run is marked"
    );

    let (status, ct, _, body) = get(
        &srv,
        &read,
        "/api/sessions/export?sessionKey=big%20one&format=json",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(ct.starts_with("application/json"), "{ct}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["session"]["key"], "big one");
    assert_eq!(v["complete"], true);
    let msgs = v["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1205);
    let ids: Vec<i64> = msgs.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ascending ids, no page repeated"
    );
    let failed = msgs.last().unwrap();
    assert_eq!(failed["stopReason"], "timeout");
    assert_eq!(failed["errorMessage"], "model timed out");
    assert_eq!(msgs[0]["text"], "line 0 about the zeppelin");
    assert!(msgs[0].get("stopReason").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_export_errors_are_json_and_need_read() {
    let srv = start().await;
    let read = srv.key(&["operator.read"]);
    seed(&srv, "s", 2).await;
    let (status, ct, _, body) = get(&srv, &read, "/api/sessions/export?session_key=nope").await;
    assert_eq!(status, 404, "{body}");
    assert!(ct.starts_with("application/json"));
    assert!(body.contains("session 'nope' not found"), "{body}");
    let (status, _, _, body) =
        get(&srv, &read, "/api/sessions/export?session_key=s&format=pdf").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("format = 'pdf': expected md or json"),
        "{body}"
    );
    let (status, _, _, _) = get(&srv, "not-a-key", "/api/sessions/export?session_key=s").await;
    assert_eq!(status, 401);
    // Markdown is the default format.
    let (status, ct, _, _) = get(&srv, &read, "/api/sessions/export?session_key=s&unknown=1").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/markdown"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_export_pages_add_up_to_the_http_file() {
    let srv = start().await;
    let read = srv.key(&["operator.read"]);
    seed(&srv, "paged", 25).await;
    let (_, _, _, whole) = get(&srv, &read, "/api/sessions/export?session_key=paged").await;
    let (mut c, _) = srv.client_v4(&read).await;

    let mut md = String::new();
    let mut after = json!(null);
    let mut calls = 0;
    loop {
        let p = c
            .call(
                "sessions.export",
                json!({"sessionKey": "paged", "limit": 10, "afterId": after}),
            )
            .await;
        assert_eq!(p["format"], "md");
        md.push_str(p["content"].as_str().unwrap());
        calls += 1;
        after = p["nextAfterId"].clone();
        if after.is_null() {
            break;
        }
        assert!(calls < 10, "paging must end");
    }
    assert_eq!(calls, 3, "27 messages in pages of 10");
    assert_eq!(md, whole, "the pages concatenate to the streamed file");

    let p = c
        .call(
            "sessions.export",
            json!({"sessionKey": "paged", "format": "json", "limit": 1000}),
        )
        .await;
    assert_eq!(p["session"]["key"], "paged");
    assert_eq!(p["messages"].as_array().unwrap().len(), 27);
    assert!(p["nextAfterId"].is_null());

    let e = c
        .call_err("sessions.export", json!({"sessionKey": "ghost"}))
        .await;
    assert_eq!(e["code"], "NOT_FOUND", "{e}");
    let e = c
        .call_err(
            "sessions.export",
            json!({"sessionKey": "paged", "format": "xml"}),
        )
        .await;
    assert_eq!(e["code"], "INVALID_REQUEST", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("expected md or json"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_message_text_over_http_and_the_bridge() {
    let srv = start().await;
    let read = srv.key(&["operator.read"]);
    seed(&srv, "airship", 3).await;
    srv.engine
        .store()
        .write_async(|s| {
            s.message_append("other", "user", "nothing here", 5)
                .map(|_| ())
        })
        .await
        .unwrap();
    let (status, _, _, body) = get(&srv, &read, "/api/sessions?search=zeppel").await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["sessions"][0]["key"], "airship");
    assert!(
        v["sessions"][0]["searchSnippet"]
            .as_str()
            .unwrap()
            .contains("zeppelin"),
        "{v}"
    );
    // Hostile input is plain text, not an FTS5 syntax error.
    for term in ["%22", "NEAR(", "*", "a%20OR%20b", "(%22"] {
        let (status, _, _, body) = get(&srv, &read, &format!("/api/sessions?search={term}")).await;
        assert_eq!(status, 200, "search {term}: {body}");
    }
    let (mut c, _) = srv.client_v3(&read).await;
    let p = c
        .call("sessions.list", json!({"search": "ZEPPELIN line"}))
        .await;
    assert_eq!(p["totalCount"], 1, "{p}");
    assert_eq!(p["sessions"][0]["key"], "airship");
    let p = c.call("sessions.list", json!({})).await;
    assert!(
        p["sessions"][0].get("searchSnippet").is_none(),
        "no snippet without search"
    );
}
