-- +goose Up
-- At most one open (pending or verified) identity per account, enforced by
-- the database so concurrent submissions cannot both pass the check.
CREATE UNIQUE INDEX identities_open ON identities (account_id) WHERE status IN ('pending', 'verified');

-- One row per phone number being verified: verifying takes its lock, so
-- "one account per number" holds under concurrency on PostgreSQL.
CREATE TABLE phone_locks (
    phone  TEXT PRIMARY KEY
) STRICT;

-- +goose Down
DROP TABLE phone_locks;
DROP INDEX identities_open;
