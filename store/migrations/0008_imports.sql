-- +goose Up
-- Imports: each run of the importer, and every change it made, so an import
-- can be undone, and one interrupted by a crash is taken back at the next
-- start (status "running" found at start → its changes undone → "failed").
CREATE TABLE imports (
    id           INTEGER PRIMARY KEY,
    entity       TEXT    NOT NULL,
    file_name    TEXT    NOT NULL DEFAULT '',
    user_id      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    status       TEXT    NOT NULL DEFAULT 'running',
    policy       TEXT    NOT NULL DEFAULT 'skip',
    match_on     TEXT    NOT NULL DEFAULT '',
    options      TEXT    NOT NULL DEFAULT '{}',
    total        INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    skipped      INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    errors       TEXT    NOT NULL DEFAULT '[]',
    error_key    TEXT    NOT NULL DEFAULT '',
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL DEFAULT 0,
    undone_at    INTEGER NOT NULL DEFAULT 0
);

-- One row per record an import created or updated; before holds the
-- updated fields' previous values, version the record's version after the
-- import touched it (undo leaves records edited since alone).
CREATE TABLE import_changes (
    import_id  INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    entity     TEXT    NOT NULL,
    record_id  INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    before     TEXT    NOT NULL DEFAULT '{}',
    version    INTEGER NOT NULL,
    PRIMARY KEY (import_id, seq)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE import_changes;
DROP TABLE imports;
