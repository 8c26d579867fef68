#![allow(clippy::unwrap_used)]
mod common;

const MIN: i64 = 60_000;

#[test]
fn put_upserts_range_is_inclusive_and_ascending_prune_is_exclusive() {
    let t = common::temp_store();
    let rows: Vec<(i64, String)> = (0..5)
        .rev()
        .map(|i| (i * MIN, format!("{{\"m\":{i}}}")))
        .collect();
    t.store.metrics_history_put(&rows).unwrap();
    t.store
        .metrics_history_put(&[(2 * MIN, "{\"m\":\"replaced\"}".into())])
        .unwrap();
    t.store.metrics_history_put(&[]).unwrap();

    let got = t.store.metrics_history_range(MIN, 3 * MIN).unwrap();
    assert_eq!(
        got.iter().map(|r| r.0).collect::<Vec<_>>(),
        [MIN, 2 * MIN, 3 * MIN]
    );
    assert_eq!(
        got[1].1, "{\"m\":\"replaced\"}",
        "a second put for a bucket replaces it"
    );
    assert!(t
        .store
        .metrics_history_range(10 * MIN, 20 * MIN)
        .unwrap()
        .is_empty());

    assert_eq!(t.store.metrics_history_prune(2 * MIN).unwrap(), 2);
    let left = t.store.metrics_history_range(i64::MIN, i64::MAX).unwrap();
    assert_eq!(
        left.iter().map(|r| r.0).collect::<Vec<_>>(),
        [2 * MIN, 3 * MIN, 4 * MIN]
    );
}
