-- What the config files held when they were last loaded into the database:
-- a restart with unchanged files must not undo edits made since in the
-- staff console.
CREATE TABLE config_sync (
    name      TEXT PRIMARY KEY,
    hash      TEXT NOT NULL,
    synced_at BIGINT NOT NULL
);
