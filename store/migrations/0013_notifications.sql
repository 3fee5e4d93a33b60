-- +goose Up
-- In-app notifications: one row per person and event. A built-in kind
-- keeps a message key and its arguments (JSON) so the text is translated
-- into the reader's language when shown or e-mailed; a workflow rule's
-- notification keeps the rule's own title and body. dedup_key makes an
-- event (a task reminder for one due time) notify a person once.
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    msg_key     TEXT    NOT NULL DEFAULT '',
    args        TEXT    NOT NULL DEFAULT '{}',
    title       TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL DEFAULT '',
    entity      TEXT    NOT NULL DEFAULT '',
    record_id   INTEGER,
    dedup_key   TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    read_at     INTEGER NOT NULL DEFAULT 0
);
-- The bell's count (user_id, read_at = 0) and the list, newest first.
CREATE INDEX notifications_user_read ON notifications (user_id, read_at);
CREATE INDEX notifications_user_id ON notifications (user_id, id);
CREATE UNIQUE INDEX notifications_dedup ON notifications (user_id, dedup_key) WHERE dedup_key <> '';

-- Where each person wants each kind of notification; no row means the
-- kind's default (see store.NotificationKinds).
CREATE TABLE notification_prefs (
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind     TEXT    NOT NULL,
    channel  TEXT    NOT NULL CHECK (channel IN ('in_app', 'email', 'both')),
    PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;

-- The daily digest: who wants it, and the company-local date it was last
-- sent (so it goes once a day whatever the scheduler's tick).
ALTER TABLE users ADD COLUMN notify_digest INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN digest_sent_on TEXT NOT NULL DEFAULT '';

-- Task reminders: how long before the due time to remind the assignee
-- ('' = never) and the due time last reminded, so a reminder fires once per
-- due time and again when the due time changes.
ALTER TABLE tasks ADD COLUMN remind_before TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN reminded_due_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tasks_remind ON tasks (due_at) WHERE remind_before <> '' AND status = 'open' AND deleted_at = 0;

-- +goose Down
DROP INDEX tasks_remind;
ALTER TABLE tasks DROP COLUMN reminded_due_at;
ALTER TABLE tasks DROP COLUMN remind_before;
ALTER TABLE users DROP COLUMN digest_sent_on;
ALTER TABLE users DROP COLUMN notify_digest;
DROP TABLE notification_prefs;
DROP TABLE notifications;
