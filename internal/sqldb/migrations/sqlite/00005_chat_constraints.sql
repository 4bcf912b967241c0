-- +goose Up
-- At most one pending contact request from one person to another, enforced
-- by the database so a double tap cannot store two.
CREATE UNIQUE INDEX contact_requests_pending ON contact_requests (from_id, to_id) WHERE status = 'pending';

-- Conversation lists page on (updated_at, id).
CREATE INDEX conversations_updated ON conversations (updated_at, id);

-- +goose Down
DROP INDEX conversations_updated;
DROP INDEX contact_requests_pending;
