-- +goose Up
-- Phone verification and legal identity. Legal names and document numbers
-- are stored only sealed (AES-256-GCM, see internal/identity/keyring.go);
-- key_id names the key that sealed them, for rotation.

CREATE TABLE phones (
    account_id   BIGINT  PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    phone        TEXT    NOT NULL,
    verified_at  BIGINT  NOT NULL
);

CREATE INDEX phones_phone ON phones (phone);

CREATE TABLE phone_challenges (
    account_id  BIGINT  PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    phone       TEXT    NOT NULL,
    code_hash   BYTEA   NOT NULL,
    sent_at     BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    attempts    BIGINT  NOT NULL
);

CREATE TABLE identities (
    account_id        BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id                BIGINT  NOT NULL,
    status            TEXT    NOT NULL,
    document_type     TEXT    NOT NULL,
    document_country  TEXT    NOT NULL,
    legal_name        BYTEA   NOT NULL,
    document_number   BYTEA   NOT NULL,
    key_id            TEXT    NOT NULL,
    submitted_at      BIGINT  NOT NULL,
    decided_at        BIGINT,
    decided_by        TEXT    NOT NULL,
    reason            TEXT    NOT NULL,
    PRIMARY KEY (account_id, id)
);

CREATE UNIQUE INDEX identities_id ON identities (id);
CREATE INDEX identities_status ON identities (status, id);
CREATE INDEX identities_key ON identities (key_id);

-- +goose Down
DROP TABLE identities;
DROP TABLE phone_challenges;
DROP TABLE phones;
