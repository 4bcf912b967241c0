-- +goose Up
-- Full-text search of published public microblog posts. The document is
-- textindex.Document(text): words, and CJK runs cut into bigrams, so that
-- 天气 finds 今天天气很好. The index holds no copy of the text
-- (contentless); a row's rowid is its post's ID, so matches come newest
-- first and page by ID. post_id is the same ID, for a schema that matches
-- PostgreSQL's.
CREATE VIRTUAL TABLE post_search USING fts5(post_id UNINDEXED, doc, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2');

-- +goose Down
DROP TABLE post_search;
