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
    start_at     BIGINT NOT NULL,
    end_at       BIGINT NOT NULL,
    rsvp_cutoff  BIGINT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'archived')),
    campaign_id  TEXT NOT NULL DEFAULT '',
    schedule     TEXT NOT NULL DEFAULT '',  -- the reminder schedule (schedule.yaml's text), '' for the defaults
    data         TEXT NOT NULL,
    source_hash  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
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
    deadline        BIGINT NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'archived')),
    data            TEXT NOT NULL,
    source_hash     TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Rows made before this migration have '' and are adopted by the first
-- event and campaign imported (sqlstore.ImportEvent), in one transaction.
ALTER TABLE rsvps ADD COLUMN event_id TEXT NOT NULL DEFAULT '';
CREATE INDEX rsvps_event_person ON rsvps (event_id, person_id, id);

-- A person checks in once per event.
ALTER TABLE checkins ADD COLUMN event_id TEXT NOT NULL DEFAULT '';
ALTER TABLE checkins DROP CONSTRAINT checkins_pkey;
ALTER TABLE checkins ADD PRIMARY KEY (event_id, person_id);

ALTER TABLE assignments ADD COLUMN campaign_id TEXT NOT NULL DEFAULT '';
-- An agency answers each indicator once per campaign.
ALTER TABLE submissions ADD COLUMN campaign_id TEXT NOT NULL DEFAULT '';
ALTER TABLE submissions DROP CONSTRAINT submissions_pkey;
ALTER TABLE submissions ADD PRIMARY KEY (campaign_id, indicator_code, agency_code);
ALTER TABLE submission_history ADD COLUMN campaign_id TEXT NOT NULL DEFAULT '';
CREATE INDEX submission_history_campaign ON submission_history (campaign_id, indicator_code, agency_code, id);

-- Approved values of a closed campaign, kept when the catalog moves on, so
-- that the next campaign finds "last year's value" by indicator code.
CREATE TABLE campaign_values (
    campaign_id    TEXT NOT NULL,
    indicator_code TEXT NOT NULL,
    agency_code    TEXT NOT NULL,
    value          TEXT NOT NULL,
    approved_at    BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, indicator_code, agency_code)
);
