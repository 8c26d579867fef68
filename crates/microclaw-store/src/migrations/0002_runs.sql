-- Agent runs; the idempotency key is unique per session so a retried send finds its run.
CREATE TABLE runs (
    run_id          TEXT    PRIMARY KEY,
    session_key     TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    idempotency_key TEXT,
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    error_message   TEXT
);
CREATE UNIQUE INDEX runs_by_idempotency ON runs (session_key, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_running ON runs (state) WHERE state = 'running';
