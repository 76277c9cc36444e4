-- The PII data campaign: catalog and assignments (synced from the config),
-- each agency's submission per indicator as it stands, its evidence, and the
-- history of every change.
CREATE TABLE indicators (
    code              TEXT PRIMARY KEY,
    pillar            TEXT NOT NULL DEFAULT '',
    name_vi           TEXT NOT NULL,
    name_en           TEXT NOT NULL DEFAULT '',
    guidance_vi       TEXT NOT NULL DEFAULT '',
    guidance_en       TEXT NOT NULL DEFAULT '',
    unit              TEXT NOT NULL DEFAULT '',
    value_type        TEXT NOT NULL,
    min_value         DOUBLE PRECISION,
    max_value         DOUBLE PRECISION,
    ref_year          INTEGER NOT NULL DEFAULT 0,
    evidence_required BOOLEAN NOT NULL DEFAULT TRUE,
    agency_code       TEXT NOT NULL DEFAULT '',
    last_year         TEXT NOT NULL DEFAULT '',
    list_order        INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE assignments (
    indicator_code TEXT NOT NULL REFERENCES indicators (code),
    agency_code    TEXT NOT NULL REFERENCES agencies (code),
    focal_ids      TEXT NOT NULL,
    deadline       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (indicator_code, agency_code)
);

CREATE TABLE submissions (
    indicator_code TEXT NOT NULL,
    agency_code    TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'approved')),
    value          TEXT NOT NULL DEFAULT '',
    note           TEXT NOT NULL DEFAULT '',
    doc_number     TEXT NOT NULL DEFAULT '',
    doc_date       TEXT NOT NULL DEFAULT '',
    evidence       TEXT NOT NULL DEFAULT '[]',
    by_person      TEXT NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    submitted_at   TIMESTAMPTZ,
    review_note    TEXT NOT NULL DEFAULT '',
    reviewed_by    TEXT NOT NULL DEFAULT '',
    reviewed_at    TIMESTAMPTZ,
    version        INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (indicator_code, agency_code)
);
CREATE INDEX submissions_status ON submissions (status, submitted_at);

CREATE TABLE submission_history (
    id             BIGSERIAL PRIMARY KEY,
    indicator_code TEXT NOT NULL,
    agency_code    TEXT NOT NULL,
    by_person      TEXT NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    action         TEXT NOT NULL,
    old_value      TEXT NOT NULL DEFAULT '',
    new_value      TEXT NOT NULL DEFAULT '',
    evidence       TEXT NOT NULL DEFAULT '[]',
    comment        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX submission_history_item ON submission_history (indicator_code, agency_code, id);
