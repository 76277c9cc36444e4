-- The phone look-up of a person this process's list does not have yet
-- (bot.findUnknown: a substitute another process added) reads one row.
CREATE INDEX IF NOT EXISTS people_phone ON people (phone);

-- A counter per list that processes keep in memory, bumped in the
-- transaction of every change to it: a process checks one row instead of
-- reading the whole list again. 'events': the events and their invitees.
CREATE TABLE data_versions (
    name    TEXT PRIMARY KEY,
    version BIGINT NOT NULL DEFAULT 0
);
INSERT INTO data_versions (name, version) VALUES ('events', 0);
