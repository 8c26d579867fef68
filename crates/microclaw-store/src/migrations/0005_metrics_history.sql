-- One row per minute bucket; the metrics crate owns the JSON format and the merging.
CREATE TABLE metrics_history (
    bucket_ms INTEGER PRIMARY KEY,
    data      TEXT    NOT NULL
);
