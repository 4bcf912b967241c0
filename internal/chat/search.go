package chat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/textindex"
)

// Search finds messages by words within the conversations the searcher
// may read, Chinese and Japanese written without spaces included (天气
// finds 今天天气很好), the same way on both engines: package textindex cuts
// text into the same tokens for the index and the query, as for posts
// (see package microblog), and each engine only matches them. The index
// is filled outside the send path by the indexer (searchindex.go).
//
// A match is shown only where history would show it, decided at query
// time against the message as it is now: the searcher is a member of its
// conversation today and joined before it (seq > joined_seq), it is not
// recalled, and a moderation decision has not removed it (its sender
// still finds it, as history shows it to them whole). A member who left
// finds nothing there; an erased account has left every group, and its
// messages stay in the others' history, so they find them as before.

// MaxSearchPage bounds a page of search results.
const MaxSearchPage = 50

// SearchHit is one message found, as its searcher sees it in history.
type SearchHit struct {
	Message        Message  `json:"message"`
	ConversationID plaza.ID `json:"conversation_id"`
}

// searchSQL holds one engine's statements for the message index; the two
// engines' texts sit side by side.
type searchSQL struct {
	// insert adds a message: $1 id, $2 conversation, $3 document. It is
	// idempotent: the indexer may meet a message again after a restart.
	insert string
	// remove takes a message out: $1 id (and on PostgreSQL $2 its
	// conversation, which leads the key).
	remove string
	// match is the search, completed by matchTail: $1 the expression, $2
	// the searcher, $3 the cursor (IDs below it), $4 the limit, $5 the
	// conversation (0 for all).
	match string
}

// matchFilter is what history shows the searcher (see Search).
const matchFilter = ` AND m.seq > mb.joined_seq AND m.recalled = false AND (m.mod_action <> 'remove' OR m.sender_id = $2)
	AND (CAST($5 AS BIGINT) = 0 OR m.conversation_id = CAST($5 AS BIGINT))`

var searchSQLs = map[sqldb.Engine]searchSQL{
	// message_search is a contentless FTS5 table whose rowid is the
	// message ID; INSERT OR REPLACE replaces rather than doubles a row.
	sqldb.SQLite: {
		insert: `INSERT OR REPLACE INTO message_search (rowid, message_id, conversation_id, doc_tsv) VALUES ($1, $1, $2, $3)`,
		remove: `DELETE FROM message_search WHERE rowid = $1`,
		match: `SELECT ` + messageColumnsM + ` FROM message_search s
			JOIN messages m ON m.id = s.rowid
			JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.account_id = $2
			WHERE message_search MATCH $1 AND s.rowid < $3` + matchFilter + `
			ORDER BY s.rowid DESC LIMIT $4`,
	},
	// message_search holds each message's tsvector, GIN-indexed.
	sqldb.Postgres: {
		insert: `INSERT INTO message_search (message_id, conversation_id, doc_tsv) VALUES ($1, $2, to_tsvector('simple', $3))
			ON CONFLICT (conversation_id, message_id) DO NOTHING`,
		remove: `DELETE FROM message_search WHERE message_id = $1 AND conversation_id = $2`,
		match: `SELECT ` + messageColumnsM + ` FROM message_search s
			JOIN messages m ON m.id = s.message_id
			JOIN members mb ON mb.conversation_id = s.conversation_id AND mb.account_id = $2
			WHERE s.doc_tsv @@ to_tsquery('simple', $1) AND s.message_id < $3` + matchFilter + `
			ORDER BY s.message_id DESC LIMIT $4`,
	},
}

// matchExpr returns the engine's match expression for query, within the
// conversation conv if it is not 0. On SQLite the text is matched in the
// doc_tsv column alone (a term cannot match a conversation's ID), and a
// conversation is one more token to match, so only its own matches are
// read.
func (s *Service) matchExpr(query textindex.Query, conv plaza.ID) string {
	if s.db.Engine != sqldb.SQLite {
		return query.TSQuery()
	}
	expr := `{doc_tsv} : (` + query.FTS5() + `)`
	if conv != 0 {
		expr = `conversation_id : "` + conv.String() + `" AND ` + expr
	}
	return expr
}

// Search returns the messages matching every term of q that account may
// read, newest first, with IDs below before (0: from the newest), at most
// limit (1–MaxSearchPage). With conv set, only that conversation is
// searched, and someone who is not a member gets not_found, as history
// answers. A query with nothing to search for, over 200 characters or
// over 16 terms is invalid, naming q.
func (s *Service) Search(ctx context.Context, account plaza.ID, q string, conv, before plaza.ID, limit int) ([]SearchHit, error) {
	query, err := textindex.ParseQuery(q)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxSearchPage {
		return nil, plaza.Invalid("limit", fmt.Sprintf("must be from 1 to %d", MaxSearchPage))
	}
	if conv != 0 {
		if _, err := getMember(ctx, s.db.Read(), conv, account); errors.Is(err, sql.ErrNoRows) {
			return nil, plaza.Errorf(plaza.ENotFound, "conversation not found")
		} else if err != nil {
			return nil, fmt.Errorf("search messages: %w", err)
		}
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.db.Read().QueryContext(ctx, searchSQLs[s.db.Engine].match, s.matchExpr(query, conv), account, before, limit, conv)
	if err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	defer rows.Close()
	out := []SearchHit{}
	for rows.Next() {
		var n nullMessage
		if err := rows.Scan(n.dest()...); err != nil {
			return nil, fmt.Errorf("search messages: %w", err)
		}
		m, _ := n.message()
		m.render(account)
		out = append(out, SearchHit{Message: m, ConversationID: m.ConversationID})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	return out, nil
}

// unindex takes a message out of the search index inside tx (a recall).
func (s *Service) unindex(ctx context.Context, tx *sql.Tx, conv, id plaza.ID) error {
	args := []any{id, conv}
	if s.db.Engine == sqldb.SQLite {
		args = args[:1]
	}
	if _, err := tx.ExecContext(ctx, searchSQLs[s.db.Engine].remove, args...); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	return nil
}
