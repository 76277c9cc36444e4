-- The meeting itself (issue 15, first half): documents sent before, questions
-- and speaking requests during, votes. Everything belongs to one event
-- (event_id, the Event.ID of event.yaml; no foreign key, so it works before
-- and after events become records). Times are Unix milliseconds (UTC), the
-- same in PostgreSQL and SQLite.

-- A document staff attached to the event (agenda_no 0) or an agenda item.
-- The file is a content-addressed blob in storage/files; internal ones are
-- for staff only and never sent to delegates.
CREATE TABLE meeting_documents (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT NOT NULL,
    agenda_no  INTEGER NOT NULL DEFAULT 0,
    title      TEXT NOT NULL,
    file_name  TEXT NOT NULL,
    mime       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    size       BIGINT NOT NULL,
    internal   INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX meeting_documents_event ON meeting_documents (event_id, agenda_no, id);

-- Who received a document in chat (via 'chat': /tailieu, or 'sent': the
-- scheduled delivery) and who opened its signed web link (opens counted).
CREATE TABLE meeting_document_reads (
    event_id    TEXT NOT NULL,
    document_id BIGINT NOT NULL,
    person_id   TEXT NOT NULL,
    received_at BIGINT NOT NULL DEFAULT 0,
    opened_at   BIGINT NOT NULL DEFAULT 0,
    opens       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (document_id, person_id)
);

-- Questions and comments (kind 'question') and speaking requests ('speak').
-- status: 'open', 'called' (a speaker given the floor), 'answered',
-- 'merged' (into merged_into). rank orders the queue (larger first), so
-- staff can move one up or down; anonymous questions keep person_id for
-- the audit but are shown without a name.
CREATE TABLE meeting_questions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('question', 'speak')),
    agenda_no   INTEGER NOT NULL DEFAULT 0,
    document_id BIGINT NOT NULL DEFAULT 0,
    body        TEXT NOT NULL,
    anonymous   INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'called', 'answered', 'merged')),
    merged_into BIGINT NOT NULL DEFAULT 0,
    answer      TEXT NOT NULL DEFAULT '',
    rank        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    done_at     BIGINT NOT NULL DEFAULT 0,
    done_by     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX meeting_questions_event ON meeting_questions (event_id, status, rank);
CREATE INDEX meeting_questions_person ON meeting_questions (person_id, created_at);

-- Per-event settings staff change in the console.
CREATE TABLE meeting_settings (
    event_id        TEXT PRIMARY KEY,
    allow_anonymous INTEGER NOT NULL DEFAULT 0
);

-- A vote or quick opinion: options one per line, or kind 'rating' (1-5).
CREATE TABLE meeting_votes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT NOT NULL,
    question   TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('options', 'rating')),
    options    TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_by TEXT NOT NULL DEFAULT '',
    opened_at  BIGINT NOT NULL,
    closed_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX meeting_votes_event ON meeting_votes (event_id, id);

-- One answer per person and vote; changed in place until the vote closes.
CREATE TABLE meeting_vote_answers (
    vote_id   BIGINT NOT NULL,
    event_id  TEXT NOT NULL,
    person_id TEXT NOT NULL,
    choice    INTEGER NOT NULL,
    at        BIGINT NOT NULL,
    changes   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (vote_id, person_id)
);
