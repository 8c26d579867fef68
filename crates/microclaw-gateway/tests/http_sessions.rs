//! Sessions REST (http-api.md, "Sessions"): list/paging/search, history, tree with orphaned
//! forks, fork semantics, delete without cascade, reset, settings, send and the in-flight limit.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod http_common;

use http_common::{start, start_with, Api, Cred};
use microclaw_core::ThinkingLevel;
use serde_json::{json, Value};

async fn chat(api: &Api, key: &str, text: &str) {
    microclaw_engine::ops::chat::send_and_wait(&api.engine, Some(key), text)
        .await
        .unwrap();
}

fn admin(api: &Api) -> Cred {
    Cred::bearer(&api.admin_key())
}

async fn history(api: &Api, cred: &Cred, key: &str) -> Vec<Value> {
    let r = api
        .get(&format!("/api/history?session_key={key}"), cred)
        .await;
    assert_eq!(r.status, 200, "history of {key}: {}", r.text);
    r.json["messages"].as_array().unwrap().clone()
}

async fn session_count(api: &Api, cred: &Cred) -> i64 {
    api.get("/api/sessions", cred).await.json["total"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_searches_and_counts() {
    let api = start().await;
    let c = admin(&api);
    for k in ["alpha", "beta", "gamma"] {
        chat(&api, k, "/echo hi").await;
    }
    let all = api.get("/api/sessions", &c).await;
    assert_eq!(all.status, 200);
    assert_eq!(all.json["total"], 3);
    let p1 = api.get("/api/sessions?limit=2&offset=0", &c).await;
    let p2 = api.get("/api/sessions?limit=2&offset=2", &c).await;
    assert_eq!(p1.json["sessions"].as_array().unwrap().len(), 2, "limit 2");
    assert_eq!(p2.json["sessions"].as_array().unwrap().len(), 1, "the rest");
    assert_eq!(
        p1.json["total"], 3,
        "total counts every match, not the page"
    );
    let keys: Vec<&str> = p1.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2.json["sessions"].as_array().unwrap())
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, ["alpha", "beta", "gamma"], "pages do not overlap");
    let hit = api.get("/api/sessions?search=alp", &c).await;
    assert_eq!(hit.json["total"], 1, "search matches the key");
    assert_eq!(hit.json["sessions"][0]["key"], "alpha");
    api.get("/api/sessions?limit=0", &c)
        .await
        .assert_error(400, "INVALID_REQUEST", "limit 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_of_an_unknown_session_is_404_and_creates_nothing() {
    let api = start().await;
    let c = admin(&api);
    chat(&api, "main", "/echo hello there").await;
    let msgs = history(&api, &c, "main").await;
    assert_eq!(msgs.len(), 2, "the user message and the reply");
    assert_eq!(msgs[0]["role"], "user");
    assert_eq!(msgs[0]["content"], "/echo hello there");
    assert_eq!(msgs[1]["role"], "assistant");
    for m in &msgs {
        assert!(m["id"].is_i64() && m["timestamp"].is_i64(), "{m}");
    }
    let r = api.get("/api/history?session_key=ghost", &c).await;
    r.assert_error(404, "NOT_FOUND", "unknown session");
    assert_eq!(
        session_count(&api, &c).await,
        1,
        "a read never creates a session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_copies_messages_before_the_fork_point_the_label_and_the_settings() {
    let api = start().await;
    let c = admin(&api);
    chat(&api, "main", "/echo one").await;
    chat(&api, "main", "/echo two").await;
    let patched = api
        .post(
            "/api/sessions/settings",
            &c,
            json!({"session_key": "main", "label": "Main", "thinking_level": "high", "verbose_level": "full"}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);

    let r = api
        .post(
            "/api/sessions/fork",
            &c,
            json!({"source_session_key": "main", "target_session_key": "branch", "fork_point": 2}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["source_session_key"], "main");
    assert_eq!(r.json["target_session_key"], "branch");
    assert_eq!(r.json["fork_point"], 2);
    let src = history(&api, &c, "main").await;
    let dst = history(&api, &c, "branch").await;
    assert_eq!(dst.len(), 2, "messages [0, 2) are copied");
    for (a, b) in src.iter().zip(&dst) {
        assert_eq!((&a["role"], &a["content"]), (&b["role"], &b["content"]));
    }
    let list = api.get("/api/sessions?search=branch", &c).await;
    let row = &list.json["sessions"][0];
    assert_eq!(
        row["label"], "Main (fork)",
        "ours: the label is copied with ' (fork)'"
    );
    assert_eq!(row["thinkingLevel"], "high", "ours: settings are copied");
    assert_eq!(row["verboseLevel"], "full");

    let d = api
        .post(
            "/api/sessions/fork",
            &c,
            json!({"source_session_key": "main"}),
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    let target = d.json["target_session_key"].as_str().unwrap();
    let suffix = target
        .strip_prefix("main-fork-")
        .expect("default target <source>-fork-<hex>");
    assert!(
        suffix.len() == 8 && suffix.bytes().all(|b| b.is_ascii_hexdigit()),
        "{target}"
    );
    assert_eq!(d.json["fork_point"], 4, "default: every message");
    assert_eq!(history(&api, &c, target).await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_refuses_an_existing_target_the_same_key_and_an_unknown_source() {
    let api = start().await;
    let c = admin(&api);
    chat(&api, "main", "/echo one").await;
    chat(&api, "other", "/echo keep me").await;
    let fork = |body: Value| api.post("/api/sessions/fork", &c, body);
    fork(json!({"source_session_key": "main", "target_session_key": "other"}))
        .await
        .assert_error(409, "CONFLICT", "ours: an existing target is not wiped");
    assert_eq!(
        history(&api, &c, "other").await[0]["content"],
        "/echo keep me"
    );
    fork(json!({"source_session_key": "main", "target_session_key": "main"}))
        .await
        .assert_error(400, "INVALID_REQUEST", "same source and target");
    fork(json!({"source_session_key": "ghost", "target_session_key": "ghost-copy"}))
        .await
        .assert_error(404, "NOT_FOUND", "ours: an unknown source is not created");
    api.get("/api/history?session_key=ghost-copy", &c)
        .await
        .assert_error(404, "NOT_FOUND", "no target was made for an unknown source");
    assert_eq!(session_count(&api, &c).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_does_not_cascade_and_the_fork_becomes_an_orphan_root() {
    let api = start().await;
    let c = admin(&api);
    chat(&api, "main", "/echo one").await;
    let f = api
        .post(
            "/api/sessions/fork",
            &c,
            json!({"source_session_key": "main", "target_session_key": "child"}),
        )
        .await;
    assert_eq!(f.status, 200, "{}", f.text);
    let tree = api.get("/api/sessions/tree", &c).await;
    let nodes = tree.json["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    let child = nodes.iter().find(|n| n["session_key"] == "child").unwrap();
    assert_eq!(child["parent_session_key"], "main");
    assert_eq!(child["fork_point"], 2);
    assert_eq!(child["message_count"], 2);

    let del = api
        .post("/api/delete_session", &c, json!({"session_key": "main"}))
        .await;
    assert_eq!(del.status, 200, "{}", del.text);
    assert_eq!(del.json["deleted"], true);
    assert_eq!(
        history(&api, &c, "child").await.len(),
        2,
        "the fork keeps its messages"
    );
    let tree = api.get("/api/sessions/tree", &c).await;
    let nodes = tree.json["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "only the fork is left: {nodes:?}");
    assert_eq!(nodes[0]["session_key"], "child");
    assert_eq!(
        nodes[0]["parent_session_key"], "main",
        "the orphan keeps parent_session_key (shown as a root: its parent is not in the tree)"
    );
    let sub = api.get("/api/sessions/tree?root=child", &c).await;
    assert_eq!(
        sub.json["nodes"].as_array().unwrap().len(),
        1,
        "the orphan roots a subtree"
    );

    let gone = api
        .post("/api/delete_session", &c, json!({"session_key": "ghost"}))
        .await;
    assert_eq!(gone.status, 200);
    assert_eq!(gone.json["deleted"], false, "unknown → deleted:false");
    assert_eq!(
        session_count(&api, &c).await,
        1,
        "deleting an unknown session creates nothing"
    );
    let audited = api
        .engine
        .store()
        .audit_list(10, Some("session.delete"))
        .unwrap();
    assert_eq!(audited.len(), 1, "the real delete is audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_clears_messages_and_keeps_the_label_and_settings() {
    let api = start().await;
    let c = admin(&api);
    chat(&api, "main", "/echo one").await;
    let s = api
        .post(
            "/api/sessions/settings",
            &c,
            json!({"session_key": "main", "label": "Keep", "reasoning_level": "on"}),
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.text);
    let r = api
        .post("/api/reset", &c, json!({"session_key": "main"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        history(&api, &c, "main").await.is_empty(),
        "messages are cleared"
    );
    let row = &api.get("/api/sessions", &c).await.json["sessions"][0];
    assert_eq!(row["label"], "Keep");
    assert_eq!(row["reasoningLevel"], "on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_patch_changes_only_given_fields_and_names_allowed_levels() {
    let api = start().await;
    let c = admin(&api);
    chat(&api, "main", "/echo one").await;
    let r = api
        .post(
            "/api/sessions/settings",
            &c,
            json!({"session_key": "main", "thinking_level": "low"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["entry"]["thinkingLevel"], "low");
    assert_eq!(
        r.json["entry"]["verboseLevel"], "off",
        "untouched fields keep their value"
    );
    let bad = api
        .post(
            "/api/sessions/settings",
            &c,
            json!({"session_key": "main", "thinking_level": "extreme"}),
        )
        .await;
    bad.assert_error(400, "INVALID_REQUEST", "an unknown level");
    for allowed in ThinkingLevel::ALLOWED {
        assert!(
            bad.message().contains(allowed),
            "names '{allowed}': {}",
            bad.text
        );
    }
    assert!(
        bad.message().contains("extreme"),
        "names the bad value: {}",
        bad.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_runs_to_completion_and_returns_the_reply() {
    let api = start().await;
    let c = Cred::bearer(&api.key(&["operator.write", "operator.read"]));
    let r = api
        .post(
            "/api/send",
            &c,
            json!({"session_key": "s1", "message": "/echo hi"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["session_key"], "s1");
    assert!(r.json["run_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        r.json["response"].as_str().unwrap().contains("hi"),
        "{}",
        r.text
    );
    let msgs = history(&api, &c, "s1").await;
    assert_eq!(msgs.len(), 2, "the user message and the reply are stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_over_its_queue_bound_answers_503_retryable() {
    // One run is active per session; with no room in the queue a second message is refused.
    let api = start_with(|c| c.sessions.max_queued_per_session = 0).await;
    let c = admin(&api);
    let (_, mut slow) =
        microclaw_engine::ops::chat::send(&api.engine, Some("busy"), "/slow 5", None, None)
            .await
            .unwrap();
    slow.release();
    let r = api
        .post(
            "/api/send",
            &c,
            json!({"session_key": "busy", "message": "/echo hi"}),
        )
        .await;
    r.assert_error(
        503,
        "UNAVAILABLE",
        "one run is already active in 'busy', no queue room",
    );
    assert!(r.header("retry-after").is_some(), "503 carries Retry-After");
    assert!(
        r.message().contains("max_queued_per_session"),
        "names the config key: {}",
        r.text
    );
    let other = api
        .post(
            "/api/send",
            &c,
            json!({"session_key": "calm", "message": "/echo hi"}),
        )
        .await;
    assert_eq!(
        other.status, 200,
        "the bound is per session: {}",
        other.text
    );
    api.engine.runs().kill("busy");
}
