-- +goose Up
-- Background jobs that survive restarts and are shared by every node, the
-- data exports they write, and an index that lets an export read one
-- account's likes.

-- A job is one row from the moment it is queued until it finishes (the row
-- is then deleted) or runs out of attempts (status 'failed', kept with its
-- last error). A run leases the row: lease_until says until when, and
-- lease_token, bumped by every claim, is matched by every write the run
-- makes, so a run whose lease another node took over can change nothing.
-- state is the run's last checkpoint, from which a later attempt resumes.
CREATE TABLE jobs (
    id            BIGINT  NOT NULL PRIMARY KEY,
    kind          TEXT    NOT NULL,
    dedupe_key    TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    state         BYTEA,
    status        TEXT    NOT NULL,
    attempts      BIGINT  NOT NULL,
    max_attempts  BIGINT  NOT NULL,
    run_after     BIGINT  NOT NULL,
    lease_until   BIGINT  NOT NULL,
    lease_token   BIGINT  NOT NULL,
    last_error    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

-- At most one unfinished job per kind and key; a failed one does not count,
-- so the same work can be asked for again.
CREATE UNIQUE INDEX jobs_dedupe ON jobs (kind, dedupe_key) WHERE dedupe_key <> '' AND status <> 'failed';
CREATE INDEX jobs_due ON jobs (run_after) WHERE status <> 'failed';

-- A data export: whose data (account_id, the shard key), who may download
-- it (requester_id: the account itself, or its legacy contact), how far it
-- got and where its ZIP is, and the job that writes it. status: pending,
-- running, ready, failed or expired.
CREATE TABLE exports (
    account_id    BIGINT  NOT NULL REFERENCES accounts (id),
    id            BIGINT  NOT NULL,
    requester_id  BIGINT  NOT NULL REFERENCES accounts (id),
    status        TEXT    NOT NULL,
    job_id        BIGINT  NOT NULL,
    progress_ppm  BIGINT  NOT NULL,
    size          BIGINT  NOT NULL,
    blob_key      TEXT    NOT NULL,
    error         TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    finished_at   BIGINT,
    expires_at    BIGINT,
    PRIMARY KEY (account_id, id)
);

CREATE UNIQUE INDEX exports_id ON exports (id);
-- One export of an account at a time.
CREATE UNIQUE INDEX exports_one_running ON exports (account_id) WHERE status IN ('pending', 'running');
CREATE INDEX exports_requester ON exports (requester_id, id);
CREATE INDEX exports_expiry ON exports (expires_at) WHERE status = 'ready';

-- The likes of one account and the channels it owns, for its export (the
-- primary key of likes leads with the post; channels had no index on their
-- owner).
CREATE INDEX likes_account ON likes (account_id, post_id);
CREATE INDEX channels_owner ON channels (owner_id, id);

-- +goose Down
DROP INDEX channels_owner;
DROP INDEX likes_account;
DROP TABLE exports;
DROP TABLE jobs;
