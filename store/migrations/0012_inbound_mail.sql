-- +goose Up
-- E-mail sent or received outside Cartera, read from the IMAP "dropbox"
-- that people BCC or forward to. Every message read is one row here, so it
-- is processed once: the Message-ID is unique, and so is its place in the
-- mailbox (mailbox, UIDVALIDITY, UID). A message whose addresses match
-- contacts or leads is logged (one e-mail activity per record, listed in
-- inbound_email_activities); one that matches nothing waits as unmatched
-- until a user links it to a record or discards it. body_text is kept only
-- while a message waits: once logged, the activity holds it; once
-- discarded, it is gone.
CREATE TABLE inbound_emails (
    id            INTEGER PRIMARY KEY,
    message_id    TEXT    NOT NULL UNIQUE,
    mailbox       TEXT    NOT NULL DEFAULT '',
    uid_validity  INTEGER NOT NULL DEFAULT 0,
    uid           INTEGER NOT NULL DEFAULT 0,
    status        TEXT    NOT NULL CHECK (status IN ('logged', 'unmatched', 'discarded')),
    direction     TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    from_addr     TEXT    NOT NULL DEFAULT '',
    from_name     TEXT    NOT NULL DEFAULT '',
    to_addrs      TEXT    NOT NULL DEFAULT '',
    cc_addrs      TEXT    NOT NULL DEFAULT '',
    subject       TEXT    NOT NULL DEFAULT '',
    body_text     TEXT    NOT NULL DEFAULT '',
    sent_at       INTEGER NOT NULL DEFAULT 0,
    user_id       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    handled_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX inbound_emails_uid ON inbound_emails (mailbox, uid_validity, uid) WHERE uid <> 0;
-- The inbox page: a user's waiting messages, newest first.
CREATE INDEX inbound_emails_status ON inbound_emails (status, user_id, id);

-- The activities a message became.
CREATE TABLE inbound_email_activities (
    inbound_id   INTEGER NOT NULL REFERENCES inbound_emails(id) ON DELETE CASCADE,
    activity_id  INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    PRIMARY KEY (inbound_id, activity_id)
) WITHOUT ROWID;
CREATE INDEX inbound_email_activities_activity ON inbound_email_activities (activity_id);

-- Where the poller is in each mailbox: the highest UID processed under the
-- mailbox's UIDVALIDITY (a new UIDVALIDITY starts again from the first
-- message; Message-IDs keep that from logging anything twice).
CREATE TABLE inbound_mailboxes (
    mailbox       TEXT    PRIMARY KEY,
    uid_validity  INTEGER NOT NULL,
    last_uid      INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- +goose Down
DROP TABLE inbound_mailboxes;
DROP TABLE inbound_email_activities;
DROP TABLE inbound_emails;
