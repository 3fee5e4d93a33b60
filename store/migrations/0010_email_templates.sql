-- +goose Up
-- E-mail templates: a subject and a body (plain text, optionally simple
-- HTML) in one language, with merge fields such as {{contact.first_name}}
-- filled from an allow-listed map of the record, its client, its owner
-- and the company.
CREATE TABLE email_templates (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    language    TEXT    NOT NULL,
    entity      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    body_text   TEXT    NOT NULL,
    body_html   TEXT    NOT NULL DEFAULT '',
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (name, language)
);

-- +goose Down
DROP TABLE email_templates;
