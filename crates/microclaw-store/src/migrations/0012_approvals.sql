-- Approvals for acting tools (operations.md §1): one row per request, pending until an
-- operator (or expiry, or a restart) settles it; terminal rows form approval.history.
CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL DEFAULT 'exec',
  session_key TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  tool TEXT NOT NULL,
  command TEXT NOT NULL,
  cwd TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  -- pending | allowed | denied | expired
  status TEXT NOT NULL DEFAULT 'pending',
  -- allow-once | allow-always | deny (NULL while pending)
  decision TEXT,
  reason TEXT,
  resolved_by TEXT,
  resolved_at INTEGER
);
CREATE INDEX IF NOT EXISTS approvals_by_status ON approvals (status, created_at);
CREATE INDEX IF NOT EXISTS approvals_history ON approvals (resolved_at, id) WHERE status <> 'pending';
-- allow-always rules: later calls of the same agent, tool and exact command do not ask.
CREATE TABLE IF NOT EXISTS approval_rules (
  agent_id TEXT NOT NULL,
  tool TEXT NOT NULL,
  command TEXT NOT NULL,
  approval_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (agent_id, tool, command)
);
