-- The organisers' plan and the follow-up tasks of conclusion notices (one
-- table: both are tasks with an owner, a deadline and a status), their
-- history, the conclusion notices, and the feedback of attendees. Every row
-- belongs to an event (event_id, no foreign key: see the events work).
CREATE TABLE tasks (
    event_id    TEXT NOT NULL,
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,             -- 'plan' or 'followup'
    title       TEXT NOT NULL,
    unit        TEXT NOT NULL DEFAULT '',
    agency_code TEXT NOT NULL DEFAULT '',
    owner_id    TEXT NOT NULL DEFAULT '',
    deadline    TIMESTAMPTZ NOT NULL,
    status      TEXT NOT NULL DEFAULT 'todo',
    note        TEXT NOT NULL DEFAULT '',
    conclusion  TEXT NOT NULL DEFAULT '',
    from_config BOOLEAN NOT NULL DEFAULT FALSE,
    version     INTEGER NOT NULL DEFAULT 1,
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (event_id, id)
);
CREATE INDEX tasks_owner ON tasks (event_id, owner_id);
CREATE INDEX tasks_agency ON tasks (event_id, agency_code);

CREATE TABLE task_history (
    id       BIGSERIAL PRIMARY KEY,
    event_id TEXT NOT NULL,
    task_id  TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    by_person TEXT NOT NULL DEFAULT '',
    status   TEXT NOT NULL DEFAULT '',
    note     TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL DEFAULT '[]',  -- JSON list of domain.Evidence, like submissions
    channel  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX task_history_task ON task_history (event_id, task_id, id);

CREATE TABLE conclusions (
    event_id   TEXT NOT NULL,
    id         TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at    TIMESTAMPTZ,
    sent_by    TEXT NOT NULL DEFAULT '',
    -- the secret in the link to the notice's text version that its
    -- recipients get (set when it is sent; a capability, like invite tokens).
    link_token TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (event_id, id)
);

CREATE TABLE feedback (
    event_id  TEXT NOT NULL,
    person_id TEXT NOT NULL,
    rating    INTEGER NOT NULL,
    comment   TEXT NOT NULL DEFAULT '',
    at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (event_id, person_id)
);
