//! Presence over a real gateway: the list pushed in hello-ok and `presence` events stops at the
//! newest `PRESENCE_LIST_MAX` entries (a small frame for every connection); `system-presence`
//! and `GET /api/presence` give the whole list, newest first; leaves shrink it.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::*;
use microclaw_engine::presence::PRESENCE_LIST_MAX;
use serde_json::{json, Value};
use std::time::Duration;

fn connect_params(token: &str, i: usize) -> Value {
    json!({
        "minProtocol": 3, "maxProtocol": 4,
        "client": {
            "id": "probe", "displayName": format!("probe-{i}"), "mode": "probe",
            "version": "1.0.0", "platform": "linux", "instanceId": format!("inst-{i:02}"),
        },
        "role": "operator", "auth": {"token": token},
    })
}

/// A connected client with its own instance id; returns it and its hello-ok.
async fn join(srv: &TestServer, token: &str, i: usize) -> (Client, Value) {
    let mut c = srv.raw().await;
    c.read_challenge().await;
    let res = c.connect(connect_params(token, i)).await;
    assert_eq!(res["ok"], true, "connect {i} failed: {res}");
    (c, res["payload"].clone())
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|e| e["instanceId"].as_str().unwrap().to_string())
        .collect()
}

/// GET `url` (with a bearer token when given): the status and the JSON body (null if none).
async fn http_get(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// `system-presence` until it lists `n` clients (bounded: 100 tries, 50 ms apart).
async fn wait_for_count(c: &mut Client, n: usize) -> Value {
    for _ in 0..100 {
        let list = c.call("system-presence", json!({"limit": 2000})).await;
        if list.as_array().unwrap().len() == n {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("system-presence never listed {n} clients");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_lists_stop_at_the_newest_few_and_system_presence_lists_everyone() {
    let srv = start().await;
    let token = srv.key(&["operator.read"]);
    let mut clients = Vec::new();
    for i in 0..20 {
        clients.push(join(&srv, &token, i).await.0);
    }
    let mut watcher = clients.pop().unwrap();
    let all = wait_for_count(&mut watcher, 20).await;

    // The whole list: everyone once, newest first, the six documented keys.
    let all_ids = ids(&all);
    let mut unique = all_ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 20, "{all}");
    let ts: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["ts"].as_i64().unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] >= w[1]), "newest first: {ts:?}");
    let mut keys: Vec<&str> = all[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["host", "instanceId", "mode", "platform", "ts", "version"]
    );
    assert_eq!(all[0]["mode"], "probe");
    assert!(
        all[0]["host"].as_str().unwrap().starts_with("probe-"),
        "the client's display name: {all}"
    );

    // A limit takes the newest; a bad one is refused with the range.
    let first5 = watcher.call("system-presence", json!({"limit": 5})).await;
    assert_eq!(ids(&first5), all_ids[..5].to_vec());
    for bad in [
        json!({"limit": 0}),
        json!({"limit": 2001}),
        json!({"limit": "ten"}),
    ] {
        let e = watcher.call_err("system-presence", bad.clone()).await;
        assert_eq!(e["code"], "INVALID_REQUEST", "{bad}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains("limit"),
            "{bad}: {e}"
        );
    }

    // The pushed list: a `presence` event carries the newest PRESENCE_LIST_MAX, never more;
    // the one sent after the last join is the head of the whole list.
    let newest = all_ids[..PRESENCE_LIST_MAX].to_vec();
    let mut seen = Vec::new();
    for _ in 0..50 {
        let ev = watcher.next_event("presence").await;
        let list = ids(&ev["payload"]["presence"]);
        assert!(list.len() <= PRESENCE_LIST_MAX, "{ev}");
        if list == newest {
            break;
        }
        seen.push(list);
    }
    assert!(
        seen.len() < 50,
        "no presence event carried {newest:?}: {seen:?}"
    );

    // hello-ok's snapshot is the same capped list.
    let (newcomer, hello) = join(&srv, &token, 20).await;
    let snap = &hello["snapshot"]["presence"];
    assert_eq!(ids(snap), all_ids[..PRESENCE_LIST_MAX].to_vec(), "{hello}");
    clients.push(newcomer);
    let all = wait_for_count(&mut watcher, 21).await;
    assert_eq!(ids(&all)[0], "inst-20", "the newcomer is the newest");

    // HTTP: the same list with its total; read scope; bad limits refused.
    let base = format!("http://{}/api/presence", srv.addr);
    let (status, body) = http_get(&base, Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(body["count"], 21, "{body}");
    assert_eq!(ids(&body["presence"]), ids(&all));
    let (_, body) = http_get(&format!("{base}?limit=3"), Some(&token)).await;
    assert_eq!(
        (body["count"].clone(), ids(&body["presence"]).len()),
        (json!(21), 3)
    );
    let (status, body) = http_get(&format!("{base}?limit=0"), Some(&token)).await;
    assert_eq!(status, 400);
    assert!(
        body.to_string()
            .contains("limit = 0: expected an integer from 1 to 2000"),
        "{body}"
    );
    assert_eq!(http_get(&base, None).await.0, 401);

    // Leaves: ten clients close, the list shrinks to the rest.
    for mut c in clients.drain(..10) {
        c.ws.close(None).await.unwrap();
    }
    let rest = wait_for_count(&mut watcher, 11).await;
    assert_eq!(ids(&rest)[0], "inst-20");
}
