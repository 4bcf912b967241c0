-- +goose Up
-- Uploaded media. The bytes live in the blob store under storage_key (and
-- thumb_key for a thumbnail or video poster); this row says what they are
-- and whose they are.

CREATE TABLE media (
    owner_id      BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id            BIGINT  NOT NULL,
    kind          TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size          BIGINT  NOT NULL,
    width         BIGINT  NOT NULL,
    height        BIGINT  NOT NULL,
    duration_ms   BIGINT  NOT NULL,
    storage_key   TEXT    NOT NULL,
    thumb_key     TEXT    NOT NULL,
    thumb_type    TEXT    NOT NULL,
    sha256        TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    PRIMARY KEY (owner_id, id)
);

CREATE UNIQUE INDEX media_id ON media (id);

-- Access checks look up the messages that carry a media item.
CREATE INDEX messages_media ON messages (media_id) WHERE media_id IS NOT NULL;

-- +goose Down
DROP INDEX messages_media;
DROP TABLE media;
