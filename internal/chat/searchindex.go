package chat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/textindex"
)

// The search index is filled by an indexer that tails messages by ID,
// not by the writer: the send path is the group commit that the
// throughput goals rest on, and a message's document (textindex.Document
// and, on SQLite, FTS5's inverted-index update) would cost each batch
// work that nothing needs before the ack. A message is searchable one poll
// after its commit instead (RunSearchIndexer's interval).
//
// Each pass is one transaction: it reads how far the index has got from
// message_search_state (indexed_to and head), indexes a batch of the
// messages above head in ID order (indexBatches), and records the new
// positions with them, so that a restart carries on where the last commit left off and a
// pass that fails leaves nothing half done. Inserts are idempotent.
//
// Message IDs are made before the commit that stores them, so IDs can
// commit out of order when several writers commit at once, as on several
// nodes sharing PostgreSQL: a message can appear below head after the
// indexer passed it. So on PostgreSQL indexed_to trails head: each pass
// also looks, from indexed_to up to the IDs old enough that their writers
// have committed or given up (indexSettle), for messages not in the index,
// indexes them, and moves indexed_to there. On SQLite one writer commits
// messages in ID order, and a pass runs under the same write lock, so
// indexed_to is head.
//
// Recalled messages are never indexed, and a recall takes its message out
// of the index in its own transaction (Recall). On PostgreSQL the indexer
// reads messages FOR SHARE, so a recall waits for a pass that read the
// message to commit and then removes what it wrote, or the pass waits for
// the recall and skips the message. Moderation decisions and membership
// are applied when searching (search.go), so that reversing a decision
// needs no re-indexing.

// indexBatches bound the messages one pass indexes. On SQLite a pass
// holds the one write lock that sends also wait for, for about 20 µs a
// message (BenchmarkIndexPass): 64 keep it to about 1.3 ms, and
// passes run back to back while there are more.
var indexBatches = map[sqldb.Engine]int{sqldb.SQLite: 64, sqldb.Postgres: 256}

const (
	// indexYield bounds how long a pass waits for the queued sends to go
	// first (yieldToSends).
	indexYield = 2 * time.Second
	// indexSettle is how old an ID must be for its message to have been
	// committed or abandoned: the writer gives a commit CommitTimeout
	// (10 s by default) from before it makes the IDs; the rest allows
	// for the clocks of nodes to differ.
	indexSettle = 2 * time.Minute
)

// indexSQL holds one engine's statements of the indexer.
type indexSQL struct {
	// state reads indexed_to and head; on PostgreSQL it locks the row,
	// or yields no row while another node's pass holds it.
	state string
	// next reads the messages after $1 in ID order, at most $2.
	next string
	// missing reads the messages after $1 up to $2 that are not in the
	// index, in ID order, at most $3 (PostgreSQL).
	missing string
}

var indexSQLs = map[sqldb.Engine]indexSQL{
	sqldb.SQLite: {
		state: `SELECT indexed_to, head FROM message_search_state WHERE id = 1`,
		next:  `SELECT id, conversation_id, text FROM messages WHERE id > $1 AND recalled = false ORDER BY id LIMIT $2`,
	},
	sqldb.Postgres: {
		state: `SELECT indexed_to, head FROM message_search_state WHERE id = 1 FOR UPDATE SKIP LOCKED`,
		next:  `SELECT id, conversation_id, text FROM messages WHERE id > $1 AND recalled = false ORDER BY id LIMIT $2 FOR SHARE`,
		missing: `SELECT m.id, m.conversation_id, m.text FROM messages m
			WHERE m.id > $1 AND m.id <= $2 AND m.recalled = false
			AND NOT EXISTS (SELECT 1 FROM message_search s WHERE s.conversation_id = m.conversation_id AND s.message_id = m.id)
			ORDER BY m.id LIMIT $3 FOR SHARE OF m`,
	},
}

// insertManyPG indexes messages given as arrays of IDs, conversations and
// documents (PostgreSQL).
const insertManyPG = `INSERT INTO message_search (message_id, conversation_id, doc_tsv)
	SELECT id, conv, to_tsvector('simple', doc) FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS v(id, conv, doc)
	ON CONFLICT (conversation_id, message_id) DO NOTHING`

// RunSearchIndexer indexes new messages for search until ctx ends: a pass
// every interval, and passes back to back while it catches up. It logs a
// failed pass and tries again at the next interval. Every node may run
// one: on PostgreSQL one node's pass runs at a time, and the others skip.
func (s *Service) RunSearchIndexer(ctx context.Context, interval time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.yieldToSends(ctx, indexYield)
		more, err := s.indexPass(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("indexing messages for search failed; trying again", "err", err)
		}
		if more && err == nil {
			t.Reset(0)
		} else {
			t.Reset(interval)
		}
	}
}

