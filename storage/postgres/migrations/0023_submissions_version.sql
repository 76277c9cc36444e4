-- The facts version of a focal point carries the version of their agency's
-- submissions, of every campaign (sqlstore.workVersionSQL: the count of
-- the rows and the sum of their versions), read at every append of an
-- update of theirs. submissions_agency leads with the campaign and cannot
-- serve it; this index can, from the index alone where the visibility map
-- allows.
CREATE INDEX submissions_agency_version ON submissions (agency_code) INCLUDE (version);
