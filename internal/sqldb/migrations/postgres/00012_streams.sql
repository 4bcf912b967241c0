-- +goose Up
-- The open event streams of every node, so that the caps on streams per
-- account and per session hold across nodes. A row lives as long as its
-- stream; its node renews lease_until while it runs, so the rows of a node
-- that died stop counting once the lease passes.

CREATE TABLE streams (
    account_id   BIGINT NOT NULL,
    id           BIGINT NOT NULL,
    session_id   BIGINT NOT NULL,
    node         BIGINT NOT NULL,
    opened_at    BIGINT NOT NULL,
    lease_until  BIGINT NOT NULL,
    PRIMARY KEY (account_id, id)
);

CREATE INDEX streams_node ON streams (node);
CREATE INDEX streams_lease ON streams (lease_until);

-- +goose Down
DROP TABLE streams;
