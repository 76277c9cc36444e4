-- Many events and data campaigns in one deployment (issue 14). Agencies,
-- people and their chat identities stay shared; what belongs to one event
-- or campaign carries its id. Times are Unix milliseconds.
--
-- data is the event (domain.Event) or campaign as JSON, so that fields
-- added to them later travel without a migration; the columns beside it
-- are what queries sort and filter on. code is the event's short code,
-- unique: two events cannot share it. source_hash is the hash of the
-- config files an imported record came from ('' when made in the console),
-- so importing the same files again changes nothing.
CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    name_vi      TEXT NOT NULL,
    name_en      TEXT NOT NULL DEFAULT '',
    timezone     TEXT NOT NULL,
    start_at     INTEGER NOT NULL,
    end_at       INTEGER NOT NULL,
    rsvp_cutoff  INTEGER NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'archived')),
    campaign_id  TEXT NOT NULL DEFAULT '',
    schedule     TEXT NOT NULL DEFAULT '',  -- the reminder schedule (schedule.yaml's text), '' for the defaults
    data         TEXT NOT NULL,
    source_hash  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX events_start ON events (status, start_at);

-- Who is invited to which event; role is what they come as ('' for the
-- roles on their person row).
CREATE TABLE event_invitees (
    event_id  TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id),
    role      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (event_id, person_id)
);
CREATE INDEX event_invitees_person ON event_invitees (person_id);

-- A data campaign: catalog version, the campaign before it (last year's
-- values come from its approved submissions), renamed indicator codes
-- (JSON {new code: old code}), deadlines (data holds the per-agency ones).
CREATE TABLE campaigns (
    id              TEXT PRIMARY KEY,
    name_vi         TEXT NOT NULL,
    name_en         TEXT NOT NULL DEFAULT '',
    catalog_version TEXT NOT NULL DEFAULT '',
    previous_id     TEXT NOT NULL DEFAULT '',
    code_map        TEXT NOT NULL DEFAULT '{}',
    deadline        INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'archived')),
    data            TEXT NOT NULL,
    source_hash     TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Rows made before this migration have '' and are adopted by the first
-- event and campaign imported (sqlstore.ImportEvent), in one transaction.
ALTER TABLE rsvps ADD COLUMN event_id TEXT NOT NULL DEFAULT '';
CREATE INDEX rsvps_event_person ON rsvps (event_id, person_id, id);

-- A person checks in once per event.
-- (SQLite cannot change a primary key: the table is rebuilt.)
CREATE TABLE checkins_new (
    event_id  TEXT NOT NULL DEFAULT '',
    person_id TEXT NOT NULL,
    at        INTEGER NOT NULL,
    by_person TEXT NOT NULL DEFAULT '',
    method    TEXT NOT NULL CHECK (method IN ('desk', 'self')),
    PRIMARY KEY (event_id, person_id)
);
INSERT INTO checkins_new (event_id, person_id, at, by_person, method)
    SELECT '', person_id, at, by_person, method FROM checkins;
DROP TABLE checkins;
ALTER TABLE checkins_new RENAME TO checkins;

ALTER TABLE assignments ADD COLUMN campaign_id TEXT NOT NULL DEFAULT '';
-- An agency answers each indicator once per campaign (rebuilt, as above).
CREATE TABLE submissions_new (
    campaign_id    TEXT NOT NULL DEFAULT '',
    indicator_code TEXT NOT NULL,
    agency_code    TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'approved')),
    value          TEXT NOT NULL DEFAULT '',
    note           TEXT NOT NULL DEFAULT '',
    doc_number     TEXT NOT NULL DEFAULT '',
    doc_date       TEXT NOT NULL DEFAULT '',
    evidence       TEXT NOT NULL DEFAULT '[]',
    by_person      TEXT NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    submitted_at   TIMESTAMP,
    review_note    TEXT NOT NULL DEFAULT '',
    reviewed_by    TEXT NOT NULL DEFAULT '',
    reviewed_at    TIMESTAMP,
    version        INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (campaign_id, indicator_code, agency_code)
);
INSERT INTO submissions_new (campaign_id, indicator_code, agency_code, status, value, note, doc_number, doc_date, evidence,
        by_person, updated_at, submitted_at, review_note, reviewed_by, reviewed_at, version)
    SELECT '', indicator_code, agency_code, status, value, note, doc_number, doc_date, evidence,
        by_person, updated_at, submitted_at, review_note, reviewed_by, reviewed_at, version FROM submissions;
DROP TABLE submissions;
ALTER TABLE submissions_new RENAME TO submissions;
CREATE INDEX submissions_status ON submissions (status, submitted_at);
ALTER TABLE submission_history ADD COLUMN campaign_id TEXT NOT NULL DEFAULT '';
CREATE INDEX submission_history_campaign ON submission_history (campaign_id, indicator_code, agency_code, id);

-- Approved values of a closed campaign, kept when the catalog moves on, so
-- that the next campaign finds "last year's value" by indicator code.
CREATE TABLE campaign_values (
    campaign_id    TEXT NOT NULL,
    indicator_code TEXT NOT NULL,
    agency_code    TEXT NOT NULL,
    value          TEXT NOT NULL,
    approved_at    INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, indicator_code, agency_code)
);
