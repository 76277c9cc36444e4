-- Reminders and broadcasts: an outbox of messages to send, each once.
-- Times are Unix milliseconds (UTC) in BIGINT columns, the same in
-- PostgreSQL and SQLite, so that the shared queries compare them exactly.
-- key is the idempotency key "job|occurrence|recipient": enqueueing the same
-- message twice (a retried job, two leaders for a moment) inserts nothing.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    key             TEXT NOT NULL UNIQUE,
    job             TEXT NOT NULL,
    person_id       TEXT NOT NULL DEFAULT '',
    channel         TEXT NOT NULL DEFAULT '',
    chat_id         TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL DEFAULT '[]', -- JSON: the []flows.Reply to send
    due_at          BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL DEFAULT 0,  -- 0: never; later it is skipped
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'unreachable')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at BIGINT NOT NULL,
    sent_at         BIGINT NOT NULL DEFAULT 0,
    claimed_by      TEXT NOT NULL DEFAULT '',
    claimed_until   BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_job ON outbox (job, id);

-- People a channel refused delivery to (Telegram 403: blocked the bot).
CREATE TABLE unreachable (
    person_id TEXT NOT NULL,
    channel   TEXT NOT NULL,
    since     BIGINT NOT NULL,
    reason    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (person_id, channel)
);

-- The leader lease: one process runs the timed jobs. fence grows with every
-- change of holder.
CREATE TABLE scheduler_leader (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    fence      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- How far each job has been evaluated, so that a restarted process catches
-- up on the moments it missed.
CREATE TABLE scheduler_runs (
    job      TEXT PRIMARY KEY,
    last_run BIGINT NOT NULL,
    fence    BIGINT NOT NULL DEFAULT 0
);

-- The agenda as last announced, to notice and announce changes once.
CREATE TABLE scheduler_agenda (
    event_id   TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    snapshot   TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
