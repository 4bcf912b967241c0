package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/plaza-im/plaza"
)

// This file holds the sync log's SQL, one text for both engines.

// prepare prepares the ladders of statements that bump many sync heads
// and insert many events at once.
func (l *Log) prepare(ctx context.Context) error {
	db := l.db
	p := db.Param
	var err error
	// Rows are locked in the order of VALUES on PostgreSQL: Append passes
	// accounts ascending, so concurrent writers lock heads in one order.
	l.heads, err = db.PrepareLadder(ctx, maxRows, func(i int) string {
		return "(" + p(2*i+1) + ", " + p(2*i+2) + ")"
	}, ", ", func(rows string) string {
		return `INSERT INTO sync_heads (account_id, seq) VALUES ` + rows + `
			ON CONFLICT (account_id) DO UPDATE SET seq = sync_heads.seq + excluded.seq RETURNING account_id, seq`
	})
	if err != nil {
		return err
	}
	l.inserts, err = db.PrepareLadder(ctx, maxRows, func(i int) string {
		b := 7 * i
		return "(" + p(b+1) + ", " + p(b+2) + ", " + p(b+3) + ", " + p(b+4) + ", " + p(b+5) + ", " + p(b+6) + ", " + p(b+7) + ")"
	}, ", ", func(rows string) string {
		return `INSERT INTO events (account_id, seq, type, conversation_id, ref_id, data, created_at) VALUES ` + rows
	})
	return err
}

// bumpHeads reserves len(per[a]) numbers for each account a (sorted,
// distinct) and returns each account's new head.
func (l *Log) bumpHeads(ctx context.Context, tx *sql.Tx, accounts []plaza.ID, per map[plaza.ID][]int) (map[plaza.ID]int64, error) {
	heads := make(map[plaza.ID]int64, len(accounts))
	args := make([]any, 0, 2*min(maxRows, len(accounts)))
	err := l.heads.Each(len(accounts), func(st *sql.Stmt, lo, hi int) error {
		args = args[:0]
		for _, a := range accounts[lo:hi] {
			args = append(args, a, int64(len(per[a])))
		}
		rows, err := tx.StmtContext(ctx, st).QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a plaza.ID
			var seq int64
			if err := rows.Scan(&a, &seq); err != nil {
				return err
			}
			heads[a] = seq
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sync log: %w", err)
	}
	for _, a := range accounts {
		if _, ok := heads[a]; !ok {
			return nil, fmt.Errorf("sync log: no head returned for account %s", a)
		}
	}
	return heads, nil
}

// Head returns the account's newest cursor.
func (l *Log) Head(ctx context.Context, account plaza.ID) (int64, error) {
	var seq int64
	err := l.db.Read().QueryRowContext(ctx, `SELECT seq FROM sync_heads WHERE account_id = $1`, account).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// first returns the oldest cursor the log still holds for account.
func (l *Log) first(ctx context.Context, account plaza.ID) (sql.NullInt64, error) {
	var first sql.NullInt64
	err := l.db.Read().QueryRowContext(ctx, `SELECT MIN(seq) FROM events WHERE account_id = $1`, account).Scan(&first)
	return first, err
}

// read renders the events of account after since, in order: those up to
// upTo (with upTo > 0), or at most limit of them.
func (l *Log) read(ctx context.Context, account plaza.ID, since, upTo int64, limit int) ([][]byte, []int64, error) {
	q := l.db.Read()
	query, arg := `SELECT seq, type, data, ref_id FROM events WHERE account_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq`, upTo
	if upTo <= 0 {
		query, arg = `SELECT seq, type, data, ref_id FROM events WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, int64(limit)
	}
	rows, err := q.QueryContext(ctx, query, account, since, arg)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	type row struct {
		seq  int64
		typ  string
		data string
		ref  plaza.ID
	}
	var got []row
	var refs []plaza.ID
	for rows.Next() {
		var r row
		var ref sql.NullInt64
		if err := rows.Scan(&r.seq, &r.typ, &r.data, &ref); err != nil {
			return nil, nil, err
		}
		if ref.Valid && l.refTypes[r.typ] {
			r.ref = plaza.ID(ref.Int64)
			refs = append(refs, r.ref)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows.Close()
	var loaded map[plaza.ID][]byte
	if len(refs) > 0 && l.refs != nil {
		if loaded, err = l.refs(ctx, q, account, refs); err != nil {
			return nil, nil, err
		}
	}
	frames := make([][]byte, len(got))
	seqs := make([]int64, len(got))
	for i, r := range got {
		data := []byte(r.data)
		if b, ok := loaded[r.ref]; ok && r.ref != 0 {
			data = b
		}
		frames[i], seqs[i] = Frame(r.typ, r.seq, data), r.seq
	}
	return frames, seqs, nil
}

// Prune deletes events older than the retention, a batch at a time so
// the writer is never held for long, and returns how many it deleted.
func (l *Log) Prune(ctx context.Context) (int64, error) {
	cutoff := l.now().Add(-l.retention).UnixMicro()
	var total int64
	for {
		res, err := l.db.Write().ExecContext(ctx, `DELETE FROM events WHERE (account_id, seq) IN
			(SELECT account_id, seq FROM events WHERE created_at < $1 LIMIT 5000)`, cutoff)
		if err != nil {
			return total, fmt.Errorf("prune sync log: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < 5000 {
			return total, nil
		}
	}
}
