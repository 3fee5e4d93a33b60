-- +goose Up
-- Foundation: company settings, teams, roles, users, sessions, API tokens and
-- the audit log. Times are INTEGER milliseconds since the Unix epoch, UTC.

CREATE TABLE company (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    name        TEXT    NOT NULL,
    address     TEXT    NOT NULL DEFAULT '',
    phone       TEXT    NOT NULL DEFAULT '',
    email       TEXT    NOT NULL DEFAULT '',
    tax_id      TEXT    NOT NULL DEFAULT '',
    timezone    TEXT    NOT NULL DEFAULT 'Europe/Madrid',
    language    TEXT    NOT NULL DEFAULT 'ca',
    currency    TEXT    NOT NULL DEFAULT 'EUR',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE roles (
    id           INTEGER PRIMARY KEY,
    key          TEXT    NOT NULL UNIQUE,
    name         TEXT    NOT NULL,
    builtin      INTEGER NOT NULL DEFAULT 0,
    permissions  TEXT    NOT NULL DEFAULT '{}',
    sections     TEXT    NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    email               TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name                TEXT    NOT NULL,
    password_hash       TEXT    NOT NULL,
    role_id             INTEGER NOT NULL REFERENCES roles(id),
    team_id             INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    language            TEXT    NOT NULL DEFAULT '',
    timezone            TEXT    NOT NULL DEFAULT '',
    disabled            INTEGER NOT NULL DEFAULT 0,
    last_login_at       INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX users_role ON users(role_id);
CREATE INDEX users_team ON users(team_id);

-- A browser session; id_hash is the SHA-256 of the random cookie value, so a
-- copy of the database does not hold usable session ids.
CREATE TABLE sessions (
    id_hash       BLOB    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    data          BLOB,
    ip            TEXT    NOT NULL DEFAULT '',
    user_agent    TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label         TEXT    NOT NULL DEFAULT '',
    token_hash    BLOB    NOT NULL UNIQUE,
    prefix        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL DEFAULT 0,
    revoked_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Who did what to which record; detail is JSON (changed fields, old → new).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    user_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    action     TEXT    NOT NULL,
    entity     TEXT    NOT NULL,
    record_id  INTEGER NOT NULL DEFAULT 0,
    detail     TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_record ON audit_log(entity, record_id, at);
CREATE INDEX audit_log_at ON audit_log(at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE roles;
DROP TABLE teams;
DROP TABLE company;
