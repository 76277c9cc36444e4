-- Text read from evidence files (package evidence), by the file's content
-- address: the console searches it and the review flags use it. The reader
-- bounds body (256 KiB); status is 'ok' or why the file could not be read.
CREATE TABLE evidence_text (
    sha256  TEXT PRIMARY KEY,
    status  TEXT NOT NULL,
    ocr     INTEGER NOT NULL DEFAULT 0,
    pages   INTEGER NOT NULL DEFAULT 0,
    body    TEXT NOT NULL DEFAULT '',
    search  TEXT NOT NULL DEFAULT '', -- body lower-cased in Go (SQLite's lower() is ASCII only)
    read_at TIMESTAMP NOT NULL
);

-- Plausibility checks from the catalog (flows/flags.go): the relative change
-- from last year that warns (0: the default ±50 %), a soft range, and the
-- indicators a ratio is made of.
ALTER TABLE indicators ADD COLUMN change_limit REAL NOT NULL DEFAULT 0;
ALTER TABLE indicators ADD COLUMN soft_min REAL;
ALTER TABLE indicators ADD COLUMN soft_max REAL;
ALTER TABLE indicators ADD COLUMN numerator TEXT NOT NULL DEFAULT '';
ALTER TABLE indicators ADD COLUMN denominator TEXT NOT NULL DEFAULT '';
