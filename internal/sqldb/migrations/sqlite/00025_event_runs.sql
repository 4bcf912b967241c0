-- +goose Up
-- A row of the sync log may stand for a run of n events: consecutive
-- numbers of one account, of one type and conversation, whose data is
-- loaded by reference (a batch's messages to a conversation). Such a row
-- has the first event's number in seq, the first reference in ref_id and
-- every reference, in order, in data ("id,id,…"). One row and key entry
-- per member and run instead of per member and message leaves a commit
-- fewer entries to insert and fewer pages to write: BenchmarkWriterAlone
-- in package chat. Nodes write runs only with --sync-log-runs.
ALTER TABLE events ADD COLUMN n INTEGER NOT NULL DEFAULT 1;

-- +goose Down
-- Older code reads every row as one event. Rather than leave holes in
-- the logs that hold runs, those logs are emptied: their devices are told
-- cursor_expired and reload, as after the retention.
DELETE FROM events WHERE account_id IN (SELECT account_id FROM events WHERE n > 1);
ALTER TABLE events DROP COLUMN n;
