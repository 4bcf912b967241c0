-- +goose Up
-- Contacts, conversations, messages and each account's sync log.

CREATE TABLE contacts (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    contact_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, contact_id)
) STRICT;

CREATE TABLE contact_requests (
    to_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id          INTEGER NOT NULL,
    from_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    note        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    decided_at  INTEGER,
    PRIMARY KEY (to_id, id)
) STRICT;

CREATE UNIQUE INDEX contact_requests_id ON contact_requests (id);
CREATE INDEX contact_requests_from ON contact_requests (from_id, to_id, status);

CREATE TABLE blocks (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    blocked_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, blocked_id)
) STRICT;

CREATE TABLE conversations (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    direct_key  TEXT    UNIQUE,
    last_seq    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE members (
    conversation_id  INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role             TEXT    NOT NULL,
    read_seq         INTEGER NOT NULL,
    joined_seq       INTEGER NOT NULL,
    joined_at        INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, account_id)
) STRICT;

CREATE INDEX members_account ON members (account_id, conversation_id);

CREATE TABLE messages (
    conversation_id  INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq              INTEGER NOT NULL,
    id               INTEGER NOT NULL,
    sender_id        INTEGER NOT NULL,
    client_id        TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    text             TEXT    NOT NULL,
    media_id         INTEGER,
    reply_to         INTEGER,
    mentions         TEXT    NOT NULL,
    recalled         INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) STRICT;

CREATE UNIQUE INDEX messages_id ON messages (id);
CREATE UNIQUE INDEX messages_client ON messages (conversation_id, sender_id, client_id);

-- sync_heads holds each account's newest event number; bumping it takes the
-- row's lock, so one account's events are numbered in commit order.
CREATE TABLE sync_heads (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL
) STRICT;

CREATE TABLE events (
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    seq              INTEGER NOT NULL,
    type             TEXT    NOT NULL,
    conversation_id  INTEGER,
    ref_id           INTEGER,
    data             TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (account_id, seq)
) STRICT;

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
