-- +goose Up
-- Phone verification and legal identity. Legal names and document numbers
-- are stored only sealed (AES-256-GCM, see internal/identity/keyring.go);
-- key_id names the key that sealed them, for rotation.

CREATE TABLE phones (
    account_id   INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    phone        TEXT    NOT NULL,
    verified_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX phones_phone ON phones (phone);

CREATE TABLE phone_challenges (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    phone       TEXT    NOT NULL,
    code_hash   BLOB    NOT NULL,
    sent_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL
) STRICT;

CREATE TABLE identities (
    account_id        INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id                INTEGER NOT NULL,
    status            TEXT    NOT NULL,
    document_type     TEXT    NOT NULL,
    document_country  TEXT    NOT NULL,
    legal_name        BLOB    NOT NULL,
    document_number   BLOB    NOT NULL,
    key_id            TEXT    NOT NULL,
    submitted_at      INTEGER NOT NULL,
    decided_at        INTEGER,
    decided_by        TEXT    NOT NULL,
    reason            TEXT    NOT NULL,
    PRIMARY KEY (account_id, id)
) STRICT;

CREATE UNIQUE INDEX identities_id ON identities (id);
CREATE INDEX identities_status ON identities (status, id);
CREATE INDEX identities_key ON identities (key_id);

-- +goose Down
DROP TABLE identities;
DROP TABLE phone_challenges;
DROP TABLE phones;
