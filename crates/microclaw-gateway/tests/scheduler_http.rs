//! The scheduler through a real server with a ManualClock: `every` firing at the right instant,
//! cron previews across a DST change, retries on the backoff, the DLQ, replay and the SLO
//! counters. Real runs of the built-in agent (`/echo`, `/fail`); no sleeping on real minutes.
#![allow(clippy::unwrap_used)]

mod http_common;

use http_common::{start_full, Cred};
use microclaw_core::{ManualClock, SharedClock};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

// 2026-03-07T12:00:00Z, the day before the US spring-forward change.
const T0: i64 = 1_772_884_800_000;

async fn setup() -> (http_common::Api, ManualClock, Cred) {
    let clock = ManualClock::new(T0);
    let shared: SharedClock = Arc::new(clock.clone());
    let api = start_full(|_| {}, Some(shared)).await;
    let admin = Cred::bearer(&api.admin_key());
    (api, clock, admin)
}

/// Polls `cron.runs` for the job until `want(entries)` holds (bounded: 15 s real time).
async fn wait_runs(
    api: &http_common::Api,
    cred: &Cred,
    job: &str,
    want: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = api
            .get(&format!("/api/scheduler/runs?jobId={job}"), cred)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let entries = r.json["entries"].as_array().cloned().unwrap_or_default();
        if want(&entries) {
            return entries;
        }
        assert!(
            Instant::now() < deadline,
            "runs never matched; last: {entries:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn finished(entries: &[Value], status: &str) -> usize {
    entries.iter().filter(|e| e["status"] == status).count()
}

#[tokio::test]
async fn every_job_fires_on_the_clock_and_records_the_real_outcome() {
    let (api, clock, admin) = setup().await;
    let r = api
        .post(
            "/api/scheduler/jobs",
            &admin,
            json!({"name": "echo", "schedule": {"kind": "every", "everyMs": 60000},
                   "payload": {"kind": "agentTurn", "message": "/echo tick"}, "sessionKey": "cron-echo"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_string();
    assert_eq!(r.json["nextRunAtMs"], json!(T0 + 60_000));
    // Not due yet: nothing runs however long we wait in real time.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(wait_runs(&api, &admin, &id, |_| true).await.is_empty());
    clock.advance_ms(60_000);
    let entries = wait_runs(&api, &admin, &id, |e| finished(e, "ok") == 1).await;
    assert_eq!(entries[0]["dueAtMs"], json!(T0 + 60_000));
    assert_eq!(entries[0]["sessionKey"], "cron-echo");
    let job = api.get(&format!("/api/scheduler/jobs/{id}"), &admin).await;
    assert_eq!(job.json["lastRunStatus"], "ok");
    assert_eq!(job.json["nextRunAtMs"], json!(T0 + 120_000));
    assert_eq!(api.engine.metrics().totals().scheduler_success, 1);
    // A read key may list but not add.
    let reader = Cred::bearer(&api.key(&["operator.read"]));
    assert_eq!(
        api.get("/api/scheduler/jobs", &reader).await.json["total"],
        1
    );
    let denied = api.post("/api/scheduler/jobs", &reader, json!({})).await;
    assert_eq!(denied.status, 403, "{}", denied.text);
}

#[tokio::test]
async fn failures_retry_on_the_backoff_then_dead_letter_and_replay_recovers() {
    let (api, clock, admin) = setup().await;
    let r = api
        .post(
            "/api/scheduler/jobs",
            &admin,
            json!({"schedule": {"kind": "every", "everyMs": 3_600_000},
                   "payload": {"kind": "agentTurn", "message": "/fail"}, "sessionKey": "cron-fail",
                   "retry": {"maxAttempts": 2, "backoffMs": 5000}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json["id"].as_str().unwrap().to_string();
    clock.advance_ms(3_600_000);
    wait_runs(&api, &admin, &id, |e| finished(e, "error") == 1).await;
    let job = api.get(&format!("/api/scheduler/jobs/{id}"), &admin).await;
    let retry_at = job.json["state"]["nextRetryAtMs"].as_i64().unwrap();
    assert_eq!(
        retry_at,
        microclaw_core::Clock::now_ms(&clock) + 5000,
        "{}",
        job.text
    );
    // Before the backoff has passed, no second attempt.
    clock.advance_ms(4000);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(wait_runs(&api, &admin, &id, |_| true).await.len(), 1);
    clock.advance_ms(1000);
    let entries = wait_runs(&api, &admin, &id, |e| finished(e, "error") == 2).await;
    assert_eq!(entries[0]["attempt"], 2);
    assert_eq!(entries[0]["trigger"], "retry");
    // Out of attempts: one DLQ item, a failed due run in the SLO counters, an audit entry.
    let deadline = Instant::now() + Duration::from_secs(10);
    let item = loop {
        let d = api.get("/api/scheduler/dlq", &admin).await;
        if let Some(i) = d.json["items"].as_array().and_then(|a| a.first()).cloned() {
            break i;
        }
        assert!(Instant::now() < deadline, "no DLQ item: {}", d.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(item["jobId"], json!(id));
    assert_eq!(item["attempts"], 2);
    assert!(
        item["error"]
            .as_str()
            .unwrap()
            .contains("simulated failure"),
        "{item}"
    );
    let t = api.engine.metrics().totals();
    assert_eq!((t.scheduler_runs, t.scheduler_success), (1, 0));
    let audit = api
        .get("/api/audit?kind=scheduler.dead_letter", &admin)
        .await;
    assert!(audit.text.contains(&id), "{}", audit.text);
    // Fix the job, replay the item: it succeeds and the due run counts as recovered.
    let fix = api
        .send(
            reqwest::Method::PATCH,
            &format!("/api/scheduler/jobs/{id}"),
            &admin,
            Some(json!({"payload": {"kind": "agentTurn", "message": "/echo fixed"}})),
        )
        .await;
    assert_eq!(fix.status, 200, "{}", fix.text);
    let dlq_id = item["id"].as_str().unwrap();
    let rep = api
        .post(
            &format!("/api/scheduler/dlq/{dlq_id}/replay"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(rep.status, 200, "{}", rep.text);
    wait_runs(&api, &admin, &id, |e| finished(e, "ok") == 1).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while api.engine.metrics().totals().scheduler_success != 1 {
        assert!(
            Instant::now() < deadline,
            "replay never counted as recovered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let open = api.get("/api/scheduler/dlq", &admin).await;
    assert_eq!(open.json["items"], json!([]), "{}", open.text);
    let again = api
        .post(
            &format!("/api/scheduler/dlq/{dlq_id}/replay"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.text);
}

#[tokio::test]
async fn cron_preview_follows_the_zone_across_dst_and_bad_input_is_named() {
    let (api, _clock, admin) = setup().await;
    let r = api
        .get(
            "/api/scheduler/preview?expr=0%209%20*%20*%20*&tz=America/New_York&count=3",
            &admin,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // 09:00 EST (14:00Z) on Mar 7, then 09:00 EDT (13:00Z) on Mar 8 and 9: a 23 h day.
    assert_eq!(
        r.json["nextRunsAtMs"],
        json!([T0 + 2 * 3_600_000, T0 + 25 * 3_600_000, T0 + 49 * 3_600_000])
    );
    let bad = api
        .get("/api/scheduler/preview?expr=61%20*%20*%20*%20*", &admin)
        .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert!(bad.text.contains("schedule.expr"), "{}", bad.text);
    let tz = api
        .get(
            "/api/scheduler/preview?expr=0%209%20*%20*%20*&tz=Mars/Base",
            &admin,
        )
        .await;
    assert!(tz.text.contains("IANA"), "{}", tz.text);
    let past = api
        .post("/api/scheduler/jobs", &admin,
              json!({"schedule": {"kind": "at", "at": "2020-01-01T00:00:00Z"}, "payload": {"message": "/echo x"}}))
        .await;
    assert_eq!(past.status, 400, "{}", past.text);
    assert!(past.text.contains("in the past"), "{}", past.text);
}

#[tokio::test]
async fn missed_runs_after_downtime_follow_catch_up() {
    let (api, clock, admin) = setup().await;
    let mut ids = Vec::new();
    for mode in ["once", "skip"] {
        let r = api
            .post("/api/scheduler/jobs", &admin,
                  json!({"schedule": {"kind": "every", "everyMs": 60000}, "catchUp": mode,
                         "payload": {"message": "/echo catch"}, "sessionKey": format!("cu-{mode}")}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        ids.push(r.json["id"].as_str().unwrap().to_string());
    }
    // Ten minutes pass at once (as if the gateway had been down).
    clock.advance_ms(600_000);
    let once = wait_runs(&api, &admin, &ids[0], |e| finished(e, "ok") == 1).await;
    assert_eq!(finished(&once, "skipped"), 1, "{once:?}");
    let skip = wait_runs(&api, &admin, &ids[1], |e| finished(e, "ok") == 1).await;
    // skip: only the fire time that is on time (now) runs; the nine missed ones are skipped.
    assert_eq!(
        skip.iter().find(|e| e["status"] == "ok").unwrap()["dueAtMs"],
        json!(T0 + 600_000)
    );
}
