-- +goose Up
-- Each audit row names the key whose HMAC its hash is; '' marks a plain
-- SHA-256 row from before the log was keyed.
ALTER TABLE audit_log ADD COLUMN key_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_log DROP COLUMN key_id;
