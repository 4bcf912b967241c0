-- +goose Up
-- Web Push. The VAPID key pair every node signs with: one row, inserted
-- by whichever node starts first (ON CONFLICT DO NOTHING) and read back
-- by all.
CREATE TABLE push_vapid_keys (
    id           BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
    private_key  BYTEA  NOT NULL,
    public_key   BYTEA  NOT NULL,
    created_at   BIGINT NOT NULL
);

-- A browser's push subscription, bound to the session that created it:
-- ending the session (signing out, revocation, account deletion) deletes
-- it. One endpoint belongs to one account at a time.
CREATE TABLE push_subscriptions (
    account_id  BIGINT NOT NULL,
    id          BIGINT NOT NULL,
    session_id  BIGINT NOT NULL,
    endpoint    TEXT   NOT NULL UNIQUE,
    p256dh      BYTEA  NOT NULL,
    auth        BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, id),
    FOREIGN KEY (account_id, session_id) REFERENCES sessions (account_id, id) ON DELETE CASCADE
);

-- The nodes serving streams, each with a lease (Unix microseconds, by the
-- database's clock) it renews while it runs, and the accounts with a
-- device connected to each. A node that dies stops renewing, and its
-- presence counts for nothing once the lease has run out.
CREATE TABLE push_nodes (
    node_id      BIGINT NOT NULL PRIMARY KEY,
    lease_until  BIGINT NOT NULL
);

CREATE TABLE push_presence (
    account_id  BIGINT NOT NULL,
    node_id     BIGINT NOT NULL REFERENCES push_nodes (node_id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, node_id)
);

CREATE INDEX push_presence_node ON push_presence (node_id);

-- A member's mute of a conversation: until is Unix microseconds, 0 for
-- "until unmuted". Leaving the conversation ends it.
CREATE TABLE conversation_mutes (
    conversation_id  BIGINT NOT NULL,
    account_id       BIGINT NOT NULL,
    until            BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, account_id),
    FOREIGN KEY (conversation_id, account_id) REFERENCES members (conversation_id, account_id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE conversation_mutes;
DROP INDEX push_presence_node;
DROP TABLE push_presence;
DROP TABLE push_nodes;
DROP TABLE push_subscriptions;
DROP TABLE push_vapid_keys;
