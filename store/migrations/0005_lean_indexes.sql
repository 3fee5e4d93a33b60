-- +goose Up
-- Leaner indexes, measured on the benchmark dataset: search as you type now
-- reads name, e-mail and phone keys, so the full-text index no longer keeps
-- 2- and 3-letter prefix indexes (they cost a third of its build time), and
-- activities are not sorted by subject, so those two indexes over millions
-- of rows go.
DROP INDEX activities_name;
DROP INDEX activities_owner_name;
DROP TABLE search_index;
CREATE VIRTUAL TABLE search_index USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO search_index (rowid, body)
    SELECT t.id * 8 + 1, t.name || ' ' || t.city || ' ' || t.email || ' ' || t.tax_id || ' ' || t.phone_digits
    FROM accounts t WHERE t.deleted_at = 0;
INSERT INTO search_index (rowid, body)
    SELECT t.id * 8 + 2, t.first_name || ' ' || t.last_name || ' ' || t.email || ' ' || t.title || ' ' || t.phone_digits || ' ' || t.mobile_digits || ' ' || COALESCE(a.name, '')
    FROM contacts t LEFT JOIN accounts a ON a.id = t.account_id AND a.deleted_at = 0 WHERE t.deleted_at = 0;
INSERT INTO search_index (rowid, body)
    SELECT t.id * 8 + 3, t.first_name || ' ' || t.last_name || ' ' || t.company || ' ' || t.email || ' ' || t.title || ' ' || t.phone_digits
    FROM leads t WHERE t.deleted_at = 0;
INSERT INTO search_index (rowid, body)
    SELECT t.id * 8 + 4, t.name || ' ' || COALESCE(a.name, '')
    FROM opportunities t LEFT JOIN accounts a ON a.id = t.account_id AND a.deleted_at = 0 WHERE t.deleted_at = 0;
INSERT INTO search_index (rowid, body)
    SELECT t.id * 8 + 5, t.subject || ' ' || substr(t.description, 1, 2000) || ' ' || COALESCE(a.name, '')
    FROM cases t LEFT JOIN accounts a ON a.id = t.account_id AND a.deleted_at = 0 WHERE t.deleted_at = 0;

-- +goose Down
CREATE INDEX activities_name ON activities(name_key, id) WHERE deleted_at = 0;
CREATE INDEX activities_owner_name ON activities(owner_id, name_key, id) WHERE deleted_at = 0;
