-- +goose Up
-- Times are Unix microseconds in BIGINT columns on both engines, so one SQL
-- text sorts and compares them the same way.

CREATE TABLE accounts (
    id              BIGINT  PRIMARY KEY,
    handle          TEXT    NOT NULL UNIQUE,
    display_name    TEXT    NOT NULL,
    password_hash   TEXT    NOT NULL,
    birth_date      TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'active',
    status_reason   TEXT    NOT NULL DEFAULT '',
    status_until    BIGINT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE TABLE account_roles (
    account_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        TEXT    NOT NULL,
    granted_at  BIGINT  NOT NULL,
    PRIMARY KEY (account_id, role)
);

CREATE TABLE sessions (
    account_id    BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id            BIGINT  NOT NULL,
    token_hash    BYTEA   NOT NULL UNIQUE,
    user_agent    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    last_used_at  BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    PRIMARY KEY (account_id, id)
);

CREATE TABLE terms (
    version             BIGINT   PRIMARY KEY,
    title               TEXT     NOT NULL,
    body                TEXT     NOT NULL,
    requires_reconsent  BOOLEAN  NOT NULL,
    published_at        BIGINT   NOT NULL
);

CREATE TABLE consents (
    account_id     BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    terms_version  BIGINT  NOT NULL REFERENCES terms (version),
    accepted_at    BIGINT  NOT NULL,
    PRIMARY KEY (account_id, terms_version)
);

CREATE TABLE audit_log (
    seq          BIGINT  PRIMARY KEY,
    at           BIGINT  NOT NULL,
    actor_id     BIGINT,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    target_type  TEXT    NOT NULL,
    target_id    TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    details      TEXT    NOT NULL,
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL
);

CREATE INDEX audit_log_target ON audit_log (target_type, target_id, seq);

-- audit_head is the chain's tip: appending updates this single row first,
-- which serialises concurrent appenders (row lock) and lets a check see a
-- truncated tail.
CREATE TABLE audit_head (
    id    BIGINT  PRIMARY KEY CHECK (id = 1),
    seq   BIGINT  NOT NULL,
    hash  TEXT    NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE consents;
DROP TABLE terms;
DROP TABLE sessions;
DROP TABLE account_roles;
DROP TABLE accounts;
