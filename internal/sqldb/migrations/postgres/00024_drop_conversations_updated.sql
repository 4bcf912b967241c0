-- +goose Up
-- conversations_updated ordered every conversation by its last activity.
-- Nothing reads it: a conversation list starts from the member's own rows
-- (members_account) and sorts those. But every message sent moved the
-- conversation's entry in it. On SQLite that was about one page of the 13
-- a one-message commit changed; here BenchmarkSendOne (package chat) shows
-- no difference, and the index goes so that both engines keep one schema.
DROP INDEX conversations_updated;

-- +goose Down
CREATE INDEX conversations_updated ON conversations (updated_at, id);
