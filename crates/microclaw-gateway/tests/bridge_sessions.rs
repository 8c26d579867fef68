//! Conformance: the session methods of gateway-protocol.md §4 (`sessions.list`, the `set*`
//! methods, `sessions.patch`, `sessions.fork`, `sessions.delete`) with every alias, for
//! protocols 3 and 4.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::{both, both_with_key, has_keys, start};
use serde_json::{json, Value};

#[tokio::test]
async fn the_set_methods_and_all_their_aliases_write_only_their_field() {
    let srv = start().await;
    for (mut c, p) in both(&srv).await {
        let key = format!("settings-{p}");
        let cases = [
            (
                "sessions.setLabel",
                json!({"label": "Ops"}),
                "label",
                json!("Ops"),
            ),
            (
                "session_setLabel",
                json!({"value": "Ops 2"}),
                "label",
                json!("Ops 2"),
            ),
            (
                "sessions_setLabel",
                json!({"label": "Ops 3"}),
                "label",
                json!("Ops 3"),
            ),
            (
                "sessions.setThinking",
                json!({"level": "high"}),
                "thinkingLevel",
                json!("high"),
            ),
            (
                "session_setThinking",
                json!({"value": "low"}),
                "thinkingLevel",
                json!("low"),
            ),
            (
                "sessions_setThinking",
                json!({"level": "minimal"}),
                "thinkingLevel",
                json!("minimal"),
            ),
            (
                "sessions.setVerbose",
                json!({"level": "on"}),
                "verboseLevel",
                json!("on"),
            ),
            (
                "session_setVerbose",
                json!({"value": "full"}),
                "verboseLevel",
                json!("full"),
            ),
            (
                "sessions_setVerbose",
                json!({"level": "off"}),
                "verboseLevel",
                json!("off"),
            ),
            (
                "sessions.setReasoning",
                json!({"level": "stream"}),
                "reasoningLevel",
                json!("stream"),
            ),
            (
                "session_setReasoning",
                json!({"value": "on"}),
                "reasoningLevel",
                json!("on"),
            ),
            (
                "sessions_setReasoning",
                json!({"level": "stream"}),
                "reasoningLevel",
                json!("stream"),
            ),
        ];
        for (method, mut params, field, want) in cases {
            params["sessionKey"] = json!(key);
            let r = c.call(method, params).await;
            assert_eq!(
                (
                    r["ok"].as_bool(),
                    r["applied"].as_bool(),
                    r["key"].as_str(),
                    r["sessionKey"].as_str()
                ),
                (
                    Some(true),
                    Some(true),
                    Some(key.as_str()),
                    Some(key.as_str())
                ),
                "{method}"
            );
            assert_eq!(r["settings"][field], want, "{p} {method}: {r}");
        }
        let r = c
            .call(
                "sessions.setThinking",
                json!({"sessionKey": key, "level": "medium"}),
            )
            .await;
        assert_eq!(
            r["settings"],
            json!({"label": "Ops 3", "thinkingLevel": "medium", "verboseLevel": "off", "reasoningLevel": "stream"}),
            "other fields kept"
        );
        let e = c
            .call_err(
                "sessions.setThinking",
                json!({"sessionKey": key, "level": "extreme"}),
            )
            .await;
        assert_eq!(e["code"], "INVALID_REQUEST");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("off, minimal, low, medium, high"),
            "{e}"
        );
        let e = c
            .call_err("sessions.setVerbose", json!({"sessionKey": key}))
            .await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .starts_with("invalid sessions.setVerbose params: level"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn sessions_list_patch_fork_delete_and_aliases() {
    let srv = start().await;
    // Fork and delete need approvals (one scope table with HTTP).
    let key = srv.key(&["operator.read", "operator.write", "operator.approvals"]);
    for (mut c, p) in both_with_key(&srv, &key).await {
        let key = format!("life-{p}");
        let patched = c
            .call(
                "sessions.patch",
                json!({"key": key, "label": "Life", "thinkingLevel": "low", "unknown": 1}),
            )
            .await;
        assert_eq!(
            (patched["ok"].as_bool(), patched["key"].as_str()),
            (Some(true), Some(key.as_str()))
        );
        assert_eq!(
            (
                patched["entry"]["label"].as_str(),
                patched["entry"]["thinkingLevel"].as_str()
            ),
            (Some("Life"), Some("low"))
        );
        let cleared = c
            .call("sessions.patch", json!({"key": key, "label": null}))
            .await;
        assert_eq!(
            cleared["entry"]["label"],
            Value::Null,
            "null clears the label"
        );
        for method in ["sessions.list", "sessions_list"] {
            let l = c
                .call(
                    method,
                    json!({"search": key, "limit": 5, "offset": 0, "agentId": "x"}),
                )
                .await;
            assert_eq!(
                (
                    l["ok"].as_bool(),
                    l["totalCount"].as_i64(),
                    l["hasMore"].as_bool()
                ),
                (Some(true), Some(1), Some(false)),
                "{method}: {l}"
            );
            has_keys(
                &l["sessions"][0],
                &[
                    "key",
                    "sessionKey",
                    "label",
                    "parentKey",
                    "forkPoint",
                    "createdAt",
                    "updatedAt",
                    "lastMessagePreview",
                    "messageCount",
                    "thinkingLevel",
                    "verboseLevel",
                    "reasoningLevel",
                    "hasActiveRun",
                ],
            );
        }
        let e = c.call_err("sessions.list", json!({"limit": "lots"})).await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .starts_with("invalid sessions.list params: limit"),
            "{e}"
        );
        let fork = c
            .call(
                "sessions.fork",
                json!({"sessionKey": key, "targetKey": format!("{key}-f")}),
            )
            .await;
        assert_eq!(fork["ok"], true, "{fork}");
        let e = c
            .call_err("sessions.fork", json!({"sessionKey": "no-such-source"}))
            .await;
        assert_eq!(e["code"], "NOT_FOUND");
        for (i, method) in ["sessions.delete", "session_delete", "sessions_delete"]
            .into_iter()
            .enumerate()
        {
            let target = if i == 0 {
                key.clone()
            } else {
                format!("{key}-gone-{i}")
            };
            if i > 0 {
                c.call(
                    "sessions.setLabel",
                    json!({"sessionKey": target, "label": "tmp"}),
                )
                .await;
            }
            let d = c.call(method, json!({"sessionKey": target})).await;
            assert_eq!(
                d,
                json!({"ok": true, "deleted": true, "key": target, "sessionKey": target}),
                "{method}"
            );
        }
        let again = c.call("sessions.delete", json!({"sessionKey": key})).await;
        assert_eq!(again["deleted"], false, "deleting twice reports false");
        let fork_left = c
            .call("sessions.list", json!({"search": format!("{key}-f")}))
            .await;
        assert_eq!(
            fork_left["totalCount"], 1,
            "delete does not cascade to forks"
        );
    }
}
