-- +goose Up
-- Per-account rate limits shared by every node (see internal/ratelimit).
-- On SQLite Plaza runs as one node and keeps these budgets in memory; the
-- table exists so both engines have the same schema.
CREATE TABLE rate_buckets (
    key TEXT    NOT NULL PRIMARY KEY,
    tat INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE rate_buckets;
