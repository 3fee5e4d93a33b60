-- +goose Up
-- Saved custom reports (issue 8): a report builder spec (entity, filters,
-- groupings, measures, sort, chart) kept as JSON, owned by its author and
-- shared with roles. It always runs under the viewer's permissions.
CREATE TABLE saved_reports (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    owner_id      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    spec          TEXT    NOT NULL,
    shared_roles  TEXT    NOT NULL DEFAULT '[]',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- A user's home dashboard, once they change it: the widgets in order, as
-- JSON. A user without a row sees their role's default dashboard.
CREATE TABLE dashboards (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    widgets     TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Scheduled report e-mails: what to send (widgets as JSON, or the
-- recipient's own dashboard), when (daily at a local time, weekly on a
-- weekday, monthly on a day), to whom (users and roles). last_slot is the
-- last slot ("2026-11-23T08:00") whose e-mails were queued; the outbox's
-- idempotency key report:{schedule}:{slot}:{user} makes each slot's
-- e-mail to each person exactly one row, even across restarts.
CREATE TABLE report_schedules (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    builtin     TEXT    NOT NULL DEFAULT '',
    content     TEXT    NOT NULL,
    frequency   TEXT    NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    at_time     TEXT    NOT NULL DEFAULT '08:00',
    weekday     INTEGER NOT NULL DEFAULT 1,
    monthday    INTEGER NOT NULL DEFAULT 1,
    to_users    TEXT    NOT NULL DEFAULT '[]',
    to_roles    TEXT    NOT NULL DEFAULT '[]',
    enabled     INTEGER NOT NULL DEFAULT 0,
    last_slot   TEXT    NOT NULL DEFAULT '',
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- The two built-in schedules, ready to enable: a daily 08:00 summary for
-- each salesperson and a weekly (Monday 08:00) team summary for admins.
INSERT INTO report_schedules (name, builtin, content, frequency, at_time, weekday, to_roles, created_at, updated_at) VALUES
    ('Daily sales summary', 'daily_sales',
     '[{"kind":"standard","ref":"activities","params":"period=yesterday&by=type"},{"kind":"list","ref":"tasks_today"},{"kind":"standard","ref":"stalled_opportunities"}]',
     'daily', '08:00', 1, '["salesperson"]', 0, 0),
    ('Weekly team summary', 'weekly_team',
     '[{"kind":"standard","ref":"pipeline"},{"kind":"standard","ref":"forecast"},{"kind":"standard","ref":"activities","params":"period=last_week&by=owner"},{"kind":"standard","ref":"lead_sources"}]',
     'weekly', '08:00', 1, '["admin"]', 0, 0);

-- Attachments of an outgoing e-mail (a scheduled report's CSV and XLSX):
-- a JSON array of {"name","type","data"} with data in base64.
ALTER TABLE outbox ADD COLUMN attachments TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN attachments;
DROP TABLE report_schedules;
DROP TABLE dashboards;
DROP TABLE saved_reports;
