-- +goose Up
-- A row of the sync log may stand for a run of n events: consecutive
-- numbers of one account, of one type and conversation, whose data is
-- loaded by reference (a batch's messages to a conversation). Such a row
-- has the first event's number in seq, the first reference in ref_id and
-- every reference, in order, in data ("id,id,…"). One row per member and
-- run instead of one per message writes a leaf of the (account_id, seq)
-- key per run rather than per event: BenchmarkWriterAlone in package chat.
ALTER TABLE events ADD COLUMN n BIGINT NOT NULL DEFAULT 1;

-- +goose Down
-- Older code reads every row as one event. Rather than leave holes in
-- the logs that hold runs, those logs are emptied: their devices are told
-- cursor_expired and reload, as after the retention.
DELETE FROM events WHERE account_id IN (SELECT account_id FROM events WHERE n > 1);
ALTER TABLE events DROP COLUMN n;
