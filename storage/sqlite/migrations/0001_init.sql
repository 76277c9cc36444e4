-- People and their answers. processed_updates makes applying an update's
-- effects idempotent: a replayed update finds its id and changes nothing.
CREATE TABLE agencies (
    code    TEXT PRIMARY KEY,
    name_vi TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    kind    TEXT NOT NULL DEFAULT ''
);

CREATE TABLE people (
    id           TEXT PRIMARY KEY,
    full_name    TEXT NOT NULL,
    position     TEXT NOT NULL DEFAULT '',
    agency_code  TEXT NOT NULL REFERENCES agencies (code),
    phone        TEXT NOT NULL DEFAULT '',
    email        TEXT NOT NULL DEFAULT '',
    roles        TEXT NOT NULL DEFAULT 'delegate',
    invite_token TEXT NOT NULL UNIQUE,
    invite_code  TEXT NOT NULL UNIQUE,
    lang         TEXT NOT NULL DEFAULT '',
    list_order   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE identities (
    channel   TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    chat_id   TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id),
    linked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel, user_id)
);
CREATE INDEX identities_person ON identities (person_id);

CREATE TABLE rsvps (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id    TEXT NOT NULL REFERENCES people (id),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'attend', 'decline', 'substitute')),
    sub_name     TEXT NOT NULL DEFAULT '',
    sub_position TEXT NOT NULL DEFAULT '',
    sub_phone    TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL,
    update_key   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX rsvps_person ON rsvps (person_id, id);

CREATE TABLE processed_updates (
    channel      TEXT NOT NULL,
    update_id    TEXT NOT NULL,
    processed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel, update_id)
);

-- The embedded default keeps sessions and done-update marks in the same file
-- (Redis holds them in production), so a restart loses no conversation.
CREATE TABLE sessions (
    chat       TEXT PRIMARY KEY,
    data       BLOB NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE done_updates (
    update_key TEXT PRIMARY KEY,
    done_at    TIMESTAMP NOT NULL
);
