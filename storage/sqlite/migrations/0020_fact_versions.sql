-- What the flows need about a person (their chat links, their row with the
-- language, their answers, their unreachable marks) is cached with each chat's
-- session and checked by version instead of read on every update. The version
-- of a person is bumped by these triggers in the transaction of every change
-- to those rows, whoever makes it (a bot process, the console, the scheduler,
-- an import): no code path can forget it. A change of a chat link bumps both
-- the old and the new person. (PostgreSQL reads its rows' versions instead,
-- xmin, and needs no writes: see sqlstore.factsVersionSQL.)
CREATE TABLE fact_versions (
    person_id TEXT PRIMARY KEY,
    v         INTEGER NOT NULL
);

CREATE TRIGGER people_facts_insert AFTER INSERT ON people BEGIN
    INSERT INTO fact_versions (person_id, v) VALUES (NEW.id, 1) ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
END;

CREATE TRIGGER people_facts_delete AFTER DELETE ON people BEGIN
    INSERT INTO fact_versions (person_id, v) VALUES (OLD.id, 1) ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
END;

CREATE TRIGGER people_facts_update AFTER UPDATE ON people BEGIN
    INSERT INTO fact_versions (person_id, v) VALUES (OLD.id, 1) ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
    INSERT INTO fact_versions (person_id, v) SELECT NEW.id, 1 WHERE NEW.id <> OLD.id ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
END;

CREATE TRIGGER identities_facts_insert AFTER INSERT ON identities BEGIN
    INSERT INTO fact_versions (person_id, v) VALUES (NEW.person_id, 1) ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
END;

CREATE TRIGGER identities_facts_delete AFTER DELETE ON identities BEGIN
    INSERT INTO fact_versions (person_id, v) VALUES (OLD.person_id, 1) ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
END;

CREATE TRIGGER identities_facts_update AFTER UPDATE ON identities BEGIN
    INSERT INTO fact_versions (person_id, v) VALUES (OLD.person_id, 1) ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
    INSERT INTO fact_versions (person_id, v) SELECT NEW.person_id, 1 WHERE NEW.person_id <> OLD.person_id ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
END;

CREATE TRIGGER rsvps_facts_insert AFTER INSERT ON rsvps BEGIN
    INSERT INTO fact_versions (person_id, v) VALUES (NEW.person_id, 1) ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
END;

CREATE TRIGGER rsvps_facts_delete AFTER DELETE ON rsvps BEGIN
    INSERT INTO fact_versions (person_id, v) VALUES (OLD.person_id, 1) ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
END;

CREATE TRIGGER rsvps_facts_update AFTER UPDATE ON rsvps BEGIN
    INSERT INTO fact_versions (person_id, v) VALUES (OLD.person_id, 1) ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
    INSERT INTO fact_versions (person_id, v) SELECT NEW.person_id, 1 WHERE NEW.person_id <> OLD.person_id ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
END;

CREATE TRIGGER unreachable_facts_insert AFTER INSERT ON unreachable BEGIN
    INSERT INTO fact_versions (person_id, v) VALUES (NEW.person_id, 1) ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
END;

CREATE TRIGGER unreachable_facts_delete AFTER DELETE ON unreachable BEGIN
    INSERT INTO fact_versions (person_id, v) VALUES (OLD.person_id, 1) ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
END;

CREATE TRIGGER unreachable_facts_update AFTER UPDATE ON unreachable BEGIN
    INSERT INTO fact_versions (person_id, v) VALUES (OLD.person_id, 1) ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
    INSERT INTO fact_versions (person_id, v) SELECT NEW.person_id, 1 WHERE NEW.person_id <> OLD.person_id ON CONFLICT (person_id) DO UPDATE SET v = v + 1;
END;


-- The append of an update to the inbox reads, in its own snapshot, which
-- person the sender's account is linked to and that person's version: the
-- worker handling the update uses the session's cached facts only when they
-- carry that same person and version (bot.Dispatcher.facts).
ALTER TABLE inbox ADD COLUMN facts TEXT NOT NULL DEFAULT ''; -- "person/version"
