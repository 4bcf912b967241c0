-- +goose Up
-- Full-text search of published public microblog posts. The document is
-- textindex.Document(text): words, and CJK runs cut into bigrams, so that
-- 天气 finds 今天天气很好; PostgreSQL's 'simple' configuration then only
-- splits it at spaces, as SQLite's unicode61 tokenizer does.
CREATE TABLE post_search (
    post_id  BIGINT NOT NULL PRIMARY KEY,
    doc      TEXT   NOT NULL
);

CREATE INDEX post_search_doc ON post_search USING gin (to_tsvector('simple', doc));

-- +goose Down
DROP TABLE post_search;
