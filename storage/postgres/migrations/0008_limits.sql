-- Abuse limits (issue 10) and the web chat's durable history.
--
-- blob_uploads says who stored each evidence file and when (Unix ms): the
-- per-person and total disk quotas are summed from it, and a file no
-- submission or history row references is collected a day after its last
-- upload.
CREATE TABLE blob_uploads (
    sha256      TEXT NOT NULL,
    person_id   TEXT NOT NULL,
    size        BIGINT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (sha256, person_id)
);
CREATE INDEX blob_uploads_person ON blob_uploads (person_id);

-- server_keys holds secrets the server makes for itself once and shares
-- between processes (the web chat's cookie signing key).
CREATE TABLE server_keys (
    name       TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- webchat_messages keeps the last messages of each identified web chat so a
-- restarted server shows them again; files are referenced, never inlined.
CREATE TABLE webchat_messages (
    chat TEXT NOT NULL,
    seq  BIGINT NOT NULL,
    body TEXT NOT NULL,
    at   BIGINT NOT NULL,
    PRIMARY KEY (chat, seq)
);
