-- +goose Up
-- Full-text search of messages, for each person within the conversations
-- they may read. The document is textindex.Document(text), as for posts
-- (00015): words, and CJK runs cut into bigrams, so that 天气 finds
-- 今天天气很好. The index is contentless (it keeps no copy of the text); a
-- row's rowid is its message's ID, so matches come newest first and page
-- by ID. conversation_id holds the conversation's ID as a token, so that a
-- search within one conversation reads only that conversation's matches;
-- queries match the text with a column filter on doc_tsv. message_id is
-- the same ID as the rowid, named as PostgreSQL's column is.
--
-- A background indexer (package chat, searchindex.go) fills it from
-- messages in ID order, outside the send path; message_search_state
-- records how far it got, so that it carries on after a restart.
-- indexed_to: every message up to this ID is indexed (or recalled);
-- head: the highest ID indexed.
CREATE VIRTUAL TABLE message_search USING fts5(message_id UNINDEXED, conversation_id, doc_tsv, content = '', contentless_delete = 1,
    prefix = '1', tokenize = 'unicode61 remove_diacritics 2');

CREATE TABLE message_search_state (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    indexed_to  INTEGER NOT NULL,
    head        INTEGER NOT NULL
) STRICT;

INSERT INTO message_search_state (id, indexed_to, head) VALUES (1, 0, 0);

-- +goose Down
DROP TABLE message_search_state;
DROP TABLE message_search;
