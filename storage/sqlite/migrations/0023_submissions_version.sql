-- The facts version of a focal point carries the version of their agency's
-- submissions, of every campaign (sqlstore.workVersionSQL: the count of
-- the rows and the sum of their versions), read at every append of an
-- update of theirs: read from this index alone (the same as PostgreSQL's,
-- the version a key column: SQLite has no INCLUDE).
CREATE INDEX submissions_agency_version ON submissions (agency_code, version);
