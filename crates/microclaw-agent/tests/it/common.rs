//! Shared fixtures: a real temp SQLite store, real metrics, a registry and event collection.

use microclaw_agent::{AgentSet, ChatEvent, ChatState, RunRegistry, StatusProvider};
use microclaw_core::config::{MetricsConfig, SessionsConfig, Synchronous};
use microclaw_core::{SharedClock, SystemClock};
use microclaw_metrics::Metrics;
use microclaw_store::Store;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Upper bound for any single wait in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub registry: Arc<RunRegistry>,
}

pub fn status_provider() -> StatusProvider {
    Arc::new(|| {
        json!({
            "version": "9.9.9-test",
            "uptimeMs": 125_000u64,
            "sessions": {"count": 3},
            "activeRuns": 1,
            "connections": 2,
            "slo": {"request_success_rate": {"state": "ok"}},
        })
    })
}

pub fn fixture_with(
    cfg: SessionsConfig,
    agents: impl FnOnce(&Store, &Arc<Metrics>) -> AgentSet,
) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("microclaw.db"), Synchronous::Normal).unwrap();
    let clock: SharedClock = Arc::new(SystemClock);
    let metrics = Metrics::new(clock.clone(), &MetricsConfig::default());
    let agents = agents(&store, &metrics);
    let registry = RunRegistry::new(store.clone(), metrics.clone(), agents, clock, &cfg);
    Fixture {
        _dir: dir,
        store,
        metrics,
        registry,
    }
}

pub fn fixture(cfg: SessionsConfig) -> Fixture {
    fixture_with(cfg, |_, _| AgentSet::builtin_only(status_provider()))
}

/// Sessions config with a queue bound and a default run timeout (other keys at defaults).
pub fn sessions_cfg(max_queued: usize, timeout_secs: u64) -> SessionsConfig {
    SessionsConfig {
        max_queued_per_session: max_queued,
        run_timeout_seconds: timeout_secs,
        ..SessionsConfig::default()
    }
}

/// Collects the events of one run up to and including its terminal event.
pub async fn collect_run(rx: &mut broadcast::Receiver<ChatEvent>, run_id: &str) -> Vec<ChatEvent> {
    let mut events = Vec::new();
    let collect = async {
        loop {
            let ev = rx
                .recv()
                .await
                .expect("event channel must not lag or close in tests");
            if ev.run_id != run_id {
                continue;
            }
            let terminal = ev.state.is_terminal();
            events.push(ev);
            if terminal {
                break;
            }
        }
    };
    tokio::time::timeout(WAIT, collect)
        .await
        .expect("run must end within the test bound");
    events
}

/// Asserts seq counts 1, 2, … and the deltas add up to each event's cumulative text (carried
/// on every terminal event, on deltas while the reply is at most 64 KiB).
pub fn assert_well_ordered(events: &[ChatEvent]) {
    let mut text = String::new();
    for (i, ev) in events.iter().enumerate() {
        assert_eq!(
            ev.seq as usize,
            i + 1,
            "seq must count the run's events from 1 without gaps"
        );
        if ev.state == ChatState::Delta {
            text.push_str(ev.delta.as_deref().expect("a delta carries its chunk"));
        }
        assert_eq!(
            ev.text_len,
            text.len(),
            "text_len is the reply's length so far"
        );
        match ev.text.as_deref() {
            Some(t) => assert_eq!(t, text, "text is the cumulative reply"),
            None => assert!(
                ev.state == ChatState::Delta && text.len() > microclaw_agent::CUMULATIVE_TEXT_MAX,
                "only deltas of a reply past 64 KiB leave the cumulative text out"
            ),
        }
    }
    let last = events.last().expect("at least the terminal event");
    assert!(last.state.is_terminal(), "the last event is terminal");
    assert_eq!(
        events.iter().filter(|e| e.state.is_terminal()).count(),
        1,
        "exactly one terminal event"
    );
}

pub fn metric(m: &Metrics, name: &str) -> i64 {
    let snap = m.snapshot();
    let v = &snap[name];
    v.as_i64()
        .or_else(|| v.as_f64().map(|f| f as i64))
        .unwrap_or_else(|| panic!("metric {name} missing in {snap}"))
}

pub fn metric_hist_count(m: &Metrics, name: &str) -> i64 {
    let snap = m.snapshot();
    snap[name]["count"]
        .as_i64()
        .unwrap_or_else(|| panic!("histogram {name} missing in {snap}"))
}

/// Messages of a session as (role, text), oldest first.
pub fn messages(store: &Store, key: &str) -> Vec<(String, String)> {
    match store.messages_page(key, 100, None).unwrap() {
        Some((rows, _)) => rows.into_iter().map(|m| (m.role, m.text)).collect(),
        None => Vec::new(),
    }
}

pub fn json_get<'a>(v: &'a Value, path: &str) -> &'a Value {
    v.pointer(path).unwrap_or(&Value::Null)
}

/// `RunRegistry::wait` bounded by [`WAIT`].
pub async fn wait_outcome(reg: &RunRegistry, run_id: &str) -> microclaw_agent::RunOutcome {
    tokio::time::timeout(WAIT, reg.wait(run_id))
        .await
        .expect("run must end within the test bound")
        .expect("the run is known to the registry")
}