// yieldToSends lets sends go first on SQLite, where a pass holds the one
// write lock they need: while sends wait for the writer, the pass waits
// too, up to max. At full load the indexer then takes one batch every max
// instead of competing with every commit, so sending keeps its throughput
// and search catches up once the load eases. On PostgreSQL passes and
// sends do not share a lock.
func (s *Service) yieldToSends(ctx context.Context, max time.Duration) {
	if s.db.Engine != sqldb.SQLite || s.w == nil {
		return
	}
	deadline := time.Now().Add(max)
	for len(s.w.reqs) > 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// indexPass runs one pass of the indexer (see above) and reports whether
// more messages may be waiting.
func (s *Service) indexPass(ctx context.Context) (bool, error) {
	sq := indexSQLs[s.db.Engine]
	var more bool
	// The index is derived from messages and its position is written
	// with it, so a pass lost to a crash is simply done again: it commits
	// without a flush of its own (InTxLazy). On SQLite that flush was
	// about a fifth of the time a pass holds the writer that sends wait
	// for (BenchmarkIndexPass).
	err := s.db.InTxLazy(ctx, func(tx *sql.Tx) error {
		more = false
		var indexedTo, head plaza.ID
		err := tx.QueryRowContext(ctx, sq.state).Scan(&indexedTo, &head)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // another node's pass is running
		}
		if err != nil {
			return err
		}
		batch := indexBatches[s.db.Engine]
		was := [2]plaza.ID{indexedTo, head}
		n, last, err := s.indexRows(ctx, tx, sq.next, head, batch)
		if err != nil {
			return err
		}
		more = n == batch
		head = max(head, last)
		if sq.missing == "" {
			indexedTo = head
		} else if settled := min(head, idAt(s.now().Add(-indexSettle))); settled > indexedTo {
			n, last, err := s.indexRows(ctx, tx, sq.missing, indexedTo, settled, batch)
			if err != nil {
				return err
			}
			indexedTo = settled
			if n == batch {
				indexedTo, more = last, true
			}
		}
		if was == [2]plaza.ID{indexedTo, head} {
			return nil // nothing new: no write to commit
		}
		_, err = tx.ExecContext(ctx, `UPDATE message_search_state SET indexed_to = $1, head = $2 WHERE id = 1`, indexedTo, head)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("index messages: %w", err)
	}
	return more, nil
}

// indexRows indexes the messages query yields (id, conversation, text)
// and returns how many there were and the last one's ID.
func (s *Service) indexRows(ctx context.Context, tx *sql.Tx, query string, args ...any) (int, plaza.ID, error) {
	type row struct {
		id, conv plaza.ID
		text     string
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, 0, err
	}
	var batch []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.conv, &r.text); err != nil {
			rows.Close()
			return 0, 0, err
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	if len(batch) == 0 {
		return 0, 0, nil
	}
	// An empty document (a photo without a caption) is indexed too: on
	// PostgreSQL that tells the look for missed messages that this one
	// was seen.
	if s.db.Engine == sqldb.Postgres {
		// One statement over arrays: a statement per row cost 190 µs a
		// message, slower than PostgreSQL takes sends (BenchmarkIndexPass).
		ids, convs, docs := make([]int64, len(batch)), make([]int64, len(batch)), make([]string, len(batch))
		for i, r := range batch {
			ids[i], convs[i], docs[i] = int64(r.id), int64(r.conv), textindex.Document(r.text)
		}
		if _, err := tx.ExecContext(ctx, insertManyPG, ids, convs, docs); err != nil {
			return 0, 0, err
		}
	} else {
		// Prepared once for the pass: run as text, each row's insert was
		// parsed and planned again, about a seventh of the pass's CPU
		// (BenchmarkIndexPass).
		insert, err := tx.PrepareContext(ctx, searchSQLs[s.db.Engine].insert)
		if err != nil {
			return 0, 0, err
		}
		defer insert.Close()
		for _, r := range batch {
			if _, err := insert.ExecContext(ctx, r.id, r.conv, textindex.Document(r.text)); err != nil {
				return 0, 0, err
			}
		}
	}
	return len(batch), batch[len(batch)-1].id, nil
}

// idAt returns the smallest ID that plaza.NewID makes at t: IDs hold the
// milliseconds since their epoch above 22 bits of node and sequence.
func idAt(t time.Time) plaza.ID {
	ms := t.UnixMilli() - plaza.IDTime(0).UnixMilli()
	if ms < 0 {
		return 0
	}
	return plaza.ID(ms << 22)
}
