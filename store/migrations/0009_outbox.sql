-- +goose Up
-- The outbox: every e-mail Cartera sends is first a row here, written in the
-- same transaction as the change that causes it. A drainer claims due rows
-- (pending → sending with a lease), sends them outside any transaction and
-- records the result (sent, or pending again with a later next_attempt_at,
-- or failed). A row left in "sending" by a crash is claimed again once its
-- lease expires; the Message-ID derives from idempotency_key, so such a
-- duplicate carries the same Message-ID.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    message_id       TEXT    NOT NULL,
    to_addr          TEXT    NOT NULL,
    to_name          TEXT    NOT NULL DEFAULT '',
    reply_to         TEXT    NOT NULL DEFAULT '',
    subject          TEXT    NOT NULL,
    body_text        TEXT    NOT NULL DEFAULT '',
    body_html        TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,
    lease_until      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    entity           TEXT    NOT NULL DEFAULT '',
    record_id        INTEGER,
    created_by       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER NOT NULL DEFAULT 0
);

-- The drainer's two questions: which pending rows are due, and which
-- sending rows have an expired lease.
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_lease ON outbox (lease_until) WHERE status = 'sending';

-- +goose Down
DROP TABLE outbox;
