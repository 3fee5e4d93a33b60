-- +goose Up
-- Privacy rights (issue 9): erasure, the suppression list and data
-- retention.
--
-- One row of privacy settings: the salt of the suppression list's hashes
-- (random, per database, so a hash says nothing outside this database) and
-- the retention rule for leads with no activity for retention_months
-- months (0 = off): listed for review, or erased automatically.
CREATE TABLE privacy_settings (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    salt              BLOB    NOT NULL,
    retention_months  INTEGER NOT NULL DEFAULT 0,
    retention_action  TEXT    NOT NULL DEFAULT 'review' CHECK (retention_action IN ('review', 'erase')),
    updated_at        INTEGER NOT NULL DEFAULT 0
);
INSERT INTO privacy_settings (id, salt) VALUES (1, randomblob(32));

-- The suppression list: SHA-256 of the salt and the lower-cased e-mail of
-- every erased person, so imports, web forms and campaigns can refuse the
-- address without the database keeping it.
CREATE TABLE suppressions (
    hash        BLOB    PRIMARY KEY,
    reason      TEXT    NOT NULL DEFAULT 'erased',
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- When a contact or lead was erased (0 = never): erased records keep their
-- place in reports but are never written to again by retention or
-- campaigns.
ALTER TABLE contacts ADD COLUMN erased_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN erased_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE leads DROP COLUMN erased_at;
ALTER TABLE contacts DROP COLUMN erased_at;
DROP TABLE suppressions;
DROP TABLE privacy_settings;
