-- +goose Up
-- Moderation in the open: the operator's numbered rules, reports grouped
-- into queue items, decisions with their statements of reasons, appeals
-- and the requests authorities make. Every decision, appeal and order is
-- also in the audit log, which the transparency report counts.

CREATE TABLE rules (
    id           INTEGER NOT NULL PRIMARY KEY,
    title        TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- A queue item is one target under review: duplicate reports of it while
-- it is open join the same item (the partial unique index makes two
-- reporters racing create one). snapshot is the target as first reported,
-- kept even if it is edited or deleted since.
CREATE TABLE report_items (
    id            INTEGER NOT NULL PRIMARY KEY,
    target_type   TEXT    NOT NULL,
    target_id     INTEGER NOT NULL,
    owner_id      INTEGER,
    snapshot      TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    report_count  INTEGER NOT NULL,
    decision_id   INTEGER,
    created_at    INTEGER NOT NULL,
    decided_at    INTEGER
) STRICT;

CREATE UNIQUE INDEX report_items_open ON report_items (target_type, target_id) WHERE status = 'open';
CREATE INDEX report_items_status ON report_items (status, id);

-- One report per person and target: reporting again changes nothing.
-- evidence holds, for a message, the message and the ones before it that
-- the reporter chose to include: the only copy of private messages a
-- moderator ever sees.
CREATE TABLE reports (
    id           INTEGER NOT NULL PRIMARY KEY,
    item_id      INTEGER NOT NULL REFERENCES report_items (id),
    reporter_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_type  TEXT    NOT NULL,
    target_id    INTEGER NOT NULL,
    rule_id      INTEGER NOT NULL REFERENCES rules (id),
    rule_title   TEXT    NOT NULL,
    comment      TEXT    NOT NULL,
    evidence     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX reports_once ON reports (reporter_id, target_type, target_id, item_id);
CREATE INDEX reports_item ON reports (item_id, id);
CREATE INDEX reports_reporter ON reports (reporter_id, id);

CREATE TABLE authority_orders (
    id           INTEGER NOT NULL PRIMARY KEY,
    authority    TEXT    NOT NULL,
    legal_basis  TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    scope        TEXT    NOT NULL,
    target_type  TEXT    NOT NULL,
    target_id    INTEGER,
    outcome      TEXT    NOT NULL,
    note         TEXT    NOT NULL,
    recorded_by  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

-- A decision and its statement of reasons. content is the content
-- concerned as it was when decided, and rule_title the rule as it was
-- worded then (a later edit must not change the ground a statement gave).
-- status moves from in_force to
-- reversed (on appeal) or stays; a suspension's end is ends_at.
CREATE TABLE decisions (
    id                  INTEGER NOT NULL PRIMARY KEY,
    item_id             INTEGER,
    target_type         TEXT    NOT NULL,
    target_id           INTEGER NOT NULL,
    account_id          INTEGER,
    action              TEXT    NOT NULL,
    rule_id             INTEGER NOT NULL REFERENCES rules (id),
    rule_title          TEXT    NOT NULL,
    ground              TEXT    NOT NULL,
    legal_basis         TEXT    NOT NULL,
    reason              TEXT    NOT NULL,
    label               TEXT    NOT NULL,
    duration_days       INTEGER,
    source              TEXT    NOT NULL,
    authority_order_id  INTEGER REFERENCES authority_orders (id),
    content             TEXT    NOT NULL,
    moderator_id        INTEGER NOT NULL,
    status              TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    ends_at             INTEGER,
    appeal_deadline     INTEGER NOT NULL
) STRICT;

CREATE INDEX decisions_account ON decisions (account_id, id);
CREATE INDEX decisions_target ON decisions (target_type, target_id, id);

-- One appeal per decision.
CREATE TABLE appeals (
    id           INTEGER NOT NULL PRIMARY KEY,
    decision_id  INTEGER NOT NULL UNIQUE REFERENCES decisions (id),
    account_id   INTEGER NOT NULL,
    text         TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    outcome      TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    decided_by   INTEGER,
    created_at   INTEGER NOT NULL,
    decided_at   INTEGER
) STRICT;

CREATE INDEX appeals_status ON appeals (status, id);

-- The transparency report reads the audit log by action and time.
CREATE INDEX audit_log_action ON audit_log (action, at);

-- The moderation state of content: the decision in force on it, if any
-- ('' none, 'label', 'limit' or 'remove'), and the label's text. Reads
-- filter on it, so reversing a decision puts the content back everywhere.
ALTER TABLE posts ADD COLUMN mod_action TEXT NOT NULL DEFAULT '';
ALTER TABLE posts ADD COLUMN mod_label TEXT NOT NULL DEFAULT '';
ALTER TABLE posts ADD COLUMN mod_decision INTEGER;
ALTER TABLE channel_posts ADD COLUMN mod_action TEXT NOT NULL DEFAULT '';
ALTER TABLE channel_posts ADD COLUMN mod_label TEXT NOT NULL DEFAULT '';
ALTER TABLE channel_posts ADD COLUMN mod_decision INTEGER;
ALTER TABLE messages ADD COLUMN mod_action TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN mod_label TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN mod_decision INTEGER;
ALTER TABLE channels ADD COLUMN mod_action TEXT NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN mod_label TEXT NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN mod_decision INTEGER;

-- The decision that suspended or closed an account, named in the refusal.
ALTER TABLE accounts ADD COLUMN status_decision INTEGER;

-- +goose Down
DROP INDEX audit_log_action;
ALTER TABLE accounts DROP COLUMN status_decision;
ALTER TABLE channels DROP COLUMN mod_decision;
ALTER TABLE channels DROP COLUMN mod_label;
ALTER TABLE channels DROP COLUMN mod_action;
ALTER TABLE messages DROP COLUMN mod_decision;
ALTER TABLE messages DROP COLUMN mod_label;
ALTER TABLE messages DROP COLUMN mod_action;
ALTER TABLE channel_posts DROP COLUMN mod_decision;
ALTER TABLE channel_posts DROP COLUMN mod_label;
ALTER TABLE channel_posts DROP COLUMN mod_action;
ALTER TABLE posts DROP COLUMN mod_decision;
ALTER TABLE posts DROP COLUMN mod_label;
ALTER TABLE posts DROP COLUMN mod_action;
DROP TABLE appeals;
DROP TABLE decisions;
DROP TABLE authority_orders;
DROP TABLE reports;
DROP TABLE report_items;
DROP TABLE rules;
