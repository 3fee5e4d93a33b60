-- +goose Up
-- Core CRM records. Every record table has the same bookkeeping columns:
-- owner_id (the "assignee" of tasks and cases), custom (JSON of custom field
-- values), created/updated by and at, deleted_at (0 = live, else in the
-- trash since then) and version (bumped on every change).
-- Sort keys (*_key) hold accent- and case-folded text for ordering and
-- prefix lookups; *_digits hold phone digits for phone search.

CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    name_key       TEXT    NOT NULL DEFAULT '',
    type           TEXT    NOT NULL DEFAULT '',
    sector         TEXT    NOT NULL DEFAULT '',
    origin         TEXT    NOT NULL DEFAULT '',
    customer_type  TEXT    NOT NULL DEFAULT '',
    potential      TEXT    NOT NULL DEFAULT '',
    address        TEXT    NOT NULL DEFAULT '',
    city           TEXT    NOT NULL DEFAULT '',
    region         TEXT    NOT NULL DEFAULT '',
    postal_code    TEXT    NOT NULL DEFAULT '',
    country        TEXT    NOT NULL DEFAULT '',
    phone          TEXT    NOT NULL DEFAULT '',
    phone_digits   TEXT    NOT NULL DEFAULT '',
    email          TEXT    NOT NULL DEFAULT '',
    email_key      TEXT    NOT NULL DEFAULT '',
    website        TEXT    NOT NULL DEFAULT '',
    tax_id         TEXT    NOT NULL DEFAULT '',
    tax_id_key     TEXT    NOT NULL DEFAULT '',
    notes          TEXT    NOT NULL DEFAULT '',
    owner_id       INTEGER NOT NULL REFERENCES users(id),
    custom         TEXT    NOT NULL DEFAULT '{}',
    created_by     INTEGER,
    updated_by     INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    deleted_at     INTEGER NOT NULL DEFAULT 0,
    version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX accounts_name ON accounts(name_key, id) WHERE deleted_at = 0;
CREATE INDEX accounts_owner_name ON accounts(owner_id, name_key, id) WHERE deleted_at = 0;
CREATE INDEX accounts_updated ON accounts(updated_at, id) WHERE deleted_at = 0;
CREATE INDEX accounts_created ON accounts(created_at, id) WHERE deleted_at = 0;
CREATE INDEX accounts_email ON accounts(email_key) WHERE email_key <> '';
CREATE INDEX accounts_tax_id ON accounts(tax_id_key) WHERE tax_id_key <> '';
CREATE INDEX accounts_phone ON accounts(phone_digits) WHERE phone_digits <> '';
CREATE INDEX accounts_deleted ON accounts(deleted_at) WHERE deleted_at <> 0;

