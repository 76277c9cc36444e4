-- Text read from evidence files (package evidence), by the file's content
-- address: the console searches it and the review flags use it. The reader
-- bounds body (256 KiB); status is 'ok' or why the file could not be read.
CREATE TABLE evidence_text (
    sha256  TEXT PRIMARY KEY,
    status  TEXT NOT NULL,
    ocr     BOOLEAN NOT NULL DEFAULT FALSE,
    pages   INTEGER NOT NULL DEFAULT 0,
    body    TEXT NOT NULL DEFAULT '',
    search  TEXT NOT NULL DEFAULT '', -- body lower-cased in Go (SQLite's lower() is ASCII only)
    read_at TIMESTAMPTZ NOT NULL
);
