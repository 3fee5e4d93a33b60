-- +goose Up
-- Calendar feed and CardDAV contact sync (issue 10).

-- Each user's sync settings: which contacts their CardDAV address book
-- holds (own: theirs; accounts: theirs and those of the clients they own;
-- all: every contact they may view), what a deletion from a phone does
-- (hide: removed from their address book only; refuse: 403, the phone
-- puts it back), and the hash of their private iCalendar feed's secret
-- (NULL: no feed).
CREATE TABLE dav_settings (
    user_id          INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    book_scope       TEXT    NOT NULL DEFAULT 'accounts',
    delete_mode      TEXT    NOT NULL DEFAULT 'hide',
    ical_hash        BLOB    UNIQUE,
    ical_created_at  INTEGER NOT NULL DEFAULT 0
);

-- Contacts a user removed from their phone's address book (delete_mode
-- hide): the CRM keeps them, their address book no longer lists them.
CREATE TABLE dav_hidden (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, contact_id)
) WITHOUT ROWID;

-- The resource name and vCard UID a phone chose for a contact it created,
-- so the contact keeps the address it was created at and never comes back
-- to the phone as a second copy. Other contacts are "<id>.vcf" with UID
-- "urn:cartera:contact:<id>".
CREATE TABLE dav_names (
    contact_id INTEGER PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL UNIQUE,
    uid        TEXT    NOT NULL
);
CREATE INDEX dav_hidden_contact ON dav_hidden(contact_id);

-- +goose Down
DROP TABLE dav_names;
DROP TABLE dav_hidden;
DROP TABLE dav_settings;
