-- Sessions with denormalized message_count / last_message_preview so list pages never touch
-- the messages table; messages belong to a session by id and go with it on delete.
CREATE TABLE sessions (
    id                   INTEGER PRIMARY KEY,
    key                  TEXT    NOT NULL UNIQUE,
    label                TEXT,
    thinking_level       TEXT    NOT NULL DEFAULT 'off',
    verbose_level        TEXT    NOT NULL DEFAULT 'off',
    reasoning_level      TEXT    NOT NULL DEFAULT 'off',
    parent_key           TEXT,
    fork_point           INTEGER,
    agent_id             TEXT,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    message_count        INTEGER NOT NULL DEFAULT 0,
    last_message_preview TEXT
);
-- Covers list ordering and lets search scan key/label without touching the wide rows.
CREATE INDEX sessions_by_updated_at ON sessions (updated_at, id, key, label);
CREATE INDEX sessions_by_parent_key ON sessions (parent_key);
CREATE INDEX sessions_by_created_at ON sessions (created_at, id);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_by_session ON messages (session_id, id);
