-- +goose Up
-- The microblog: posts with their media, hashtags and mentions, one-way
-- follows with exact counts, likes, each reader's home timeline (written
-- by fan-out jobs off the request path), notifications and the
-- credentials accounts hold for categories.

-- A post is stored once, under its author (the shard key). Deleted posts
-- keep their row (status 'deleted', text and media cleared) so the counts
-- and the timeline rows that point at them stay consistent.
CREATE TABLE posts (
    author_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id            INTEGER NOT NULL,
    text          TEXT    NOT NULL,
    media_ids     TEXT    NOT NULL,
    visibility    TEXT    NOT NULL,
    reply_to      INTEGER,
    repost_of     INTEGER,
    category      TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    decided_by    TEXT    NOT NULL,
    hashtags      TEXT    NOT NULL,
    mentions      TEXT    NOT NULL,
    like_count    INTEGER NOT NULL,
    reply_count   INTEGER NOT NULL,
    repost_count  INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    published_at  INTEGER,
    PRIMARY KEY (author_id, id)
) STRICT;

CREATE UNIQUE INDEX posts_id ON posts (id);
CREATE INDEX posts_replies ON posts (reply_to, id) WHERE reply_to IS NOT NULL;
CREATE INDEX posts_review ON posts (status, id) WHERE status IN ('pending_review', 'rejected');

-- Media in posts, for access checks on the media.
CREATE TABLE post_media (
    media_id   INTEGER NOT NULL,
    author_id  INTEGER NOT NULL,
    post_id    INTEGER NOT NULL,
    PRIMARY KEY (media_id, post_id)
) STRICT;

-- Hashtags of published public posts: the hashtag pages and trending.
CREATE TABLE hashtags (
    tag         TEXT    NOT NULL,
    post_id     INTEGER NOT NULL,
    author_id   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tag, post_id)
) STRICT;

CREATE INDEX hashtags_created ON hashtags (created_at);

-- Accounts mentioned in posts.
CREATE TABLE mentions (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    post_id     INTEGER NOT NULL,
    PRIMARY KEY (post_id, account_id)
) STRICT;

-- One-way follows. id is time-sortable: lists page by it, and fan-out
-- jobs walk an author's followers by it.
CREATE TABLE follows (
    follower_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    followee_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id           INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
) STRICT;

CREATE INDEX follows_followee ON follows (followee_id, id);
CREATE INDEX follows_follower ON follows (follower_id, id);

-- Per-account counts, changed in the transaction that changes what they
-- count. celebrity is set once follower_count reaches the fan-out
-- threshold and stays set: such an author's posts are merged into
-- timelines at read time instead of written to each follower's.
CREATE TABLE microblog_stats (
    account_id       INTEGER NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    follower_count   INTEGER NOT NULL,
    following_count  INTEGER NOT NULL,
    post_count       INTEGER NOT NULL,
    celebrity        INTEGER NOT NULL
) STRICT;

CREATE INDEX microblog_stats_celebrity ON microblog_stats (account_id) WHERE celebrity = 1;

CREATE TABLE likes (
    post_id     INTEGER NOT NULL,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (post_id, account_id)
) STRICT;

-- Each reader's home timeline: the posts fanned out to them, newest
-- first by post ID (the reader's own posts, and those of authors above the
-- fan-out threshold, are read from posts instead). Visibility and blocks
-- are checked again at read.
CREATE TABLE timeline (
    account_id  INTEGER NOT NULL,
    post_id     INTEGER NOT NULL,
    author_id   INTEGER NOT NULL,
    PRIMARY KEY (account_id, post_id)
) STRICT, WITHOUT ROWID;

-- Fan-out work, written in the post's own transaction. A worker leases a
-- job, writes a batch of readers' timeline rows and moves done_up_to in one
-- transaction, so a restart resumes where the last commit left off.
CREATE TABLE fanout_jobs (
    id           INTEGER NOT NULL PRIMARY KEY,
    post_id      INTEGER NOT NULL,
    author_id    INTEGER NOT NULL,
    audience     TEXT    NOT NULL,
    done_up_to   INTEGER NOT NULL,
    lease_until  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

-- No index on lease_until: the table holds only the jobs in flight, and
-- every lease and batch would rewrite one.

-- Notifications: mention, reply, like, repost, follow. dedupe, when set,
-- makes a repeated action (like, unlike, like) notify once.
CREATE TABLE notifications (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    actor_id    INTEGER NOT NULL,
    post_id     INTEGER,
    dedupe      TEXT,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, id)
) STRICT;

CREATE UNIQUE INDEX notifications_dedupe ON notifications (account_id, dedupe);

-- How far each account has read its notifications.
CREATE TABLE notification_reads (
    account_id  INTEGER NOT NULL PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    up_to       INTEGER NOT NULL
) STRICT;

-- Credentials that let an account post in a credential category.
CREATE TABLE account_credentials (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id          INTEGER NOT NULL,
    category    TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    granted_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, id)
) STRICT;

CREATE UNIQUE INDEX account_credentials_id ON account_credentials (id);

-- +goose Down
DROP TABLE account_credentials;
DROP TABLE notification_reads;
DROP TABLE notifications;
DROP TABLE fanout_jobs;
DROP TABLE timeline;
DROP TABLE likes;
DROP TABLE microblog_stats;
DROP TABLE follows;
DROP TABLE mentions;
DROP TABLE hashtags;
DROP TABLE post_media;
DROP TABLE posts;
