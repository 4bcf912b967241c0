-- +goose Up
-- Per-account rate limits shared by every node (see internal/ratelimit):
-- one row per budget and key, tat = when the bucket is full again, in Unix
-- microseconds. UNLOGGED: charges skip the WAL, and a crash only empties
-- the budgets. No index on tat, so charges stay HOT updates; the pruner's
-- occasional scan is cheap at one row per recently active account.
CREATE UNLOGGED TABLE rate_buckets (
    key TEXT   NOT NULL PRIMARY KEY,
    tat BIGINT NOT NULL
);

-- +goose Down
DROP TABLE rate_buckets;
