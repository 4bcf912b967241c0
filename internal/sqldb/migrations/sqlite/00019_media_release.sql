-- +goose Up
-- Deleting media frees the uploader's quota at once, but a sent message
-- that carries the item keeps it readable for the conversation until the
-- message is recalled. released_at marks such an item: it no longer counts
-- against the quota, is not listed, cannot be attached to anything new and
-- is no longer its uploader's; the media cleaner removes its row and bytes
-- once no message carries it.
ALTER TABLE media ADD COLUMN released_at INTEGER;

CREATE INDEX media_released ON media (released_at) WHERE released_at IS NOT NULL;

-- +goose Down
DROP INDEX media_released;
ALTER TABLE media DROP COLUMN released_at;
