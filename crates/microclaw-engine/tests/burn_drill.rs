//! The runbook's burn drill on a real engine (real SQLite file, a passed-in ManualClock): a burn
//! goes pending → firing, opens an incident and freezes changes; a frozen change is refused
//! and then overridden with a reason; a config is rolled back while frozen; the burn resolves,
//! the automatic freeze lifts and the incident is resolved and exported as a postmortem.
#![allow(clippy::unwrap_used)]

use microclaw_core::{Config, ManualClock};
use microclaw_engine::ops::{
    alerts, config, config_versions, cron, freeze, incident_export, incidents,
};
use microclaw_engine::{Engine, EngineEvent, EngineOptions, Principal};
use serde_json::{json, Value};
use std::sync::Arc;

const T0: i64 = 1_704_067_200_000;
const MIN: i64 = 60_000;
const PAGE: &str = "request_success_rate:page:1h/5m";

struct Drill {
    _dir: tempfile::TempDir,
    clock: ManualClock,
    engine: Arc<Engine>,
    rx: tokio::sync::broadcast::Receiver<microclaw_metrics::AlertEvent>,
}

impl Drill {
    /// `minutes` of traffic; each minute's transitions go through the engine's alert handling.
    async fn traffic(
        &mut self,
        minutes: u32,
        ok: u64,
        err: u64,
    ) -> Vec<microclaw_metrics::AlertEvent> {
        let mut seen = Vec::new();
        for _ in 0..minutes {
            let m = self.engine.metrics();
            for (n, state) in [(ok, "final"), (err, "error")] {
                for _ in 0..n {
                    m.run_started();
                    m.run_finished(state, 300, 10, 20);
                }
            }
            let me = Arc::clone(self.engine.metrics_engine());
            tokio::task::spawn_blocking(move || me.flush())
                .await
                .unwrap()
                .unwrap();
            while let Ok(e) = self.rx.try_recv() {
                alerts::handle(&self.engine, &e).await;
                seen.push(e);
            }
            self.clock.advance_ms(MIN);
        }
        seen
    }
}

fn drill() -> Drill {
    drill_with(Config::default())
}

fn drill_with(config: Config) -> Drill {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let engine = Engine::open(EngineOptions {
        data_dir: dir.path().to_path_buf(),
        config,
        clock: Some(Arc::new(clock.clone())),
    })
    .unwrap();
    let rx = engine.metrics_engine().subscribe_alerts();
    Drill {
        _dir: dir,
        clock,
        engine,
        rx,
    }
}

