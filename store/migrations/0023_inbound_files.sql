-- +goose Up
-- Files attached to e-mail read from the dropbox, kept with the message
-- until it becomes activities (at once when it matches, or when someone
-- links it from the inbox); each activity then gets its own copy as an
-- attachment. Discarding the message drops them.
CREATE TABLE inbound_files (
    id         INTEGER PRIMARY KEY,
    inbound_id INTEGER NOT NULL REFERENCES inbound_emails(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    data       BLOB    NOT NULL
);
CREATE INDEX inbound_files_message ON inbound_files (inbound_id);

-- +goose Down
DROP TABLE inbound_files;
