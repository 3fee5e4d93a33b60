-- +goose Up
-- Webhook subscriptions: an administrator's URL, the events it wants and the
-- secret its deliveries are signed with (HMAC-SHA256).
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    url         TEXT    NOT NULL,
    events      TEXT    NOT NULL DEFAULT '[]',
    secret      TEXT    NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- The webhook delivery queue: a row per (event, target) written in the same
-- transaction as the change, claimed by a worker after commit (pending →
-- sending with a lease) and sent outside any transaction; retried with
-- exponential backoff until expires_at (24 h after the event). A row from a
-- workflow rule's "webhook" action has no webhook_id and carries its own
-- url and secret.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    webhook_id       INTEGER REFERENCES webhooks(id) ON DELETE CASCADE,
    workflow_id      INTEGER REFERENCES workflows(id) ON DELETE SET NULL,
    event_id         TEXT    NOT NULL,
    event            TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    secret           TEXT    NOT NULL DEFAULT '',
    body             TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,
    lease_until      INTEGER NOT NULL DEFAULT 0,
    expires_at       INTEGER NOT NULL,
    last_status      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    last_duration_ms INTEGER NOT NULL DEFAULT 0,
    resent_from      INTEGER,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);

-- Every attempt of a delivery: when, the HTTP status (0: no answer), how long
-- it took and the error, for the deliveries log.
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY,
    delivery_id  INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    at           INTEGER NOT NULL,
    status_code  INTEGER NOT NULL DEFAULT 0,
    duration_ms  INTEGER NOT NULL DEFAULT 0,
    error        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- External ids: the id a record has in another system (billing, ERP,
-- e-commerce), one per system and record, unique per system.
CREATE TABLE external_ids (
    entity       TEXT    NOT NULL,
    record_id    INTEGER NOT NULL,
    system       TEXT    NOT NULL,
    external_id  TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (entity, system, external_id),
    UNIQUE (entity, record_id, system)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE external_ids;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
