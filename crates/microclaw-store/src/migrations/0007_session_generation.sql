-- Session generations and stop reasons.
-- `sessions.session_id` is the generation (a uuid): reset replaces it, so a run that started
-- before a reset (or a delete) finds its generation gone and writes nothing. Every insert gets
-- one from the trigger below, whichever module inserts the row.
ALTER TABLE sessions ADD COLUMN session_id TEXT;
UPDATE sessions SET session_id =
    lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
    substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) ||
    substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))
    WHERE session_id IS NULL;
CREATE TRIGGER sessions_generation_on_insert AFTER INSERT ON sessions
    WHEN NEW.session_id IS NULL
BEGIN
    UPDATE sessions SET session_id =
        lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
        substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) ||
        substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))
        WHERE id = NEW.id;
END;
-- Killed and failed runs are persisted with why they ended (aborted | error | budget | runaway |
-- timeout) and the error text; both NULL on ordinary messages.
ALTER TABLE messages ADD COLUMN stop_reason TEXT;
ALTER TABLE messages ADD COLUMN error_message TEXT;
-- Pruning finished runs by age walks this index.
CREATE INDEX runs_finished_by_ended_at ON runs (ended_at) WHERE ended_at IS NOT NULL;
