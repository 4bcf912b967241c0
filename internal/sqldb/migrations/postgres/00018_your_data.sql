-- +goose Up
-- Deletion with a grace period, legacy contacts and memorialisation.
--
-- deletion_scheduled_at is when a deletion the owner asked for takes
-- effect (NULL: none is scheduled); the account.erase job runs then. A
-- memorialised account has status 'memorialised'.
ALTER TABLE accounts ADD COLUMN deletion_scheduled_at BIGINT;

-- The one person who looks after an account once it is memorialised, and
-- whether they may download its data.
CREATE TABLE legacy_contacts (
    account_id    BIGINT  NOT NULL PRIMARY KEY REFERENCES accounts (id),
    contact_id    BIGINT  NOT NULL REFERENCES accounts (id),
    may_download  BOOLEAN NOT NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE INDEX legacy_contacts_contact ON legacy_contacts (contact_id);

-- Erasing an account removes the rows that point at it from the other
-- side too; these indexes keep that from scanning whole tables (00017
-- indexes channels by owner and likes by account already).
CREATE INDEX contacts_contact ON contacts (contact_id);
CREATE INDEX blocks_blocked ON blocks (blocked_id);

-- +goose Down
DROP INDEX blocks_blocked;
DROP INDEX contacts_contact;
DROP TABLE legacy_contacts;
ALTER TABLE accounts DROP COLUMN deletion_scheduled_at;
