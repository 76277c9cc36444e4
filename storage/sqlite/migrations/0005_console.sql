-- The staff console (package web): one-time sign-in links, cookie sessions,
-- check-in at the door, an audit trail of every console action, and
-- uploaded lists waiting for confirmation. Times the queries compare are
-- Unix milliseconds (INTEGER), the same on PostgreSQL and SQLite.
--
-- Only the SHA-256 of a sign-in token or a session id is stored: a copy of
-- the database cannot be replayed as a link or a cookie.
CREATE TABLE signin_tokens (
    token_hash TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE console_sessions (
    id_hash    TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- The first check-in wins; a second one reports the first.
CREATE TABLE checkins (
    person_id TEXT PRIMARY KEY,
    at        INTEGER NOT NULL,
    by_person TEXT NOT NULL DEFAULT '',
    method    TEXT NOT NULL CHECK (method IN ('desk', 'self'))
);

CREATE TABLE audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    person_id TEXT NOT NULL,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);

-- An uploaded list between preview and confirmation, bound to the session
-- that uploaded it. Removed on confirmation and after an hour.
CREATE TABLE console_uploads (
    id           TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    kind         TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    data         BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);
