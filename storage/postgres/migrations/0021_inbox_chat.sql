-- An append looks up, for each new row, its chat's latest earlier item
-- still in the inbox (the in-process handoff, sqlstore.PlanInboxAppend).
-- With the index on (part, id) that read every row of the chat's partition,
-- live and deleted-but-not-vacuumed (the inbox is insert-then-delete
-- churn): two thirds of an append's page reads. On (chat, id) it is one
-- step down the index. Nothing else reads by partition alone, so the old
-- index goes (each append and deletion still updates three indexes).
CREATE INDEX inbox_chat ON inbox (chat, id);
DROP INDEX inbox_part;
