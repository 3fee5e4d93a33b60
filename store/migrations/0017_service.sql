-- +goose Up
-- Customer service (issue 9): case queues per team, SLA targets counted in
-- business hours, e-mail to case and the satisfaction survey.

-- A case's queue is a team (its id as text, "" for none). The SLA due
-- times are computed from the company's working hours and the targets of
-- the case's priority when the case is opened and when its priority
-- changes; sla_warning_at is when 80% of the pending target has elapsed
-- (first response until there is one, then resolution). first_response_at
-- is the first reply or activity by an agent. satisfaction is the 1-5 score
-- of the survey (0: none), survey_sent_at when the survey was queued.
ALTER TABLE cases ADD COLUMN queue TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN first_response_due_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN first_response_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN resolution_due_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN sla_warning_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN satisfaction INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN survey_sent_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_queue ON cases(queue, id) WHERE deleted_at = 0;
-- "SLA at risk / breached" lists read the open cases only.
CREATE INDEX cases_sla_open ON cases(sla_warning_at, id) WHERE deleted_at = 0 AND resolved_at = 0;
-- The survey job looks for resolved cases not yet surveyed.
CREATE INDEX cases_survey ON cases(resolved_at) WHERE deleted_at = 0 AND survey_sent_at = 0 AND resolved_at <> 0;

-- The service settings, one row: working days (Go weekday numbers,
-- 0 = Sunday) and daily window in minutes after midnight in the company's
-- time zone; the survey switch and since when it is on (cases resolved
-- before are never surveyed); the support address replies go out with;
-- the queue new e-mail cases land in; and the key survey links are signed
-- with.
CREATE TABLE service_settings (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    work_days       TEXT    NOT NULL DEFAULT '1,2,3,4,5',
    work_start      INTEGER NOT NULL DEFAULT 540,
    work_end        INTEGER NOT NULL DEFAULT 1080,
    survey          INTEGER NOT NULL DEFAULT 0,
    survey_since    INTEGER NOT NULL DEFAULT 0,
    support_address TEXT    NOT NULL DEFAULT '',
    mailbox_queue   TEXT    NOT NULL DEFAULT '',
    secret          BLOB    NOT NULL,
    updated_at      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO service_settings (id, secret) VALUES (1, randomblob(32));

-- SLA targets per case priority, in business minutes (0: no target).
CREATE TABLE sla_targets (
    priority               TEXT    PRIMARY KEY,
    first_response_minutes INTEGER NOT NULL DEFAULT 0,
    resolution_minutes     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO sla_targets (priority, first_response_minutes, resolution_minutes) VALUES
    ('urgent', 60, 480), ('high', 240, 1440), ('normal', 480, 2880), ('low', 960, 4800);

-- How each team's queue assigns new cases: by hand, or round-robin over
-- the team's active members.
CREATE TABLE case_queues (
    team_id    INTEGER PRIMARY KEY REFERENCES teams(id) ON DELETE CASCADE,
    assignment TEXT    NOT NULL DEFAULT 'manual' CHECK (assignment IN ('manual', 'round_robin'))
);

-- Every e-mail of a case conversation: messages read from the support
-- mailbox (processed once: the Message-ID and the mailbox place are unique)
-- and replies sent from the case page (their Message-ID, so an answer's
-- In-Reply-To finds the case).
CREATE TABLE case_emails (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT    NOT NULL UNIQUE,
    mailbox      TEXT    NOT NULL DEFAULT '',
    uid_validity INTEGER NOT NULL DEFAULT 0,
    uid          INTEGER NOT NULL DEFAULT 0,
    direction    TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    case_id      INTEGER REFERENCES cases(id) ON DELETE SET NULL,
    activity_id  INTEGER REFERENCES activities(id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX case_emails_uid ON case_emails (mailbox, uid_validity, uid) WHERE uid <> 0;
CREATE INDEX case_emails_case ON case_emails (case_id);

-- +goose Down
DROP TABLE case_emails;
DROP TABLE case_queues;
DROP TABLE sla_targets;
DROP TABLE service_settings;
DROP INDEX cases_survey;
DROP INDEX cases_sla_open;
DROP INDEX cases_queue;
ALTER TABLE cases DROP COLUMN survey_sent_at;
ALTER TABLE cases DROP COLUMN satisfaction;
ALTER TABLE cases DROP COLUMN sla_warning_at;
ALTER TABLE cases DROP COLUMN resolution_due_at;
ALTER TABLE cases DROP COLUMN first_response_at;
ALTER TABLE cases DROP COLUMN first_response_due_at;
ALTER TABLE cases DROP COLUMN queue;
