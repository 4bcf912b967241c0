-- +goose Up
-- The open event streams of every node, so that the caps on streams per
-- account and per session hold across nodes. A row lives as long as its
-- stream; its node renews lease_until while it runs, so the rows of a node
-- that died stop counting once the lease passes.

CREATE TABLE streams (
    account_id   INTEGER NOT NULL,
    id           INTEGER NOT NULL,
    session_id   INTEGER NOT NULL,
    node         INTEGER NOT NULL,
    opened_at    INTEGER NOT NULL,
    lease_until  INTEGER NOT NULL,
    PRIMARY KEY (account_id, id)
) STRICT;

CREATE INDEX streams_node ON streams (node);
CREATE INDEX streams_lease ON streams (lease_until);

-- +goose Down
DROP TABLE streams;
