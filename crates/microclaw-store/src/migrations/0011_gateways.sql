-- Fleet (operations.md §5): remote gateways the console probes. The token is never stored in
-- clear: `token_store` says where it is — 'keychain' (the OS keychain, entry `token_ref`) or
-- 'file' (`token_cipher`: nonce || ChaCha20-Poly1305 ciphertext under the install secret).
CREATE TABLE IF NOT EXISTS gateways (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  url TEXT NOT NULL,
  kind TEXT,
  token_store TEXT NOT NULL,
  token_ref TEXT NOT NULL,
  token_cipher BLOB,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'unknown',
  latency_ms INTEGER,
  version TEXT,
  protocol INTEGER,
  session_count INTEGER,
  last_checked_at INTEGER,
  last_error TEXT,
  down_streak INTEGER NOT NULL DEFAULT 0
);
-- One row per probe, the newest `fleet.history_rows` kept per gateway.
CREATE TABLE IF NOT EXISTS gateway_probes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  gateway_id INTEGER NOT NULL REFERENCES gateways(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  status TEXT NOT NULL,
  latency_ms INTEGER,
  error TEXT
);
CREATE INDEX IF NOT EXISTS gateway_probes_by_gateway ON gateway_probes (gateway_id, id);