fn code(e: &microclaw_core::Error) -> Value {
    e.details.clone().unwrap_or_default()["code"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_burn_drill_from_alert_to_postmortem() {
    let mut d = drill();
    let mut events = d.engine.subscribe();
    let admin = Principal::local_cli();
    std::fs::write(
        d.engine.config_file(),
        "[auth]\nlogin_window_seconds = 60\n",
    )
    .unwrap();
    assert!(
        d.traffic(60, 100, 0).await.is_empty(),
        "clean traffic: no transition"
    );
    assert_eq!(freeze::get(&d.engine).await.unwrap()["active"], false);
    // Before the freeze a config change applies and becomes version 2 (version 1: the file before).
    let put = config::put(
        &d.engine,
        &admin,
        json!({"auth": {"login_window_seconds": 120}}),
    )
    .await
    .unwrap();
    assert_eq!(put["version"], 2);

    // The burn: pending first, firing after `for`.
    let seen = d.traffic(7, 0, 100).await;
    let page: Vec<&str> = seen
        .iter()
        .filter(|e| e.rule == PAGE)
        .map(|e| e.state.as_str())
        .collect();
    assert_eq!(page, ["pending", "firing"]);
    let list = incidents::list(&d.engine, Some("open"), None)
        .await
        .unwrap();
    let open = list["incidents"].as_array().unwrap();
    assert_eq!(
        open.len(),
        1,
        "one incident for the SLO, the other rules join it: {list}"
    );
    let id = open[0]["id"].as_i64().unwrap();
    assert_eq!(open[0]["slo"], "request_success_rate");
    assert!(
        open[0]["alertIds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == PAGE),
        "{list}"
    );
    let fz = freeze::get(&d.engine).await.unwrap();
    assert_eq!(
        (
            fz["active"].clone(),
            fz["auto"].clone(),
            fz["incidentId"].clone()
        ),
        (json!(true), json!(true), json!(id))
    );
    let mut kinds = Vec::new();
    while let Ok(ev) = events.try_recv() {
        match ev {
            EngineEvent::Incident(v) => {
                assert!(v.get("timeline").is_none());
                kinds.push("incident")
            }
            EngineEvent::FreezeChanged(v) => {
                assert_eq!(v["active"], true);
                kinds.push("freeze")
            }
            EngineEvent::SloAlert(v) => {
                assert!(v["burnRate"].is_number());
                kinds.push("alert")
            }
            _ => {}
        }
    }
    assert!(
        kinds.contains(&"incident") && kinds.contains(&"freeze") && kinds.contains(&"alert"),
        "{kinds:?}"
    );

    // Frozen: config writes and cron changes are refused with CHANGE_FREEZE, not retryable.
    let e = config::put(
        &d.engine,
        &admin,
        json!({"auth": {"login_window_seconds": 300}}),
    )
    .await
    .unwrap_err();
    assert_eq!(code(&e), "CHANGE_FREEZE");
    assert_eq!(e.details.clone().unwrap()["incidentId"], id);
    assert_eq!(e.details.clone().unwrap()["retryable"], false);
    assert!(e.message.contains("override"), "{}", e.message);
    let e = cron::add(&d.engine, &serde_json::Map::new())
        .await
        .unwrap_err();
    assert_eq!(code(&e), "CHANGE_FREEZE");
    // An admin override with a reason goes through and lands in the timeline.
    let ok = config::put(&d.engine, &admin, json!({"auth": {"login_window_seconds": 300}, "override": {"reason": "hotfix for the burn"}})).await.unwrap();
    assert_eq!(ok["version"], 3);
    let text = std::fs::read_to_string(d.engine.config_file()).unwrap();
    assert!(text.contains("300") && !text.contains("override"), "{text}");

    // Rollback while frozen: always allowed, a new version, in the timeline.
    let versions = config_versions::list(&d.engine, None).await.unwrap();
    assert_eq!(versions["currentVersion"], 3);
    let v2 = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"] == 2)
        .unwrap();
    assert!(
        v2["diff"]
            .as_str()
            .unwrap()
            .contains("-login_window_seconds = 120"),
        "{v2}"
    );
    let rb = config_versions::rollback(&d.engine, &admin.actor, &json!({"version": 2}))
        .await
        .unwrap();
    assert_eq!(
        (rb["version"].clone(), rb["rolledBackTo"].clone()),
        (json!(4), json!(2))
    );
    assert!(std::fs::read_to_string(d.engine.config_file())
        .unwrap()
        .contains("120"));
    let e = config_versions::rollback(&d.engine, &admin.actor, &json!({"version": 99}))
        .await
        .unwrap_err();
    assert!(e.message.contains("version 99 not found"), "{}", e.message);

    // Owner, a note, mitigated.
    incidents::set_owner(&d.engine, "alice", id, Some("alice"))
        .await
        .unwrap();
    incidents::add_note(&d.engine, "alice", id, Some("rolled back the login window"))
        .await
        .unwrap();
    incidents::set_status(&d.engine, "alice", id, Some("mitigated"))
        .await
        .unwrap();
    assert!(incidents::set_status(&d.engine, "alice", id, Some("done"))
        .await
        .unwrap_err()
        .message
        .contains("expected one of open, mitigated, resolved"));

    // Recovery: the page rules resolve (keep_firing_for included) and the automatic freeze lifts.
    let seen = d.traffic(45, 100, 0).await;
    assert!(
        seen.iter().any(|e| e.rule == PAGE && e.state == "resolved"),
        "{seen:?}"
    );
    assert!(d
        .engine
        .metrics_engine()
        .firing_alerts()
        .iter()
        .all(|a| a.severity != "page"));
    assert_eq!(
        freeze::get(&d.engine).await.unwrap()["active"],
        false,
        "the automatic freeze lifted"
    );
    config::put(
        &d.engine,
        &admin,
        json!({"auth": {"login_window_seconds": 90}}),
    )
    .await
    .unwrap();

    incidents::set_status(&d.engine, "alice", id, Some("resolved"))
        .await
        .unwrap();
    let inc = incidents::get(&d.engine, id).await.unwrap()["incident"].clone();
    assert_eq!(inc["status"], "resolved");
    assert!(inc["resolvedAt"].as_i64().unwrap() > inc["openedAt"].as_i64().unwrap());
    let kinds: Vec<&str> = inc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    for k in ["alert", "override", "config", "owner", "note", "status"] {
        assert!(kinds.contains(&k), "timeline has {k}: {kinds:?}");
    }
    let md = incident_export::export(&d.engine, id, "md").await.unwrap();
    assert!(
        md.starts_with("# Postmortem: SLO burn: request_success_rate"),
        "{md}"
    );
    assert!(md.contains("- Owner: alice"));
    assert!(
        md.contains("freeze override for PUT /api/config: hotfix for the burn"),
        "{md}"
    );
    assert!(md.contains("config rolled back to version 2"), "{md}");
    assert!(incident_export::export(&d.engine, id, "pdf")
        .await
        .unwrap_err()
        .message
        .contains("expected md"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_freeze_needs_a_reason_and_ends_at_until() {
    let d = drill();
    let e = freeze::set(&d.engine, "ops", &json!({"active": true}))
        .await
        .unwrap_err();
    assert!(e.message.contains("reason is required"), "{}", e.message);
    let until = T0 + 30 * MIN;
    let v = freeze::set(
        &d.engine,
        "ops",
        &json!({"active": true, "reason": "release week", "until": until}),
    )
    .await
    .unwrap();
    assert_eq!(
        (v["active"].clone(), v["until"].clone()),
        (json!(true), json!(until))
    );
    let e = cron::update(&d.engine, &serde_json::Map::new())
        .await
        .unwrap_err();
    assert_eq!(code(&e), "CHANGE_FREEZE");
    assert!(e.message.contains("release week"), "{}", e.message);
    // A hand-opened incident.
    let inc = incidents::create(
        &d.engine,
        "ops",
        &json!({"title": "checkout slow", "severity": "sev3"}),
    )
    .await
    .unwrap();
    assert_eq!(inc["incident"]["status"], "open");
    assert!(
        incidents::create(&d.engine, "ops", &json!({"title": "x", "severity": "sev9"}))
            .await
            .is_err()
    );
    d.clock.advance_ms(31 * MIN);
    assert_eq!(
        freeze::get(&d.engine).await.unwrap()["active"],
        false,
        "until passed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auto_open_and_auto_freeze_off_a_page_only_alerts() {
    let mut config = Config::default();
    config.incidents.auto_open = false;
    config.freeze.auto_on_burn = false;
    let mut d = drill_with(config);
    d.traffic(60, 100, 0).await;
    let seen = d.traffic(7, 0, 100).await;
    assert!(seen.iter().any(|e| e.rule == PAGE && e.state == "firing"));
    let list = incidents::list(&d.engine, None, None).await.unwrap();
    assert!(list["incidents"].as_array().unwrap().is_empty(), "{list}");
    assert_eq!(freeze::get(&d.engine).await.unwrap()["active"], false);
}
