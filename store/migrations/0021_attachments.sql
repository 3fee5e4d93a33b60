-- +goose Up
-- Attachments (issue 12): files on accounts, contacts, leads, opportunities,
-- activities and cases, kept inside the database so one backup (VACUUM
-- INTO) holds them. A file's bytes are rows of at most 256 KiB in
-- attachment_chunks, written and read one chunk at a time so no file is
-- ever held whole in memory. entity/record_id name the parent record, whose
-- permission is the file's. thumb is a re-encoded image (PNG or JPEG) made
-- from png/jpeg/gif uploads; it is the only thing ever served inline.
-- deleted_at <> 0 puts a file in the trash.
CREATE TABLE attachments (
    id            INTEGER PRIMARY KEY,
    entity        TEXT    NOT NULL,
    record_id     INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size          INTEGER NOT NULL DEFAULT 0,
    sha256        TEXT    NOT NULL DEFAULT '',
    thumb         BLOB,
    thumb_type    TEXT    NOT NULL DEFAULT '',
    created_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER NOT NULL DEFAULT 0,
    deleted_by    INTEGER REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX attachments_record ON attachments(entity, record_id, deleted_at);
CREATE INDEX attachments_trash ON attachments(deleted_at) WHERE deleted_at <> 0;

-- A rowid table (not WITHOUT ROWID): large blobs belong in rowid tables.
CREATE TABLE attachment_chunks (
    id            INTEGER PRIMARY KEY,
    attachment_id INTEGER NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    data          BLOB    NOT NULL
);
CREATE UNIQUE INDEX attachment_chunks_seq ON attachment_chunks(attachment_id, seq);

-- A record deleted for good (emptying the trash) takes its files with it,
-- whichever code path deletes the row.
-- +goose StatementBegin
CREATE TRIGGER accounts_purge_attachments AFTER DELETE ON accounts BEGIN
    DELETE FROM attachments WHERE entity = 'accounts' AND record_id = OLD.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contacts_purge_attachments AFTER DELETE ON contacts BEGIN
    DELETE FROM attachments WHERE entity = 'contacts' AND record_id = OLD.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER leads_purge_attachments AFTER DELETE ON leads BEGIN
    DELETE FROM attachments WHERE entity = 'leads' AND record_id = OLD.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER opportunities_purge_attachments AFTER DELETE ON opportunities BEGIN
    DELETE FROM attachments WHERE entity = 'opportunities' AND record_id = OLD.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER activities_purge_attachments AFTER DELETE ON activities BEGIN
    DELETE FROM attachments WHERE entity = 'activities' AND record_id = OLD.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER cases_purge_attachments AFTER DELETE ON cases BEGIN
    DELETE FROM attachments WHERE entity = 'cases' AND record_id = OLD.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER cases_purge_attachments;
DROP TRIGGER activities_purge_attachments;
DROP TRIGGER opportunities_purge_attachments;
DROP TRIGGER leads_purge_attachments;
DROP TRIGGER contacts_purge_attachments;
DROP TRIGGER accounts_purge_attachments;
DROP TABLE attachment_chunks;
DROP TABLE attachments;
