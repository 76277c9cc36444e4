-- Trust levels (SECURITY.md).
--
-- identities.proof says how a chat showed it belongs to its person: links
-- made before this migration are taken as typed codes, the weakest proof, so
-- staff and focal points confirm once more (phone or enrolment link).
ALTER TABLE identities ADD COLUMN proof TEXT NOT NULL DEFAULT 'code';

-- A Telegram group's chat id differs from its members' user ids: such rows
-- linked a whole group to one person. Personal flows are private chats only.
DELETE FROM identities WHERE channel = 'telegram' AND chat_id <> user_id;

-- The check-in QR code carries its own secret, no longer the chat token.
ALTER TABLE people ADD COLUMN checkin_token TEXT NOT NULL DEFAULT '';
UPDATE people SET checkin_token = lower(hex(randomblob(32)));
CREATE UNIQUE INDEX people_checkin_token ON people (checkin_token);

-- Single-use enrolment links staff issue (console or command line). Only the
-- SHA-256 of the link's secret is kept.
CREATE TABLE enrolments (
    token_hash TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people (id),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    used_by    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX enrolments_person ON enrolments (person_id);

-- Where an audited action was done: "console", a chat channel, or "cli".
ALTER TABLE audit ADD COLUMN channel TEXT NOT NULL DEFAULT 'console';
