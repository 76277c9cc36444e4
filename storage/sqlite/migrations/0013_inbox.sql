-- The inbox: every update a platform delivers is stored here before it is
-- acknowledged, and deleted once handled. part is the chat's partition
-- (bot/inbox.Partition); owner pins an update to the process that took it
-- (the web chat answers from that process's memory), '' for any holder of
-- the partition. Times are Unix milliseconds.
CREATE TABLE inbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT NOT NULL UNIQUE,
    part       INTEGER NOT NULL,
    chat       TEXT NOT NULL,
    owner      TEXT NOT NULL DEFAULT '',
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX inbox_part ON inbox (part, id);

-- One lease per partition: only its holder hands the partition's updates to
-- the dispatcher. fence grows each time the lease changes hands.
CREATE TABLE inbox_leases (
    part       INTEGER PRIMARY KEY,
    holder     TEXT NOT NULL,
    fence      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- The processes consuming the inbox, to share the partitions fairly.
CREATE TABLE inbox_workers (
    holder     TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
