-- +goose Up
-- A tag-filtered list sorted by name ("my VIP contacts") reads the tagged
-- records in name order straight from an index, instead of probing the
-- tags of every record it walks: record_tags keeps a copy of each record's
-- name_key, maintained by triggers on every path that tags or renames.
ALTER TABLE record_tags ADD COLUMN sort_key TEXT NOT NULL DEFAULT '';
UPDATE record_tags SET sort_key = COALESCE(CASE entity WHEN 'accounts' THEN (SELECT name_key FROM accounts WHERE id = record_id) WHEN 'contacts' THEN (SELECT name_key FROM contacts WHERE id = record_id) WHEN 'leads' THEN (SELECT name_key FROM leads WHERE id = record_id) WHEN 'opportunities' THEN (SELECT name_key FROM opportunities WHERE id = record_id) END, '');
CREATE INDEX record_tags_sorted ON record_tags(tag_id, entity, sort_key, record_id);

-- +goose StatementBegin
CREATE TRIGGER record_tags_sort_key AFTER INSERT ON record_tags BEGIN
    UPDATE record_tags SET sort_key = COALESCE(CASE NEW.entity WHEN 'accounts' THEN (SELECT name_key FROM accounts WHERE id = NEW.record_id) WHEN 'contacts' THEN (SELECT name_key FROM contacts WHERE id = NEW.record_id) WHEN 'leads' THEN (SELECT name_key FROM leads WHERE id = NEW.record_id) WHEN 'opportunities' THEN (SELECT name_key FROM opportunities WHERE id = NEW.record_id) END, '')
    WHERE entity = NEW.entity AND record_id = NEW.record_id AND tag_id = NEW.tag_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER accounts_tag_sort_key AFTER UPDATE OF name_key ON accounts BEGIN
    UPDATE record_tags SET sort_key = NEW.name_key WHERE entity = 'accounts' AND record_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER contacts_tag_sort_key AFTER UPDATE OF name_key ON contacts BEGIN
    UPDATE record_tags SET sort_key = NEW.name_key WHERE entity = 'contacts' AND record_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER leads_tag_sort_key AFTER UPDATE OF name_key ON leads BEGIN
    UPDATE record_tags SET sort_key = NEW.name_key WHERE entity = 'leads' AND record_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER opportunities_tag_sort_key AFTER UPDATE OF name_key ON opportunities BEGIN
    UPDATE record_tags SET sort_key = NEW.name_key WHERE entity = 'opportunities' AND record_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER accounts_tag_sort_key;
DROP TRIGGER contacts_tag_sort_key;
DROP TRIGGER leads_tag_sort_key;
DROP TRIGGER opportunities_tag_sort_key;
DROP TRIGGER record_tags_sort_key;
DROP INDEX record_tags_sorted;
ALTER TABLE record_tags DROP COLUMN sort_key;
