-- +goose Up
-- Workflow rules: when (trigger) + if (conditions) + then (actions) on one
-- record type. Trigger, conditions and actions are JSON documents checked
-- by the store; enabled_at marks from when events start the rule.
CREATE TABLE workflows (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    entity      TEXT    NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 0,
    enabled_at  INTEGER NOT NULL DEFAULT 0,
    trigger     TEXT    NOT NULL,
    match       TEXT    NOT NULL DEFAULT 'all',
    conditions  TEXT    NOT NULL DEFAULT '[]',
    actions     TEXT    NOT NULL DEFAULT '[]',
    builtin     TEXT    UNIQUE,
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);

-- A job is one persisted due-time of a rule for a record. The unique key
-- is the claim: a rule runs once per record and due-time, across restarts.
CREATE TABLE workflow_jobs (
    id          INTEGER PRIMARY KEY,
    workflow_id INTEGER NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    record_id   INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    event       TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending',
    done_at     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (workflow_id, record_id, due_at)
);
CREATE INDEX workflow_jobs_due ON workflow_jobs (due_at) WHERE status = 'pending';
CREATE INDEX workflow_jobs_pending ON workflow_jobs (workflow_id, record_id) WHERE status = 'pending';

-- The run log: what a rule did to which record, action by action.
CREATE TABLE workflow_runs (
    id          INTEGER PRIMARY KEY,
    workflow_id INTEGER NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    job_id      INTEGER,
    record_id   INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    due_at      INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL,
    steps       TEXT    NOT NULL DEFAULT '[]',
    error       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX workflow_runs_rule ON workflow_runs (workflow_id, id);
CREATE INDEX workflow_runs_record ON workflow_runs (workflow_id, record_id, at);

-- Round-robin turns: the last user a rule gave a record to, per team.
CREATE TABLE workflow_turns (
    workflow_id INTEGER NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    team_id     INTEGER NOT NULL,
    last_user_id INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, team_id)
);

-- +goose Down
DROP TABLE workflow_turns;
DROP TABLE workflow_runs;
DROP TABLE workflow_jobs;
DROP TABLE workflows;
