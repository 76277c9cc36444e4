-- Staff confirmations of manual sends (the /nhacnho reminder, /thongbao
-- broadcasts): one row per preview, so a confirm button pressed twice, or
-- pressed again late, sends nothing more.
CREATE TABLE manual_sends (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    done       BOOLEAN NOT NULL DEFAULT FALSE,
    sent       INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Processed update ids (and the done marks kept here) are pruned after a
-- week (by age).
CREATE INDEX processed_updates_at ON processed_updates (processed_at);
CREATE INDEX done_updates_at ON done_updates (done_at);
