-- +goose Up
-- conversations_updated ordered every conversation by its last activity.
-- Nothing reads it: a conversation list starts from the member's own rows
-- (members_account) and sorts those. But every message sent moved the
-- conversation's entry in it: about one page of the 13 that a one-message
-- commit changed (BenchmarkSendOne in package chat: 26.6 → 24.6 write
-- calls per send).
DROP INDEX conversations_updated;

-- +goose Down
CREATE INDEX conversations_updated ON conversations (updated_at, id);
