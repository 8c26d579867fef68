-- The scheduler (cron.*): jobs (definition and state as JSON, the next fire time as a column
-- the loop reads), the history of each attempt, and the dead-letter queue of due runs whose
-- retries ran out. Bounded by the engine: jobs, runs kept per job, DLQ items.
CREATE TABLE scheduler_jobs (
  id TEXT PRIMARY KEY,
  job TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  next_run_at INTEGER,
  state TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE scheduler_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL,
  cron_run_id TEXT NOT NULL,
  run_id TEXT,
  session_key TEXT,
  due_at INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  trigger TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  status TEXT,
  error TEXT,
  duration_ms INTEGER
);
CREATE INDEX scheduler_runs_by_job ON scheduler_runs (job_id, id);
CREATE INDEX scheduler_runs_by_run ON scheduler_runs (run_id);
CREATE TABLE scheduler_dlq (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  run_id TEXT,
  due_at INTEGER NOT NULL,
  error TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  failed_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',
  resolved_at INTEGER,
  counted INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX scheduler_dlq_by_time ON scheduler_dlq (failed_at);
