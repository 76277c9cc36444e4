-- An append looks up its chats' latest earlier items still in the inbox
-- (the in-process handoff, sqlstore.PlanInboxAppend: MAX(id) by chat).
-- No index led by chat, so that read the whole inbox; on (chat, id) it is
-- one step down the index per chat (the same index as on PostgreSQL, where
-- the look-up read every row of the chat's partition). Nothing reads by
-- partition alone, so the old index goes.
CREATE INDEX inbox_chat ON inbox (chat, id);
DROP INDEX inbox_part;
