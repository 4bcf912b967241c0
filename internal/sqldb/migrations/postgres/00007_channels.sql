-- +goose Up
-- Public accounts: applications, channels, editors, followers, posts,
-- categories and credentials. A post is stored once; nothing is written per
-- follower, whose unread counts come from their read position.

CREATE TABLE channel_applications (
    applicant_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id            BIGINT  NOT NULL,
    handle        TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    decided_by    TEXT    NOT NULL,
    decided_at    BIGINT,
    channel_id    BIGINT,
    created_at    BIGINT  NOT NULL,
    PRIMARY KEY (applicant_id, id)
);

CREATE UNIQUE INDEX channel_applications_id ON channel_applications (id);
CREATE INDEX channel_applications_status ON channel_applications (status, id);
CREATE UNIQUE INDEX channel_applications_pending ON channel_applications (handle) WHERE status = 'pending';

CREATE TABLE channels (
    id                  BIGINT  PRIMARY KEY,
    handle              TEXT    NOT NULL UNIQUE,
    name                TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    owner_id            BIGINT  NOT NULL REFERENCES accounts (id),
    status              TEXT    NOT NULL,
    status_reason       TEXT    NOT NULL,
    daily_post_limit    BIGINT,
    monthly_post_limit  BIGINT,
    follower_count      BIGINT  NOT NULL,
    approved_at         BIGINT  NOT NULL,
    created_at          BIGINT  NOT NULL
);

CREATE TABLE channel_editors (
    channel_id  BIGINT  NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    account_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    added_at    BIGINT  NOT NULL,
    PRIMARY KEY (channel_id, account_id)
);

CREATE TABLE channel_followers (
    channel_id   BIGINT  NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    account_id   BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    followed_at  BIGINT  NOT NULL,
    read_at      BIGINT  NOT NULL,
    PRIMARY KEY (channel_id, account_id)
);

CREATE INDEX channel_followers_account ON channel_followers (account_id, channel_id);

CREATE TABLE channel_categories (
    name         TEXT PRIMARY KEY,
    policy       TEXT NOT NULL,
    description  TEXT NOT NULL
);

CREATE TABLE channel_credentials (
    channel_id  BIGINT  NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    id          BIGINT  NOT NULL,
    category    TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL,
    revoked_at  BIGINT,
    granted_by  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (channel_id, id)
);

CREATE UNIQUE INDEX channel_credentials_id ON channel_credentials (id);

CREATE TABLE channel_posts (
    channel_id    BIGINT  NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    id            BIGINT  NOT NULL,
    author_id     BIGINT  NOT NULL,
    title         TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    cover_id      BIGINT,
    media_ids     TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    decided_by    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    published_at  BIGINT,
    PRIMARY KEY (channel_id, id)
);

CREATE UNIQUE INDEX channel_posts_id ON channel_posts (id);
CREATE INDEX channel_posts_published ON channel_posts (channel_id, status, published_at);
CREATE INDEX channel_posts_review ON channel_posts (status, id);

-- Media in posts, for public access to published posts' media.
CREATE TABLE channel_post_media (
    media_id    BIGINT  NOT NULL,
    channel_id  BIGINT  NOT NULL,
    post_id     BIGINT  NOT NULL,
    PRIMARY KEY (media_id, post_id)
);

-- +goose Down
DROP TABLE channel_post_media;
DROP TABLE channel_posts;
DROP TABLE channel_credentials;
DROP TABLE channel_categories;
DROP TABLE channel_followers;
DROP TABLE channel_editors;
DROP TABLE channels;
DROP TABLE channel_applications;
