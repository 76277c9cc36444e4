-- What the flows need about a person (their chat links, their row with the
-- language, their answers, their unreachable marks) is cached with each chat's
-- session and checked by version instead of read on every update. The version
-- of a person is bumped by these triggers in the transaction of every change
-- to those rows, whoever makes it (a bot process, the console, the scheduler,
-- an import): no code path can forget it. A change of a chat link bumps both
-- the old and the new person.
CREATE TABLE fact_versions (
    person_id TEXT PRIMARY KEY,
    v         BIGINT NOT NULL
);

CREATE FUNCTION bump_fact_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o TEXT;
    n TEXT;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        o := to_jsonb(OLD) ->> TG_ARGV[0];
    END IF;
    IF TG_OP <> 'DELETE' THEN
        n := to_jsonb(NEW) ->> TG_ARGV[0];
    END IF;
    INSERT INTO fact_versions AS f (person_id, v)
        SELECT DISTINCT x, 1 FROM unnest(ARRAY[o, n]) AS x WHERE x IS NOT NULL AND x <> ''
        ON CONFLICT (person_id) DO UPDATE SET v = f.v + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER people_facts AFTER INSERT OR DELETE ON people
    FOR EACH ROW EXECUTE FUNCTION bump_fact_version('id');
CREATE TRIGGER people_facts_update AFTER UPDATE ON people
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION bump_fact_version('id');
CREATE TRIGGER identities_facts AFTER INSERT OR DELETE ON identities
    FOR EACH ROW EXECUTE FUNCTION bump_fact_version('person_id');
CREATE TRIGGER identities_facts_update AFTER UPDATE ON identities
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION bump_fact_version('person_id');
CREATE TRIGGER rsvps_facts AFTER INSERT OR UPDATE OR DELETE ON rsvps
    FOR EACH ROW EXECUTE FUNCTION bump_fact_version('person_id');
CREATE TRIGGER unreachable_facts AFTER INSERT OR UPDATE OR DELETE ON unreachable
    FOR EACH ROW EXECUTE FUNCTION bump_fact_version('person_id');

-- The append of an update to the inbox reads, in its own snapshot, which
-- person the sender's account is linked to and that person's version: the
-- worker handling the update uses the session's cached facts only when they
-- carry that same person and version (bot.Dispatcher.facts).
ALTER TABLE inbox ADD COLUMN facts_person TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN facts_v BIGINT NOT NULL DEFAULT -1;
