-- Full-text search over message text (issue 17). An external-content FTS5 index: the text
-- lives once, in `messages`; the index holds only tokens and is kept in step by the triggers
-- below, whichever module writes (append, run end, fork copy, reset, and the cascade of a
-- session delete, which fires the delete trigger for every message).
-- unicode61 with remove_diacritics 2: "creme" finds "Crème"; case-insensitive.
CREATE VIRTUAL TABLE message_fts USING fts5(
    text,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER message_fts_after_insert AFTER INSERT ON messages
BEGIN
    INSERT INTO message_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
CREATE TRIGGER message_fts_after_delete AFTER DELETE ON messages
BEGIN
    INSERT INTO message_fts (message_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
END;
CREATE TRIGGER message_fts_after_update AFTER UPDATE OF text ON messages
BEGIN
    INSERT INTO message_fts (message_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
    INSERT INTO message_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
-- Backfill: index every message already stored.
INSERT INTO message_fts (message_fts) VALUES ('rebuild');
