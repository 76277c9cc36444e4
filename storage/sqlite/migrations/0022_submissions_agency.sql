-- A focal point's submissions are read at every update of theirs
-- (sqlstore.Submissions: campaign_id, agency_code, ordered by indicator).
-- The primary key (campaign_id, indicator_code, agency_code) cannot serve
-- it, so the read went through every row of the campaign; on this index
-- it is the agency's rows, in order (the same index as on PostgreSQL).
CREATE INDEX submissions_agency ON submissions (campaign_id, agency_code, indicator_code);
