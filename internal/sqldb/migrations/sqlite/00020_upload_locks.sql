-- +goose Up
-- Locks on resumable uploads kept in shared storage, so that two nodes
-- never write one upload at once. A lock is a lease: its holder renews
-- expires_at (Unix microseconds) while it holds it, and anyone may take
-- over a lock whose lease has run out, so a node that dies holds its
-- locks no longer than one lease. A node waiting for a lock sets
-- release_requested, which asks the holder to stop and let go.
CREATE TABLE upload_locks (
    upload_id          TEXT NOT NULL PRIMARY KEY,
    holder             TEXT NOT NULL,
    expires_at         INTEGER NOT NULL,
    release_requested  INTEGER NOT NULL
) STRICT;

CREATE INDEX upload_locks_expiry ON upload_locks (expires_at);

-- +goose Down
DROP INDEX upload_locks_expiry;
DROP TABLE upload_locks;
