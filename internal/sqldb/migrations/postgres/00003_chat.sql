-- +goose Up
-- Contacts, conversations, messages and each account's sync log.

CREATE TABLE contacts (
    account_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    contact_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (account_id, contact_id)
);

CREATE TABLE contact_requests (
    to_id       BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id          BIGINT  NOT NULL,
    from_id     BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    note        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    decided_at  BIGINT,
    PRIMARY KEY (to_id, id)
);

CREATE UNIQUE INDEX contact_requests_id ON contact_requests (id);
CREATE INDEX contact_requests_from ON contact_requests (from_id, to_id, status);

CREATE TABLE blocks (
    account_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    blocked_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (account_id, blocked_id)
);

CREATE TABLE conversations (
    id          BIGINT  PRIMARY KEY,
    kind        TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    direct_key  TEXT    UNIQUE,
    last_seq    BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE members (
    conversation_id  BIGINT  NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    account_id       BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role             TEXT    NOT NULL,
    read_seq         BIGINT  NOT NULL,
    joined_seq       BIGINT  NOT NULL,
    joined_at        BIGINT  NOT NULL,
    PRIMARY KEY (conversation_id, account_id)
);

CREATE INDEX members_account ON members (account_id, conversation_id);

CREATE TABLE messages (
    conversation_id  BIGINT  NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq              BIGINT  NOT NULL,
    id               BIGINT  NOT NULL,
    sender_id        BIGINT  NOT NULL,
    client_id        TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    text             TEXT    NOT NULL,
    media_id         BIGINT,
    reply_to         BIGINT,
    mentions         TEXT    NOT NULL,
    recalled         BOOLEAN NOT NULL,
    created_at       BIGINT  NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

CREATE UNIQUE INDEX messages_id ON messages (id);
CREATE UNIQUE INDEX messages_client ON messages (conversation_id, sender_id, client_id);

-- sync_heads holds each account's newest event number; bumping it takes the
-- row's lock, so one account's events are numbered in commit order.
CREATE TABLE sync_heads (
    account_id  BIGINT  PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    seq         BIGINT  NOT NULL
);

CREATE TABLE events (
    account_id       BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    seq              BIGINT  NOT NULL,
    type             TEXT    NOT NULL,
    conversation_id  BIGINT,
    ref_id           BIGINT,
    data             TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    PRIMARY KEY (account_id, seq)
);

CREATE INDEX events_created ON events (created_at);

-- +goose Down
DROP TABLE events;
DROP TABLE sync_heads;
DROP TABLE messages;
DROP TABLE members;
DROP TABLE conversations;
DROP TABLE blocks;
DROP TABLE contact_requests;
DROP TABLE contacts;
