-- A focal point's submissions are read at every update of theirs
-- (sqlstore.Submissions: campaign_id, agency_code, ordered by indicator).
-- The primary key (campaign_id, indicator_code, agency_code) cannot serve
-- it, so the read scanned every row of every campaign and sorted (a
-- sequential scan: 1,924 rows for 37 agencies × 26 indicators × 2
-- campaigns, 0.3 ms of server CPU). On this index it is the agency's rows,
-- in order (0.1 ms), however many campaigns and agencies there are.
CREATE INDEX submissions_agency ON submissions (campaign_id, agency_code, indicator_code);
