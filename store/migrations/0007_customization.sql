-- +goose Up
-- Customization: what an administrator adapts from Settings without a
-- restart. Labels and help texts are JSON objects by language
-- ({"ca": "...", "es": "...", "en": "..."}); an empty language falls back to
-- the built-in catalog.

-- Custom fields of a record type. Values live in the record's "custom" JSON
-- column under the field's key; removing a field sets removed_at and keeps
-- the values until an administrator purges them.
CREATE TABLE custom_fields (
    id          INTEGER PRIMARY KEY,
    entity      TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    labels      TEXT    NOT NULL DEFAULT '{}',
    help        TEXT    NOT NULL DEFAULT '{}',
    section     TEXT    NOT NULL DEFAULT '',
    position    INTEGER NOT NULL DEFAULT 0,
    required    INTEGER NOT NULL DEFAULT 0,
    is_unique   INTEGER NOT NULL DEFAULT 0,
    list        INTEGER NOT NULL DEFAULT 0,
    filterable  INTEGER NOT NULL DEFAULT 0,
    searchable  INTEGER NOT NULL DEFAULT 0,
    ref_entity  TEXT    NOT NULL DEFAULT '',
    removed_at  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (entity, key)
);

-- Settings of standard fields: renamed labels, hidden, required, and their
-- place on the form (section and position).
CREATE TABLE field_settings (
    entity    TEXT    NOT NULL,
    key       TEXT    NOT NULL,
    labels    TEXT    NOT NULL DEFAULT '{}',
    hidden    INTEGER NOT NULL DEFAULT 0,
    required  INTEGER NOT NULL DEFAULT 0,
    section   TEXT    NOT NULL DEFAULT '',
    position  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entity, key)
) WITHOUT ROWID;

-- Options of a picklist once an administrator has edited it (a list with
-- no rows here uses the built-in options). Lists are the built-in picklist
-- names, "stage:PIPELINE" for the stages of a pipeline other than the
-- default one, and "cf:ENTITY:KEY" for a custom select's options. kind is
-- open/won/lost for stages, open/resolved/closed for case statuses.
CREATE TABLE picklist_options (
    list        TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    labels      TEXT    NOT NULL DEFAULT '{}',
    position    INTEGER NOT NULL DEFAULT 0,
    retired     INTEGER NOT NULL DEFAULT 0,
    probability INTEGER NOT NULL DEFAULT 0,
    kind        TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (list, key)
) WITHOUT ROWID;

-- Sales pipelines besides the built-in "default" one.
CREATE TABLE pipelines (
    key       TEXT    PRIMARY KEY,
    labels    TEXT    NOT NULL DEFAULT '{}',
    position  INTEGER NOT NULL DEFAULT 0,
    retired   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Fields a user must fill when logging an activity of a type (a visit
-- requires an outcome).
CREATE TABLE activity_rules (
    type    TEXT PRIMARY KEY,
    fields  TEXT NOT NULL DEFAULT '[]'
) WITHOUT ROWID;

-- Public web forms (web-to-lead): fields is a JSON list of
-- {"key": "...", "required": bool}; owner_mode is "user" (owner_user_id) or
-- "team" (round-robin among the active members of owner_team_id, the next
-- one after last_owner_id).
CREATE TABLE web_forms (
    id             INTEGER PRIMARY KEY,
    slug           TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    entity         TEXT    NOT NULL,
    fields         TEXT    NOT NULL DEFAULT '[]',
    title          TEXT    NOT NULL DEFAULT '',
    intro          TEXT    NOT NULL DEFAULT '',
    thanks_text    TEXT    NOT NULL DEFAULT '',
    redirect_url   TEXT    NOT NULL DEFAULT '',
    owner_mode     TEXT    NOT NULL DEFAULT 'user',
    owner_user_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    owner_team_id  INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    last_owner_id  INTEGER NOT NULL DEFAULT 0,
    tags           TEXT    NOT NULL DEFAULT '[]',
    consent_text   TEXT    NOT NULL DEFAULT '',
    language       TEXT    NOT NULL DEFAULT '',
    active         INTEGER NOT NULL DEFAULT 1,
    submissions    INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- The setup checklist can be dismissed.
ALTER TABLE company ADD COLUMN checklist_dismissed INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE company DROP COLUMN checklist_dismissed;
DROP TABLE web_forms;
DROP TABLE activity_rules;
DROP TABLE pipelines;
DROP TABLE picklist_options;
DROP TABLE field_settings;
DROP TABLE custom_fields;
