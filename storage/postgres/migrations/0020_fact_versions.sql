-- What the flows need about a person (their chat link, their row with the
-- language, their answer, their unreachable mark) is cached with each chat's
-- session and checked by version instead of read on every update
-- (bot/factscache.go). On PostgreSQL the version is read, never written:
-- the link's and the person's row versions (xmin: every change of a row
-- makes a new one), their newest answer's id (answers are only inserted)
-- and whether a channel is marked unreachable (sqlstore.factsVersionSQL).
-- The append of an update to the inbox stores, in its own snapshot, the
-- person the sender's account is linked to and that version; the worker
-- uses the session's cached facts only when they carry the same.
ALTER TABLE inbox ADD COLUMN facts_person TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN facts_v TEXT NOT NULL DEFAULT '';
