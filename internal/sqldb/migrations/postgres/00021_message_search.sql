-- +goose Up
-- Full-text search of messages, for each person within the conversations
-- they may read. The document is textindex.Document(text), as for posts
-- (00015): words, and CJK runs cut into bigrams, so that 天气 finds
-- 今天天气很好; the 'simple' configuration only splits it at spaces. The
-- conversation leads the key, as it does for messages. The larger
-- statistics target is the one posts need (see 00015).
--
-- A background indexer (package chat, searchindex.go) fills it from
-- messages in ID order, outside the send path; message_search_state
-- records how far it got, so that it carries on after a restart.
-- indexed_to: every message up to this ID is indexed (or recalled);
-- head: the highest ID indexed. Several nodes' writers commit messages
-- out of ID order, so the indexer looks again, once they have settled,
-- for messages between the two that it has not indexed.
CREATE TABLE message_search (
    conversation_id  BIGINT   NOT NULL,
    message_id       BIGINT   NOT NULL,
    doc_tsv          tsvector NOT NULL,
    PRIMARY KEY (conversation_id, message_id)
);

CREATE INDEX message_search_doc ON message_search USING gin (doc_tsv);
CREATE INDEX message_search_id ON message_search (message_id);
ALTER TABLE message_search ALTER COLUMN doc_tsv SET STATISTICS 1000;

CREATE TABLE message_search_state (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    indexed_to  BIGINT  NOT NULL,
    head        BIGINT  NOT NULL
);

INSERT INTO message_search_state (id, indexed_to, head) VALUES (1, 0, 0);

-- +goose Down
DROP TABLE message_search_state;
DROP TABLE message_search;
