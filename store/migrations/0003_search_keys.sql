-- +goose Up
-- Search-as-you-type reads sorted keys through indexes instead of ranking
-- every full-text match: contacts and leads get a second name key in
-- "first last" order (name_key is "last first"), folded by cartera_fold(),
-- the accent and case folding function the store registers with SQLite.
ALTER TABLE contacts ADD COLUMN alt_key TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN alt_key TEXT NOT NULL DEFAULT '';
UPDATE contacts SET alt_key = cartera_fold(first_name || ' ' || last_name);
UPDATE leads SET alt_key = cartera_fold(first_name || ' ' || last_name);
CREATE INDEX contacts_alt ON contacts(alt_key, id) WHERE deleted_at = 0;
CREATE INDEX contacts_owner_alt ON contacts(owner_id, alt_key, id) WHERE deleted_at = 0;
CREATE INDEX leads_alt ON leads(alt_key, id) WHERE deleted_at = 0;
CREATE INDEX leads_owner_alt ON leads(owner_id, alt_key, id) WHERE deleted_at = 0;
CREATE INDEX contacts_email_prefix ON contacts(email_key, id) WHERE deleted_at = 0 AND email_key <> '';
CREATE INDEX leads_email_prefix ON leads(email_key, id) WHERE deleted_at = 0 AND email_key <> '';
CREATE INDEX accounts_email_prefix ON accounts(email_key, id) WHERE deleted_at = 0 AND email_key <> '';

-- +goose Down
DROP INDEX accounts_email_prefix;
DROP INDEX leads_email_prefix;
DROP INDEX contacts_email_prefix;
DROP INDEX leads_owner_alt;
DROP INDEX leads_alt;
DROP INDEX contacts_owner_alt;
DROP INDEX contacts_alt;
ALTER TABLE leads DROP COLUMN alt_key;
ALTER TABLE contacts DROP COLUMN alt_key;
