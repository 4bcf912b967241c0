-- +goose Up
-- members_version moves whenever who may post to a conversation changes
-- (members added or removed; for a direct conversation, a block or a
-- contact removal between its two people). The send path checks outside
-- its transaction and numbers a message only while members_version is
-- the one it checked against, so nobody posts after losing the right.
ALTER TABLE conversations ADD COLUMN members_version BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE conversations DROP COLUMN members_version;
