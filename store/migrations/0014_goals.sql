-- +goose Up
-- Goals (issue 8): a target per user or per team for a period (a month, a
-- quarter or a year, starting on starts_on, a local date 'YYYY-MM-DD') on
-- one metric. target is in cents for won_amount and a count otherwise.
CREATE TABLE goals (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
    team_id     INTEGER REFERENCES teams(id) ON DELETE CASCADE,
    metric      TEXT    NOT NULL,
    period      TEXT    NOT NULL,
    starts_on   TEXT    NOT NULL,
    target      INTEGER NOT NULL DEFAULT 0,
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE UNIQUE INDEX goals_subject ON goals(COALESCE(user_id, 0), COALESCE(team_id, 0), metric, period, starts_on);
CREATE INDEX goals_starts ON goals(starts_on);
CREATE INDEX goals_team ON goals(team_id) WHERE team_id IS NOT NULL;

-- Closed opportunities by the moment they closed: the closed-opportunity,
-- forecast, new-client and sales-performance reports read a period of
-- closures without scanning every opportunity.
CREATE INDEX opportunities_closed ON opportunities(closed_at, stage, owner_id, amount_cents) WHERE deleted_at = 0 AND closed_at <> 0;

-- Covering indexes measured on the benchmark dataset (200,000
-- opportunities, 100,000 leads, 2,000,000 activities), so each standard
-- report reads an index instead of a table row per record:
-- the pipeline board's index also carries the probability (weighted
-- pipeline); open deals by account (active accounts); leads by creation
-- (lifecycle, sources); activities by date with what the activity report
-- groups by.
DROP INDEX opportunities_board;
CREATE INDEX opportunities_board ON opportunities(pipeline, stage, owner_id, amount_cents, probability) WHERE deleted_at = 0;
CREATE INDEX opportunities_stage_account ON opportunities(stage, account_id, owner_id) WHERE deleted_at = 0 AND account_id IS NOT NULL;
CREATE INDEX leads_created_report ON leads(created_at, owner_id, status, source, converted_at, converted_opportunity_id) WHERE deleted_at = 0;
CREATE INDEX activities_report ON activities(occurred_at, owner_id, type, outcome, objective, opportunity_id, account_id) WHERE deleted_at = 0;

-- Field changes by who made them and when: the adoption report counts the
-- records each user changed per day.
CREATE INDEX field_history_user ON field_history(user_id, at, entity, record_id) WHERE user_id IS NOT NULL;

-- +goose Down
DROP INDEX activities_report;
DROP INDEX leads_created_report;
DROP INDEX opportunities_stage_account;
DROP INDEX opportunities_board;
CREATE INDEX opportunities_board ON opportunities(pipeline, stage, owner_id, amount_cents) WHERE deleted_at = 0;
DROP INDEX field_history_user;
DROP INDEX opportunities_closed;
DROP TABLE goals;
