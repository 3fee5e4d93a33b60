-- +goose Up
-- Marketing (issue 9): consent on contacts and leads, the recipient's
-- language, segments (saved dynamic filters and static lists), e-mail
-- campaigns with their recipients, and the outbox's extra headers
-- (List-Unsubscribe, RFC 8058).

-- Consent: unknown, opted_in (date and source) or opted_out (date).
ALTER TABLE contacts ADD COLUMN marketing_consent TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE contacts ADD COLUMN marketing_consent_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN marketing_consent_source TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN marketing_consent TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE leads ADD COLUMN marketing_consent_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leads ADD COLUMN marketing_consent_source TEXT NOT NULL DEFAULT '';
ALTER TABLE leads ADD COLUMN language TEXT NOT NULL DEFAULT '';
-- Campaign audiences are mostly "opted in": a partial index keeps that
-- condition cheap on a million contacts.
CREATE INDEX contacts_consent ON contacts(marketing_consent, account_id) WHERE deleted_at = 0;
CREATE INDEX leads_consent ON leads(marketing_consent) WHERE deleted_at = 0;
-- Account facts segments filter on (sector, customer type, potential).
CREATE INDEX accounts_segment ON accounts(sector, customer_type, potential) WHERE deleted_at = 0;

-- Extra headers of an outgoing message, as a JSON object.
ALTER TABLE outbox ADD COLUMN headers TEXT NOT NULL DEFAULT '';

-- The firm's marketing settings and the secret that signs unsubscribe,
-- open and click links (one row).
CREATE TABLE marketing_settings (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    consent_mode  TEXT    NOT NULL DEFAULT 'opted_in' CHECK (consent_mode IN ('opted_in', 'not_opted_out')),
    secret        BLOB    NOT NULL
);
INSERT INTO marketing_settings (id, consent_mode, secret) VALUES (1, 'opted_in', randomblob(32));

-- A segment: a saved filter (dynamic) or a hand-made list (static) of
-- contacts or leads.
CREATE TABLE segments (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    entity      TEXT    NOT NULL CHECK (entity IN ('contacts', 'leads')),
    kind        TEXT    NOT NULL CHECK (kind IN ('dynamic', 'static')),
    conditions  TEXT    NOT NULL DEFAULT '[]',
    owner_id    INTEGER NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted_at  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE segment_members (
    segment_id  INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    record_id   INTEGER NOT NULL,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (segment_id, record_id)
) WITHOUT ROWID;

-- An e-mail campaign to a segment: the template (by name, one per
-- language), schedule, throttle and tracking options.
CREATE TABLE campaigns (
    id                 INTEGER PRIMARY KEY,
    name               TEXT    NOT NULL,
    segment_id         INTEGER NOT NULL REFERENCES segments(id),
    template_name      TEXT    NOT NULL,
    reply_to           TEXT    NOT NULL DEFAULT '',
    status             TEXT    NOT NULL DEFAULT 'draft'
                       CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
    scheduled_at       INTEGER NOT NULL DEFAULT 0,
    per_minute         INTEGER NOT NULL DEFAULT 60,
    track_opens        INTEGER NOT NULL DEFAULT 0,
    track_clicks       INTEGER NOT NULL DEFAULT 0,
    started_at         INTEGER NOT NULL DEFAULT 0,
    finished_at        INTEGER NOT NULL DEFAULT 0,
    recipients         INTEGER NOT NULL DEFAULT 0,
    skipped            INTEGER NOT NULL DEFAULT 0,
    owner_id           INTEGER NOT NULL REFERENCES users(id),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX campaigns_due ON campaigns(status, scheduled_at) WHERE status IN ('scheduled', 'sending');

-- One row per person a campaign reaches, frozen when it starts; seq paces
-- the sends (the outbox row of the n-th is due at start + n × interval).
CREATE TABLE campaign_recipients (
    campaign_id      INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    record_id        INTEGER NOT NULL,
    seq              INTEGER NOT NULL,
    email            TEXT    NOT NULL,
    language         TEXT    NOT NULL DEFAULT '',
    outbox_id        INTEGER,
    opened_at        INTEGER NOT NULL DEFAULT 0,
    clicked_at       INTEGER NOT NULL DEFAULT 0,
    clicks           INTEGER NOT NULL DEFAULT 0,
    unsubscribed_at  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, record_id)
) WITHOUT ROWID;
CREATE INDEX campaign_recipients_queue ON campaign_recipients(campaign_id, seq) WHERE outbox_id IS NULL;
CREATE INDEX campaign_recipients_record ON campaign_recipients(record_id);

-- +goose Down
DROP TABLE campaign_recipients;
DROP TABLE campaigns;
DROP TABLE segment_members;
DROP TABLE segments;
DROP TABLE marketing_settings;
DROP INDEX accounts_segment;
DROP INDEX leads_consent;
DROP INDEX contacts_consent;
ALTER TABLE outbox DROP COLUMN headers;
ALTER TABLE leads DROP COLUMN language;
ALTER TABLE leads DROP COLUMN marketing_consent_source;
ALTER TABLE leads DROP COLUMN marketing_consent_at;
ALTER TABLE leads DROP COLUMN marketing_consent;
ALTER TABLE contacts DROP COLUMN language;
ALTER TABLE contacts DROP COLUMN marketing_consent_source;
ALTER TABLE contacts DROP COLUMN marketing_consent_at;
ALTER TABLE contacts DROP COLUMN marketing_consent;
