-- The burn drill (operations.md §4): alert rule transitions, incidents with their timeline,
-- and numbered config versions.
CREATE TABLE IF NOT EXISTS alert_transitions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rule TEXT NOT NULL,
  slo TEXT NOT NULL,
  severity TEXT NOT NULL,
  from_state TEXT NOT NULL,
  state TEXT NOT NULL,
  window TEXT NOT NULL,
  burn_rate REAL NOT NULL,
  burn_rate_short REAL NOT NULL,
  threshold REAL NOT NULL,
  samples INTEGER NOT NULL,
  since INTEGER NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_transitions_by_at ON alert_transitions (at);
CREATE TABLE IF NOT EXISTS incidents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  title TEXT NOT NULL,
  severity TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',
  owner TEXT,
  slo TEXT,
  alert_ids TEXT NOT NULL DEFAULT '[]',
  opened_at INTEGER NOT NULL,
  mitigated_at INTEGER,
  resolved_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_by_status ON incidents (status, id);
CREATE TABLE IF NOT EXISTS incident_timeline (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  ts INTEGER NOT NULL,
  kind TEXT NOT NULL,
  text TEXT NOT NULL,
  actor TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incident_timeline_by_incident ON incident_timeline (incident_id, id);
CREATE TABLE IF NOT EXISTS config_versions (
  version INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  source TEXT NOT NULL,
  text TEXT NOT NULL,
  changed TEXT NOT NULL DEFAULT '[]',
  rolled_back_to INTEGER
);
