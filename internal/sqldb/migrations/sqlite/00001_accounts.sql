-- +goose Up
-- Times are Unix microseconds in BIGINT/INTEGER columns on both engines, so
-- one SQL text sorts and compares them the same way.

CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    handle          TEXT    NOT NULL UNIQUE,
    display_name    TEXT    NOT NULL,
    password_hash   TEXT    NOT NULL,
    birth_date      TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'active',
    status_reason   TEXT    NOT NULL DEFAULT '',
    status_until    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE account_roles (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        TEXT    NOT NULL,
    granted_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, role)
) STRICT;

CREATE TABLE sessions (
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id            INTEGER NOT NULL,
    token_hash    BLOB    NOT NULL UNIQUE,
    user_agent    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    PRIMARY KEY (account_id, id)
) STRICT;

CREATE TABLE terms (
    version             INTEGER PRIMARY KEY,
    title               TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    requires_reconsent  INTEGER NOT NULL,
    published_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE consents (
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    terms_version  INTEGER NOT NULL REFERENCES terms (version),
    accepted_at    INTEGER NOT NULL,
    PRIMARY KEY (account_id, terms_version)
) STRICT;

CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor_id     INTEGER,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    target_type  TEXT    NOT NULL,
    target_id    TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    details      TEXT    NOT NULL,
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL
) STRICT;

CREATE INDEX audit_log_target ON audit_log (target_type, target_id, seq);

-- audit_head is the chain's tip: appending updates this single row first,
-- which serialises concurrent appenders on PostgreSQL (row lock) and lets a
-- check see a truncated tail.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  TEXT    NOT NULL
) STRICT;

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE consents;
DROP TABLE terms;
DROP TABLE sessions;
DROP TABLE account_roles;
DROP TABLE accounts;
