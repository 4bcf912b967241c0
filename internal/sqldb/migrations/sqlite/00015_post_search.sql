-- +goose Up
-- Full-text search of published public microblog posts. The document is
-- textindex.Document(text): words, and CJK runs cut into bigrams, so that
-- 天气 finds 今天天气很好. The index holds no copy of the text
-- (contentless); a row's rowid is its post's ID, so matches come newest
-- first and page by ID. post_id is the same ID and doc_tsv the document,
-- named as PostgreSQL's columns are. prefix='1' keeps, for each first
-- character, the posts holding tokens that start with it: a one-character
-- query reads one list instead of merging one per bigram (measured in
-- package textindex: 50 ms to 1.6 ms p99 over a million posts).
CREATE VIRTUAL TABLE post_search USING fts5(post_id UNINDEXED, doc_tsv, content = '', contentless_delete = 1,
    prefix = '1', tokenize = 'unicode61 remove_diacritics 2');

-- +goose Down
DROP TABLE post_search;
