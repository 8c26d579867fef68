//! The fleet tables: registry rows, the probe state with its down streak, and a probe
//! history trimmed to the newest `keep` rows per gateway.
#![allow(clippy::unwrap_used)]
mod common;

use microclaw_store::gateways::{GatewayNew, GatewayPatch, ProbeResult};

fn new(name: &str) -> GatewayNew {
    GatewayNew {
        name: name.into(),
        url: "ws://127.0.0.1:1/".into(),
        kind: None,
        token_store: "file".into(),
        token_ref: format!("ref-{name}"),
        token_cipher: Some(vec![7; 40]),
    }
}

fn probe(status: &str) -> ProbeResult {
    ProbeResult {
        status: status.into(),
        latency_ms: (status == "up").then_some(3),
        version: (status == "up").then(|| "9.9".to_string()),
        protocol: (status == "up").then_some(4),
        session_count: (status == "up").then_some(2),
        kind: None,
        error: (status != "up").then(|| "refused".to_string()),
    }
}

#[test]
fn probes_keep_the_last_good_facts_count_the_down_streak_and_trim_history() {
    let t = common::temp_store();
    let s = &t.store;
    let a = s.gateway_insert(&new("a"), 1).unwrap();
    let b = s.gateway_insert(&new("b"), 1).unwrap();
    assert_eq!(a.status, "unknown");
    for i in 0..15 {
        s.gateway_record_probe(a.id, &probe(if i < 12 { "up" } else { "down" }), 10 + i, 10)
            .unwrap();
    }
    s.gateway_record_probe(b.id, &probe("up"), 5, 10).unwrap();
    let row = s.gateway_get(a.id).unwrap().unwrap();
    assert_eq!(row.status, "down");
    assert_eq!(row.down_streak, 3);
    assert_eq!(
        row.version.as_deref(),
        Some("9.9"),
        "a down probe keeps the last version"
    );
    assert_eq!(row.last_error.as_deref(), Some("refused"));
    let h = s.gateway_history(a.id, 100).unwrap();
    assert_eq!(h.len(), 10, "the newest 10 kept");
    assert_eq!(h.first().unwrap().at, 15);
    assert_eq!(h.last().unwrap().at, 24);
    assert_eq!(
        s.gateway_history(b.id, 100).unwrap().len(),
        1,
        "other gateways untouched"
    );

    let up = s
        .gateway_record_probe(a.id, &probe("up"), 30, 10)
        .unwrap()
        .unwrap();
    assert_eq!(up.down_streak, 0);

    // A new token resets the state; the ciphertext is readable only on its own.
    let patch = GatewayPatch {
        token: Some(("file".into(), "ref-new".into(), Some(vec![9; 40]))),
        ..GatewayPatch::default()
    };
    let changed = s.gateway_update(a.id, &patch, 40).unwrap();
    assert_eq!(changed.status, "unknown");
    assert_eq!(changed.token_ref, "ref-new");
    assert_eq!(s.gateway_token_cipher(a.id).unwrap(), Some(vec![9; 40]));

    s.gateway_delete(a.id).unwrap();
    assert!(s.gateway_get(a.id).unwrap().is_none());
    assert!(s.gateway_history(a.id, 100).unwrap().is_empty());
    assert!(s
        .gateway_record_probe(a.id, &probe("up"), 50, 10)
        .unwrap()
        .is_none());
    let err = s.gateway_delete(a.id).unwrap_err();
    assert!(err.message.contains("not found"), "{}", err.message);
}