CREATE TABLE contacts (
    id             INTEGER PRIMARY KEY,
    first_name     TEXT    NOT NULL DEFAULT '',
    last_name      TEXT    NOT NULL DEFAULT '',
    name_key       TEXT    NOT NULL DEFAULT '',
    email          TEXT    NOT NULL DEFAULT '',
    email_key      TEXT    NOT NULL DEFAULT '',
    phone          TEXT    NOT NULL DEFAULT '',
    phone_digits   TEXT    NOT NULL DEFAULT '',
    mobile         TEXT    NOT NULL DEFAULT '',
    mobile_digits  TEXT    NOT NULL DEFAULT '',
    title          TEXT    NOT NULL DEFAULT '',
    account_id     INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    notes          TEXT    NOT NULL DEFAULT '',
    owner_id       INTEGER NOT NULL REFERENCES users(id),
    custom         TEXT    NOT NULL DEFAULT '{}',
    created_by     INTEGER,
    updated_by     INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    deleted_at     INTEGER NOT NULL DEFAULT 0,
    version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX contacts_name ON contacts(name_key, id) WHERE deleted_at = 0;
CREATE INDEX contacts_owner_name ON contacts(owner_id, name_key, id) WHERE deleted_at = 0;
CREATE INDEX contacts_updated ON contacts(updated_at, id) WHERE deleted_at = 0;
CREATE INDEX contacts_created ON contacts(created_at, id) WHERE deleted_at = 0;
CREATE INDEX contacts_account ON contacts(account_id, name_key) WHERE deleted_at = 0;
CREATE INDEX contacts_email ON contacts(email_key) WHERE email_key <> '';
CREATE INDEX contacts_phone ON contacts(phone_digits) WHERE phone_digits <> '';
CREATE INDEX contacts_mobile ON contacts(mobile_digits) WHERE mobile_digits <> '';
CREATE INDEX contacts_deleted ON contacts(deleted_at) WHERE deleted_at <> 0;

CREATE TABLE opportunities (
    id                  INTEGER PRIMARY KEY,
    name                TEXT    NOT NULL,
    name_key            TEXT    NOT NULL DEFAULT '',
    account_id          INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    contact_id          INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    amount_cents        INTEGER NOT NULL DEFAULT 0,
    currency            TEXT    NOT NULL DEFAULT 'EUR',
    pipeline            TEXT    NOT NULL DEFAULT 'default',
    stage               TEXT    NOT NULL,
    probability         INTEGER NOT NULL DEFAULT 0,
    expected_close_date TEXT    NOT NULL DEFAULT '',
    forecast_category   TEXT    NOT NULL DEFAULT 'pipeline',
    lost_reason         TEXT    NOT NULL DEFAULT '',
    stage_changed_at    INTEGER NOT NULL DEFAULT 0,
    closed_at           INTEGER NOT NULL DEFAULT 0,
    owner_id            INTEGER NOT NULL REFERENCES users(id),
    custom              TEXT    NOT NULL DEFAULT '{}',
    created_by          INTEGER,
    updated_by          INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    deleted_at          INTEGER NOT NULL DEFAULT 0,
    version             INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX opportunities_name ON opportunities(name_key, id) WHERE deleted_at = 0;
CREATE INDEX opportunities_owner_name ON opportunities(owner_id, name_key, id) WHERE deleted_at = 0;
CREATE INDEX opportunities_updated ON opportunities(updated_at, id) WHERE deleted_at = 0;
CREATE INDEX opportunities_created ON opportunities(created_at, id) WHERE deleted_at = 0;
CREATE INDEX opportunities_stage ON opportunities(pipeline, stage, owner_id) WHERE deleted_at = 0;
CREATE INDEX opportunities_account ON opportunities(account_id) WHERE deleted_at = 0;
CREATE INDEX opportunities_contact ON opportunities(contact_id) WHERE deleted_at = 0;
CREATE INDEX opportunities_close ON opportunities(expected_close_date, id) WHERE deleted_at = 0;
CREATE INDEX opportunities_deleted ON opportunities(deleted_at) WHERE deleted_at <> 0;

CREATE TABLE opportunity_contacts (
    opportunity_id  INTEGER NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    contact_id      INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    role            TEXT    NOT NULL DEFAULT 'other',
    PRIMARY KEY (opportunity_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX opportunity_contacts_contact ON opportunity_contacts(contact_id);

CREATE TABLE stage_history (
    id              INTEGER PRIMARY KEY,
    opportunity_id  INTEGER NOT NULL REFERENCES opportunities(id) ON DELETE CASCADE,
    from_stage      TEXT    NOT NULL DEFAULT '',
    to_stage        TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    user_id         INTEGER REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX stage_history_opportunity ON stage_history(opportunity_id, at);

CREATE TABLE leads (
    id                        INTEGER PRIMARY KEY,
    first_name                TEXT    NOT NULL DEFAULT '',
    last_name                 TEXT    NOT NULL DEFAULT '',
    name_key                  TEXT    NOT NULL DEFAULT '',
    company                   TEXT    NOT NULL DEFAULT '',
    email                     TEXT    NOT NULL DEFAULT '',
    email_key                 TEXT    NOT NULL DEFAULT '',
    phone                     TEXT    NOT NULL DEFAULT '',
    phone_digits              TEXT    NOT NULL DEFAULT '',
    title                     TEXT    NOT NULL DEFAULT '',
    source                    TEXT    NOT NULL DEFAULT '',
    status                    TEXT    NOT NULL DEFAULT 'new',
    notes                     TEXT    NOT NULL DEFAULT '',
    converted_account_id      INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    converted_contact_id      INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    converted_opportunity_id  INTEGER REFERENCES opportunities(id) ON DELETE SET NULL,
    converted_at              INTEGER NOT NULL DEFAULT 0,
    owner_id                  INTEGER NOT NULL REFERENCES users(id),
    custom                    TEXT    NOT NULL DEFAULT '{}',
    created_by                INTEGER,
    updated_by                INTEGER,
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL,
    deleted_at                INTEGER NOT NULL DEFAULT 0,
    version                   INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX leads_name ON leads(name_key, id) WHERE deleted_at = 0;
CREATE INDEX leads_owner_name ON leads(owner_id, name_key, id) WHERE deleted_at = 0;
CREATE INDEX leads_updated ON leads(updated_at, id) WHERE deleted_at = 0;
CREATE INDEX leads_created ON leads(created_at, id) WHERE deleted_at = 0;
CREATE INDEX leads_status ON leads(status, source) WHERE deleted_at = 0;
CREATE INDEX leads_email ON leads(email_key) WHERE email_key <> '';
CREATE INDEX leads_phone ON leads(phone_digits) WHERE phone_digits <> '';
CREATE INDEX leads_deleted ON leads(deleted_at) WHERE deleted_at <> 0;

CREATE TABLE cases (
    id           INTEGER PRIMARY KEY,
    subject      TEXT    NOT NULL,
    name_key     TEXT    NOT NULL DEFAULT '',
    description  TEXT    NOT NULL DEFAULT '',
    account_id   INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    contact_id   INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    status       TEXT    NOT NULL DEFAULT 'new',
    priority     TEXT    NOT NULL DEFAULT 'normal',
    category     TEXT    NOT NULL DEFAULT '',
    resolved_at  INTEGER NOT NULL DEFAULT 0,
    closed_at    INTEGER NOT NULL DEFAULT 0,
    owner_id     INTEGER NOT NULL REFERENCES users(id),
    custom       TEXT    NOT NULL DEFAULT '{}',
    created_by   INTEGER,
    updated_by   INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX cases_name ON cases(name_key, id) WHERE deleted_at = 0;
CREATE INDEX cases_owner_name ON cases(owner_id, name_key, id) WHERE deleted_at = 0;
CREATE INDEX cases_updated ON cases(updated_at, id) WHERE deleted_at = 0;
CREATE INDEX cases_created ON cases(created_at, id) WHERE deleted_at = 0;
CREATE INDEX cases_status ON cases(status, priority) WHERE deleted_at = 0;
CREATE INDEX cases_account ON cases(account_id) WHERE deleted_at = 0;
CREATE INDEX cases_contact ON cases(contact_id) WHERE deleted_at = 0;
CREATE INDEX cases_deleted ON cases(deleted_at) WHERE deleted_at <> 0;

CREATE TABLE activities (
    id              INTEGER PRIMARY KEY,
    type            TEXT    NOT NULL,
    occurred_at     INTEGER NOT NULL,
    subject         TEXT    NOT NULL,
    name_key        TEXT    NOT NULL DEFAULT '',
    description     TEXT    NOT NULL DEFAULT '',
    objective       TEXT    NOT NULL DEFAULT '',
    outcome         TEXT    NOT NULL DEFAULT '',
    account_id      INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    contact_id      INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    lead_id         INTEGER REFERENCES leads(id) ON DELETE SET NULL,
    opportunity_id  INTEGER REFERENCES opportunities(id) ON DELETE SET NULL,
    case_id         INTEGER REFERENCES cases(id) ON DELETE SET NULL,
    owner_id        INTEGER NOT NULL REFERENCES users(id),
    custom          TEXT    NOT NULL DEFAULT '{}',
    created_by      INTEGER,
    updated_by      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER NOT NULL DEFAULT 0,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX activities_occurred ON activities(occurred_at, id) WHERE deleted_at = 0;
CREATE INDEX activities_owner_occurred ON activities(owner_id, occurred_at, id) WHERE deleted_at = 0;
CREATE INDEX activities_name ON activities(name_key, id) WHERE deleted_at = 0;
CREATE INDEX activities_owner_name ON activities(owner_id, name_key, id) WHERE deleted_at = 0;
CREATE INDEX activities_updated ON activities(updated_at, id) WHERE deleted_at = 0;
CREATE INDEX activities_created ON activities(created_at, id) WHERE deleted_at = 0;
CREATE INDEX activities_account ON activities(account_id, occurred_at) WHERE account_id IS NOT NULL;
CREATE INDEX activities_contact ON activities(contact_id, occurred_at) WHERE contact_id IS NOT NULL;
CREATE INDEX activities_lead ON activities(lead_id, occurred_at) WHERE lead_id IS NOT NULL;
CREATE INDEX activities_opportunity ON activities(opportunity_id, occurred_at) WHERE opportunity_id IS NOT NULL;
CREATE INDEX activities_case ON activities(case_id, occurred_at) WHERE case_id IS NOT NULL;
CREATE INDEX activities_deleted ON activities(deleted_at) WHERE deleted_at <> 0;

CREATE TABLE tasks (
    id              INTEGER PRIMARY KEY,
    title           TEXT    NOT NULL,
    name_key        TEXT    NOT NULL DEFAULT '',
    description     TEXT    NOT NULL DEFAULT '',
    due_at          INTEGER NOT NULL DEFAULT 0,
    priority        TEXT    NOT NULL DEFAULT 'normal',
    status          TEXT    NOT NULL DEFAULT 'open',
    completed_at    INTEGER NOT NULL DEFAULT 0,
    account_id      INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    contact_id      INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
    lead_id         INTEGER REFERENCES leads(id) ON DELETE SET NULL,
    opportunity_id  INTEGER REFERENCES opportunities(id) ON DELETE SET NULL,
    case_id         INTEGER REFERENCES cases(id) ON DELETE SET NULL,
    owner_id        INTEGER NOT NULL REFERENCES users(id),
    custom          TEXT    NOT NULL DEFAULT '{}',
    created_by      INTEGER,
    updated_by      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER NOT NULL DEFAULT 0,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX tasks_due ON tasks(due_at, id) WHERE deleted_at = 0;
CREATE INDEX tasks_owner_status_due ON tasks(owner_id, status, due_at) WHERE deleted_at = 0;
CREATE INDEX tasks_name ON tasks(name_key, id) WHERE deleted_at = 0;
CREATE INDEX tasks_owner_name ON tasks(owner_id, name_key, id) WHERE deleted_at = 0;
CREATE INDEX tasks_updated ON tasks(updated_at, id) WHERE deleted_at = 0;
CREATE INDEX tasks_created ON tasks(created_at, id) WHERE deleted_at = 0;
CREATE INDEX tasks_account ON tasks(account_id) WHERE account_id IS NOT NULL;
CREATE INDEX tasks_contact ON tasks(contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX tasks_lead ON tasks(lead_id) WHERE lead_id IS NOT NULL;
CREATE INDEX tasks_opportunity ON tasks(opportunity_id) WHERE opportunity_id IS NOT NULL;
CREATE INDEX tasks_case ON tasks(case_id) WHERE case_id IS NOT NULL;
CREATE INDEX tasks_deleted ON tasks(deleted_at) WHERE deleted_at <> 0;

CREATE TABLE tags (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name_key    TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE TABLE record_tags (
    entity     TEXT    NOT NULL,
    record_id  INTEGER NOT NULL,
    tag_id     INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (entity, record_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX record_tags_tag ON record_tags(tag_id, entity, record_id);

-- Every change of a record's field, kept forever (old → new, who, when).
CREATE TABLE field_history (
    id         INTEGER PRIMARY KEY,
    entity     TEXT    NOT NULL,
    record_id  INTEGER NOT NULL,
    field      TEXT    NOT NULL,
    old_value  TEXT    NOT NULL DEFAULT '',
    new_value  TEXT    NOT NULL DEFAULT '',
    user_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX field_history_record ON field_history(entity, record_id, at);

CREATE TABLE saved_views (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    entity      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    query       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (user_id, entity, name)
);

-- Merges of duplicate records, with what is needed to undo them.
CREATE TABLE merges (
    id           INTEGER PRIMARY KEY,
    entity       TEXT    NOT NULL,
    survivor_id  INTEGER NOT NULL,
    loser_id     INTEGER NOT NULL,
    undo         TEXT    NOT NULL,
    user_id      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    at           INTEGER NOT NULL,
    undone_at    INTEGER NOT NULL DEFAULT 0
);

-- Full-text search over accounts, contacts, leads, opportunities and cases.
-- Contentless (the records are the content); rowid = record id * 8 + entity
-- code (see store/search.go). SQLite-specific: kept in this one table and
-- in search.go.
CREATE VIRTUAL TABLE search_index USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

-- +goose Down
DROP TABLE search_index;
DROP TABLE merges;
DROP TABLE saved_views;
DROP TABLE field_history;
DROP TABLE record_tags;
DROP TABLE tags;
DROP TABLE tasks;
DROP TABLE activities;
DROP TABLE cases;
DROP TABLE leads;
DROP TABLE stage_history;
DROP TABLE opportunity_contacts;
DROP TABLE opportunities;
DROP TABLE contacts;
DROP TABLE accounts;
