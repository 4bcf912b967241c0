-- +goose Up
-- Quota held by uploads in progress, so concurrent uploads cannot together
-- pass an account's quota and unfinished resumable uploads count against
-- it. A reservation is settled (deleted in the transaction that inserts the
-- media row), released on failure or termination, or lapses at expires_at.
CREATE TABLE media_reservations (
    id          INTEGER NOT NULL PRIMARY KEY,
    owner_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    bytes       INTEGER NOT NULL,
    resumable   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX media_reservations_owner ON media_reservations (owner_id, expires_at);
CREATE INDEX media_reservations_expiry ON media_reservations (expires_at);

-- One row per account, locked by every reservation, so that on PostgreSQL
-- two reservations of one account check the quota one after the other.
CREATE TABLE media_quota_locks (
    owner_id  INTEGER NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    n         INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE media_quota_locks;
DROP INDEX media_reservations_expiry;
DROP INDEX media_reservations_owner;
DROP TABLE media_reservations;
