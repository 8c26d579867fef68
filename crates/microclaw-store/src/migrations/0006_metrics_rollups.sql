-- Rollups of metrics_history: one row per complete 10-minute / hourly bucket, holding the merged
-- minute deltas in the same JSON format. Written by the metrics crate as buckets close (and
-- backfilled from existing minute rows at first start: SQL cannot merge the histograms).
CREATE TABLE metrics_rollup_10m (
    bucket_ms INTEGER PRIMARY KEY,
    data      TEXT    NOT NULL
);
CREATE TABLE metrics_rollup_1h (
    bucket_ms INTEGER PRIMARY KEY,
    data      TEXT    NOT NULL
);
