-- +goose Up
-- Channel search matches a key folded in Go with full Unicode case rules
-- (SQLite's LOWER folds ASCII only), so both engines find the same channels.
ALTER TABLE channels ADD COLUMN search_key TEXT NOT NULL DEFAULT '';
CREATE INDEX channels_search ON channels (status, follower_count);

-- +goose Down
DROP INDEX channels_search;
ALTER TABLE channels DROP COLUMN search_key;
