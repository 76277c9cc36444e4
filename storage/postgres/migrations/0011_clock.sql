-- The latest moment the bot's clock showed, kept so that a demo clock
-- (DIEUPHOI_CLOCK_START) continues from there after a restart instead of
-- rewinding and writing history rows out of order.
CREATE TABLE bot_clock (
    name    TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);

-- Server keys the bot makes for itself (the key signing download links),
-- shared by every process on the database.
CREATE TABLE bot_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
