-- +goose Up
-- Uploaded media. The bytes live in the blob store under storage_key (and
-- thumb_key for a thumbnail or video poster); this row says what they are
-- and whose they are.

CREATE TABLE media (
    owner_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id            INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    storage_key   TEXT    NOT NULL,
    thumb_key     TEXT    NOT NULL,
    thumb_type    TEXT    NOT NULL,
    sha256        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (owner_id, id)
) STRICT;

CREATE UNIQUE INDEX media_id ON media (id);

-- Access checks look up the messages that carry a media item.
CREATE INDEX messages_media ON messages (media_id) WHERE media_id IS NOT NULL;

-- +goose Down
DROP INDEX messages_media;
DROP TABLE media;
