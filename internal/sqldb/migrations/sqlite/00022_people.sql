-- +goose Up
-- Finding people, invites, profile photos and the account's language.
--
-- language is the account's language for what the server writes to it
-- (text messages): 'en' or 'zh-CN'. find_by_handle and find_by_phone are
-- its privacy settings for lookups by exact handle and by verified phone
-- number (default: by handle yes, by phone no). avatar_media_id is the
-- square profile photo (a media item the account owns) and
-- avatar_version counts its changes, so its URL can be cached for good.
ALTER TABLE accounts ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE accounts ADD COLUMN find_by_handle INTEGER NOT NULL DEFAULT 1;
ALTER TABLE accounts ADD COLUMN find_by_phone INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN avatar_media_id INTEGER;
ALTER TABLE accounts ADD COLUMN avatar_version INTEGER NOT NULL DEFAULT 0;

-- Invite links (/add/TOKEN): only a SHA-256 of the token is kept; prefix
-- is its first characters, so the owner can tell links apart.
CREATE TABLE invites (
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    id          INTEGER NOT NULL,
    token_hash  BLOB    NOT NULL UNIQUE,
    prefix      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    PRIMARY KEY (account_id, id)
) STRICT;

-- +goose Down
DROP TABLE invites;
ALTER TABLE accounts DROP COLUMN avatar_version;
ALTER TABLE accounts DROP COLUMN avatar_media_id;
ALTER TABLE accounts DROP COLUMN find_by_phone;
ALTER TABLE accounts DROP COLUMN find_by_handle;
ALTER TABLE accounts DROP COLUMN language;
