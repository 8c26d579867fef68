-- Append-only, hash-chained audit log (see audit_log.rs for the canonical row).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    ts         INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    target     TEXT,
    detail     TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    entry_hash TEXT    NOT NULL
);
CREATE INDEX audit_log_by_kind ON audit_log (kind, id);
