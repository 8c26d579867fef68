//! `status` from values kept between changes, `health` as typed text, and the read cache of
//! list/history replies — on a real engine (real SQLite file, a passed-in ManualClock).
#![allow(clippy::unwrap_used)]

use microclaw_core::{Config, ManualClock};
use microclaw_engine::ops::read_cache::READ_CACHE_MAX_AGE;
use microclaw_engine::ops::status::{self, health_snapshot};
use microclaw_engine::ops::status_cache::{self, STATUS_MAX_AGE_MS};
use microclaw_engine::{Engine, EngineEvent, EngineOptions};
use serde_json::{json, value::RawValue};
use std::sync::Arc;

const T0: i64 = 1_900_000_000_000;

fn engine() -> (tempfile::TempDir, ManualClock, Arc<Engine>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let engine = Engine::open(EngineOptions {
        data_dir: dir.path().to_path_buf(),
        config: Config::default(),
        clock: Some(Arc::new(clock.clone())),
    })
    .unwrap();
    (dir, clock, engine)
}

async fn append(engine: &Engine, key: &'static str, text: &'static str) {
    let now = engine.now_ms();
    engine
        .store()
        .write_async(move |s| s.message_append(key, "user", text, now).map(|_| ()))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_text_is_byte_identical_to_the_old_json_tree() {
    let (_dir, _clock, engine) = engine();
    let h = health_snapshot(&engine);
    // The shape `health` had as a `json!` tree (keys sorted when serialized).
    let old = json!({
        "ok": true,
        "version": h.version,
        "uptimeMs": h.uptime_ms,
        "sessions": {"count": h.sessions.count},
        "activeRuns": h.active_runs,
        "connections": h.connections,
    });
    assert_eq!(serde_json::to_string(&h).unwrap(), old.to_string());
    assert_eq!(status::health(&engine).unwrap(), old);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_text_is_shared_while_the_snapshot_is_unchanged_and_rebuilt_when_it_moves() {
    let (_dir, clock, engine) = engine();
    let text = || serde_json::to_string(&health_snapshot(&engine)).unwrap();
    let a = status::health_raw(&engine);
    assert_eq!(a.get(), text());
    let b = status::health_raw(&engine);
    assert!(
        Arc::ptr_eq(&a, &b),
        "the same millisecond shares one serialization"
    );
    clock.advance_ms(1);
    let c = status::health_raw(&engine);
    assert!(!Arc::ptr_eq(&a, &c), "a new uptime is a new text");
    assert_eq!(c.get(), text());
    append(&engine, "health-text", "hi").await;
    let d = status::health_raw(&engine);
    assert_eq!(d.get(), text(), "a new session count is seen at once");
    let v: serde_json::Value = serde_json::from_str(d.get()).unwrap();
    assert_eq!(v["sessions"]["count"], 1, "{v}");
}

async fn status_text(e: &Engine) -> String {
    serde_json::to_string(&status::status_snapshot(e).await.unwrap().view()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_text_is_shared_until_a_counter_or_a_summary_part_changes() {
    let (_dir, clock, engine) = engine();
    let a = status::status_raw(&engine).await.unwrap();
    assert_eq!(a.get(), status_text(&engine).await);
    let b = status::status_raw(&engine).await.unwrap();
    assert!(Arc::ptr_eq(&a, &b), "unchanged: one serialization");
    clock.advance_ms(1);
    let c = status::status_raw(&engine).await.unwrap();
    assert!(!Arc::ptr_eq(&a, &c), "a new uptime is a new text");
    append(&engine, "status-text", "hi").await;
    let d = status::status_raw(&engine).await.unwrap();
    let v: serde_json::Value = serde_json::from_str(d.get()).unwrap();
    assert_eq!(v["sessions"]["count"], 1, "{v}");
    assert_eq!(
        v["sessions"]["recent"][0]["key"], "status-text",
        "rebuilt parts: {v}"
    );
    assert_eq!(d.get(), status_text(&engine).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_is_kept_until_the_state_changes_or_it_ages() {
    let (_dir, clock, engine) = engine();
    append(&engine, "first", "hello").await;
    assert!(
        !status_cache::is_fresh(&engine),
        "nothing is built before the first call"
    );
    let s = status::status(&engine).await.unwrap();
    assert_eq!(s["sessions"]["recent"][0]["key"], "first", "{s}");
    assert_eq!(s["sessions"]["count"], 1);
    for key in [
        "risk_level",
        "slo",
        "uptimeMs",
        "activeRuns",
        "connections",
        "version",
    ] {
        assert!(s.get(key).is_some(), "{key} missing: {s}");
    }
    assert!(status_cache::is_fresh(&engine), "kept after the first call");
    // The text the bridge sends is the same JSON as the tree.
    let snap = status::status_snapshot(&engine).await.unwrap();
    let text: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&snap.view()).unwrap()).unwrap();
    assert_eq!(text, status::status(&engine).await.unwrap());

    // A new session changes the count: rebuilt, and the new session is listed.
    append(&engine, "second", "hi").await;
    assert!(!status_cache::is_fresh(&engine));
    let s = status::status(&engine).await.unwrap();
    assert_eq!(s["sessions"]["count"], 2);
    assert_eq!(s["sessions"]["recent"].as_array().unwrap().len(), 2, "{s}");

    // Any engine event makes it stale.
    engine.emit(EngineEvent::PresenceChanged);
    assert!(!status_cache::is_fresh(&engine));
    status::status(&engine).await.unwrap();
    assert!(status_cache::is_fresh(&engine));

    // And so does time on the engine clock (changes that no event announces).
    clock.advance_ms(STATUS_MAX_AGE_MS);
    assert!(!status_cache::is_fresh(&engine));
    // The live counters are never cached.
    let s = status::status(&engine).await.unwrap();
    assert_eq!(
        s["uptimeMs"].as_i64().unwrap(),
        engine.uptime_ms(),
        "uptime is read at the call"
    );
}

fn raw(text: &str) -> Arc<RawValue> {
    Arc::from(RawValue::from_string(text.to_string()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_cache_serves_a_reply_until_a_write_or_an_event() {
    let (_dir, _clock, engine) = engine();
    let cache = engine.read_cache();
    assert!(cache.get(&engine, "k").is_none());
    let stamp = cache.revision_now(&engine);
    cache.put(&engine, stamp, "k".into(), &raw(r#"{"rows":[1]}"#));
    assert_eq!(cache.get(&engine, "k").unwrap().get(), r#"{"rows":[1]}"#);
    assert!(cache.get(&engine, "other").is_none());

    // A committed write drops everything.
    append(&engine, "s", "x").await;
    assert!(cache.get(&engine, "k").is_none());
    assert!(cache.is_empty());

    // A reply read before a change is not kept.
    let stale = cache.revision_now(&engine);
    append(&engine, "s", "y").await;
    cache.put(&engine, stale, "k".into(), &raw("[2]"));
    assert!(
        cache.get(&engine, "k").is_none(),
        "built before the write: not kept"
    );

    // An event drops it too.
    cache.get(&engine, "k");
    let stamp = cache.revision_now(&engine);
    cache.put(&engine, stamp, "k".into(), &raw("[3]"));
    assert!(cache.get(&engine, "k").is_some());
    engine.emit(EngineEvent::PresenceChanged);
    assert!(cache.get(&engine, "k").is_none());
    assert!(READ_CACHE_MAX_AGE.as_millis() > 0);
}
