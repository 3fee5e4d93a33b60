-- +goose Up
-- Indexes measured on the benchmark dataset (200,000 opportunities): the
-- pipeline board's counts and totals read a covering index per stage, its
-- cards the most recently moved first; stage filters sort by amount or
-- close date without sorting the whole stage.
DROP INDEX opportunities_stage;
CREATE INDEX opportunities_board ON opportunities(pipeline, stage, owner_id, amount_cents) WHERE deleted_at = 0;
CREATE INDEX opportunities_stage_recent ON opportunities(pipeline, stage, stage_changed_at, id) WHERE deleted_at = 0;
CREATE INDEX opportunities_owner_stage_recent ON opportunities(owner_id, pipeline, stage, stage_changed_at, id) WHERE deleted_at = 0;
CREATE INDEX opportunities_stage_amount ON opportunities(stage, amount_cents, id) WHERE deleted_at = 0;
CREATE INDEX opportunities_owner_stage_amount ON opportunities(owner_id, stage, amount_cents, id) WHERE deleted_at = 0;
CREATE INDEX opportunities_amount ON opportunities(amount_cents, id) WHERE deleted_at = 0;

-- +goose Down
DROP INDEX opportunities_amount;
DROP INDEX opportunities_owner_stage_amount;
DROP INDEX opportunities_stage_amount;
DROP INDEX opportunities_owner_stage_recent;
DROP INDEX opportunities_stage_recent;
DROP INDEX opportunities_board;
CREATE INDEX opportunities_stage ON opportunities(pipeline, stage, owner_id) WHERE deleted_at = 0;
