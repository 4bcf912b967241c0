-- +goose Up
-- Full-text search of published public microblog posts. The document is
-- textindex.Document(text): words, and CJK runs cut into bigrams, so that
-- 天气 finds 今天天气很好; PostgreSQL's 'simple' configuration then only
-- splits it at spaces, as SQLite's unicode61 tokenizer does. The larger
-- statistics target keeps the planner from taking a rare word for a
-- common one and walking the posts newest first for matches that are not
-- there (measured in package textindex: 320 ms to 7 ms p99).
CREATE TABLE post_search (
    post_id  BIGINT   NOT NULL PRIMARY KEY,
    doc_tsv  tsvector NOT NULL
);

CREATE INDEX post_search_doc ON post_search USING gin (doc_tsv);
ALTER TABLE post_search ALTER COLUMN doc_tsv SET STATISTICS 1000;

-- +goose Down
DROP TABLE post_search;
