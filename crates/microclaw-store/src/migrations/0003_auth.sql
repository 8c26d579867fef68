-- Auth state: API keys (hash only), login sessions, remembered devices, key/value settings,
-- and named counters (api_keys revision for cross-process cache invalidation).
CREATE TABLE api_keys (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    label               TEXT    NOT NULL,
    prefix              TEXT    NOT NULL,
    key_hash            TEXT    NOT NULL UNIQUE,
    scopes              TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER,
    last_used_at        INTEGER,
    revoked_at          INTEGER,
    rotated_from_key_id INTEGER REFERENCES api_keys (id)
);

CREATE TABLE login_sessions (
    id_hash    TEXT    PRIMARY KEY,
    csrf       TEXT    NOT NULL,
    label      TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE devices (
    device_id     TEXT    PRIMARY KEY,
    public_key    TEXT    NOT NULL,
    client_id     TEXT    NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    revoked_at    INTEGER
);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('api_keys_revision', 0);
