-- +goose Up
-- Channel search matches a key folded in Go with full Unicode case rules
-- (SQLite's LOWER folds ASCII only), so both engines find the same channels.
ALTER TABLE channels ADD COLUMN search_key TEXT NOT NULL DEFAULT '';
-- Channels from before: SQL's LOWER is a fair start (ASCII on SQLite); the
-- service writes Go's full folding for every channel it creates.
UPDATE channels SET search_key = LOWER(handle || ' ' || name);
CREATE INDEX channels_search ON channels (status, follower_count);

-- +goose Down
DROP INDEX channels_search;
ALTER TABLE channels DROP COLUMN search_key;
