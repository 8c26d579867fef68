-- Usage per run (on the run row) and summed per day, session, agent and model (kept when
-- finished runs are pruned). `day` is the run's end date in budgets.timezone (YYYY-MM-DD).
ALTER TABLE runs ADD COLUMN agent_id TEXT;
ALTER TABLE runs ADD COLUMN model TEXT;
ALTER TABLE runs ADD COLUMN input_tokens INTEGER;
ALTER TABLE runs ADD COLUMN output_tokens INTEGER;
ALTER TABLE runs ADD COLUMN cost_usd REAL;
ALTER TABLE runs ADD COLUMN usage_estimated INTEGER;

CREATE TABLE usage_daily (
    day             TEXT    NOT NULL,
    session_key     TEXT    NOT NULL,
    agent_id        TEXT    NOT NULL,
    model           TEXT    NOT NULL,
    runs            INTEGER NOT NULL DEFAULT 0,
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    cost_usd        REAL    NOT NULL DEFAULT 0,
    -- runs of a model without a price (their cost is unknown, not zero)
    unpriced_runs   INTEGER NOT NULL DEFAULT 0,
    estimated_runs  INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (day, session_key, agent_id, model)
);
CREATE INDEX usage_daily_by_session ON usage_daily (session_key, day);
CREATE INDEX usage_daily_by_agent ON usage_daily (agent_id, day);
CREATE INDEX usage_daily_by_model ON usage_daily (model, day);
