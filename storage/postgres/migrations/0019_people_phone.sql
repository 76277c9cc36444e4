-- The phone look-up of a person this process's list does not have yet
-- (bot.findUnknown: a substitute another process added) reads one row.
CREATE INDEX IF NOT EXISTS people_phone ON people (phone);
