-- Who recorded an answer when it was not the person themself: the staff
-- member who took it by phone or at the door ('' for the person's own).
ALTER TABLE rsvps ADD COLUMN recorded_by TEXT NOT NULL DEFAULT '';

-- A substitute is a guest of their own (a person row with their own invite
-- token and code): substitute_for is the delegate they replace, '' for
-- everyone else.
ALTER TABLE people ADD COLUMN substitute_for TEXT NOT NULL DEFAULT '';
