package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// This file holds the sync log's SQL, one text for both engines but for
// Append's two statements on PostgreSQL (see pgStmts).

// pgStmts are Append's statements on PostgreSQL. Each takes the whole
// batch as arrays (unnest), so a chat batch of 4,096 messages, about 8,000
// events, costs two round trips instead of two per 64 rows through the
// ladders, and one prepared text serves every size. PostgreSQL binds
// arrays in binary and has no limit on their length. SQLite has no
// arrays and no round trips, so it keeps the ladders.
type pgStmts struct {
	bumpHeads *sql.Stmt // $1 accounts, $2 counts
	insert    *sql.Stmt // $1..$7 the rows' columns, $8 created_at
}

// prepare prepares the statements that bump many sync heads and insert
// many events at once: on PostgreSQL pgStmts, elsewhere the ladders.
func (l *Log) prepare(ctx context.Context) error {
	db := l.db
	if db.Engine == sqldb.Postgres {
		return l.preparePG(ctx)
	}
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
		b := 8 * i
		return "(" + p(b+1) + ", " + p(b+2) + ", " + p(b+3) + ", " + p(b+4) + ", " + p(b+5) + ", " + p(b+6) + ", " + p(b+7) + ", " + p(b+8) + ")"
	}, ", ", func(rows string) string {
		return `INSERT INTO events (account_id, seq, n, type, conversation_id, ref_id, data, created_at) VALUES ` + rows
	})
	return err
}

func (l *Log) preparePG(ctx context.Context) error {
	l.pg = &pgStmts{}
	for _, q := range []struct {
		dst **sql.Stmt
		sql string
	}{
		// ON CONFLICT locks each head as it reaches its row, in the order
		// the SELECT yields them: ORDER BY makes that ascending account
		// order here, the one lock order of every writer on every node,
		// whatever order the arrays come in.
		{&l.pg.bumpHeads, `INSERT INTO sync_heads (account_id, seq)
			SELECT a, n FROM unnest($1::bigint[], $2::bigint[]) AS v(a, n) ORDER BY a
			ON CONFLICT (account_id) DO UPDATE SET seq = sync_heads.seq + excluded.seq RETURNING account_id, seq`},
		{&l.pg.insert, `INSERT INTO events (account_id, seq, n, type, conversation_id, ref_id, data, created_at)
			SELECT a, s, n, t, c, r, d, $8 FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::text[])
				AS v(a, s, n, t, c, r, d)`},
	} {
		st, err := l.db.Prepare(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q.sql, err)
		}
		*q.dst = st
	}
	return nil
}

func (p *pgStmts) close() {
	if p == nil {
		return
	}
	for _, st := range []*sql.Stmt{p.bumpHeads, p.insert} {
		if st != nil {
			st.Close()
		}
	}
}

// bumpHeads reserves len(per[a]) numbers for each account a (sorted,
// distinct) and returns each account's new head.
func (l *Log) bumpHeads(ctx context.Context, tx *sql.Tx, accounts []plaza.ID, per map[plaza.ID][]int) (map[plaza.ID]int64, error) {
	heads := make(map[plaza.ID]int64, len(accounts))
	var err error
	if l.pg != nil {
		err = l.bumpHeadsPG(ctx, tx, accounts, per, heads)
	} else {
		args := make([]any, 0, 2*min(maxRows, len(accounts)))
		err = l.heads.Each(len(accounts), func(st *sql.Stmt, lo, hi int) error {
			args = args[:0]
			for _, a := range accounts[lo:hi] {
				args = append(args, a, int64(len(per[a])))
			}
			rows, err := tx.StmtContext(ctx, st).QueryContext(ctx, args...)
			if err != nil {
				return err
			}
			return readHeads(rows, heads)
		})
	}
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

// bumpHeadsPG is bumpHeads in one statement over arrays (see pgStmts).
func (l *Log) bumpHeadsPG(ctx context.Context, tx *sql.Tx, accounts []plaza.ID, per map[plaza.ID][]int, heads map[plaza.ID]int64) error {
	as, ns := make([]int64, len(accounts)), make([]int64, len(accounts))
	for i, a := range accounts {
		as[i], ns[i] = int64(a), int64(len(per[a]))
	}
	rows, err := tx.StmtContext(ctx, l.pg.bumpHeads).QueryContext(ctx, as, ns)
	if err != nil {
		return err
	}
	return readHeads(rows, heads)
}

// readHeads reads (account, head) rows into heads and closes rows.
func readHeads(rows *sql.Rows, heads map[plaza.ID]int64) error {
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
}

// insert stores rows.
func (l *Log) insert(ctx context.Context, tx *sql.Tx, rows []row) error {
	now := l.now().UnixMicro()
	if l.pg != nil {
		return l.insertPG(ctx, tx, rows, now)
	}
	args := make([]any, 0, 8*min(maxRows, len(rows)))
	return l.inserts.Each(len(rows), func(st *sql.Stmt, lo, hi int) error {
		args = args[:0]
		for _, r := range rows[lo:hi] {
			var conv, ref any
			if r.conv != 0 {
				conv = r.conv
			}
			if r.ref != 0 {
				ref = r.ref
			}
			args = append(args, r.account, r.seq, r.n(), r.typ, conv, ref, r.column(), now)
		}
		_, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		return err
	})
}

// insertPG is insert in one statement over arrays (see pgStmts).
func (l *Log) insertPG(ctx context.Context, tx *sql.Tx, rows []row, now int64) error {
	k := len(rows)
	accounts, seqs, ns, convs, refs := make([]int64, k), make([]int64, k), make([]int64, k), make([]*int64, k), make([]*int64, k)
	types, data := make([]string, k), make([]string, k)
	for i := range rows {
		r := &rows[i]
		accounts[i], seqs[i], ns[i], types[i], data[i] = int64(r.account), r.seq, r.n(), r.typ, r.column()
		if r.conv != 0 {
			convs[i] = (*int64)(&r.conv)
		}
		if r.ref != 0 {
			refs[i] = (*int64)(&r.ref)
		}
	}
	_, err := tx.StmtContext(ctx, l.pg.insert).ExecContext(ctx, accounts, seqs, ns, types, convs, refs, data, now)
	return err
}

// stored is the data column of e's row.
func stored(e Event) string {
	if e.Stored == nil {
		return "{}"
	}
	return string(e.Stored)
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

// HeadsPerQuery is how many accounts' heads Heads reads in one query.
const HeadsPerQuery = 512

// Heads returns the newest cursor of each account that has one, reading
// HeadsPerQuery accounts a query. Accounts without events are left out.
func (l *Log) Heads(ctx context.Context, accounts []plaza.ID) (map[plaza.ID]int64, error) {
	const most = HeadsPerQuery // InList pads to a power of two
	heads := make(map[plaza.ID]int64, len(accounts))
	for lo := 0; lo < len(accounts); lo += most {
		part := accounts[lo:min(lo+most, len(accounts))]
		vals := make([]any, len(part))
		for i, a := range part {
			vals[i] = a
		}
		list, args := l.db.InList(1, vals)
		rows, err := l.db.Read().QueryContext(ctx, `SELECT account_id, seq FROM sync_heads WHERE account_id IN (`+list+`)`, args...)
		if err != nil {
			return nil, err
		}
		if err := readHeads(rows, heads); err != nil {
			return nil, err
		}
	}
	return heads, nil
}

// first returns the oldest cursor the log still holds for account.
func (l *Log) first(ctx context.Context, account plaza.ID) (sql.NullInt64, error) {
	var first sql.NullInt64
	err := l.db.Read().QueryRowContext(ctx, `SELECT MIN(seq) FROM events WHERE account_id = $1`, account).Scan(&first)
	return first, err
}

// read renders the events of account after since, in order: those up to
// upTo (with upTo > 0), or at most limit of them. Rows never overlap, so
// of the rows that start at or before since only the last can reach past
// it, as a run (see row): the query takes that one row if it does, and
// the rows after since.
func (l *Log) read(ctx context.Context, account plaza.ID, since, upTo int64, limit int) ([][]byte, []int64, error) {
	q := l.db.Read()
	const (
		cols   = `seq, n, type, data, ref_id`
		before = `SELECT ` + cols + ` FROM (SELECT ` + cols + ` FROM events WHERE account_id = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1) AS b WHERE seq + n > $3`
		after  = `SELECT ` + cols + ` FROM events WHERE account_id = $1 AND seq > $2`
	)
	query, arg := before+` UNION ALL SELECT `+cols+` FROM (`+after+` AND seq <= $4) AS a ORDER BY seq`, upTo
	if upTo <= 0 {
		// Every row read holds at least one event after since.
		query, arg = before+` UNION ALL SELECT `+cols+` FROM (`+after+` ORDER BY seq LIMIT $4) AS a ORDER BY seq`, int64(limit)
	}
	rows, err := q.QueryContext(ctx, query, account, since, since+1, arg)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	type event struct {
		seq  int64
		typ  string
		data string
		ref  plaza.ID
	}
	var got []event
	for rows.Next() {
		var e event
		var n int64
		var ref sql.NullInt64
		if err := rows.Scan(&e.seq, &n, &e.typ, &e.data, &ref); err != nil {
			return nil, nil, err
		}
		if n > 1 {
			if !l.refTypes[e.typ] {
				return nil, nil, fmt.Errorf("sync log: a run of %q events, which are not loaded by reference", e.typ)
			}
			run, err := parseRun(e.data, n)
			if err != nil {
				return nil, nil, err
			}
			for j, r := range run {
				if s := e.seq + int64(j); s > since && (upTo <= 0 || s <= upTo) {
					got = append(got, event{seq: s, typ: e.typ, data: "{}", ref: r})
				}
			}
		} else {
			if ref.Valid && l.refTypes[e.typ] {
				e.ref = plaza.ID(ref.Int64)
			}
			got = append(got, e)
		}
		if upTo <= 0 && len(got) >= limit {
			break // the rest would be cut
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows.Close()
	if upTo <= 0 && len(got) > limit {
		got = got[:limit]
	}
	var refs []plaza.ID
	for _, e := range got {
		if e.ref != 0 {
			refs = append(refs, e.ref)
		}
	}
	var loaded map[plaza.ID][]byte
	if len(refs) > 0 && l.refs != nil {
		if loaded, err = l.refs(ctx, q, account, refs); err != nil {
			return nil, nil, err
		}
	}
	frames := make([][]byte, len(got))
	seqs := make([]int64, len(got))
	for i, e := range got {
		data := []byte(e.data)
		if b, ok := loaded[e.ref]; ok && e.ref != 0 {
			data = b
		}
		frames[i], seqs[i] = Frame(e.typ, e.seq, data), e.seq
	}
	return frames, seqs, nil
}

// Prune deletes events older than the retention, a batch at a time so
// the writer is never held for long, and returns how many rows it
// deleted (a row may hold a run of events, see row).
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

// EraseBatch deletes up to limit of the account's rows of events (a row
// may hold a run, see row), oldest first, inside tx, and the account's
// head once no event is left; it returns how many rows it deleted.
// Erasing an account calls it, a transaction at a time, until it returns
// fewer than limit.
func (l *Log) EraseBatch(ctx context.Context, tx *sql.Tx, account plaza.ID, limit int) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE account_id = $1 AND seq IN
		(SELECT seq FROM events WHERE account_id = $1 ORDER BY seq LIMIT $2)`, account, limit)
	if err != nil {
		return 0, fmt.Errorf("erase sync log: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("erase sync log: %w", err)
	}
	if n < int64(limit) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sync_heads WHERE account_id = $1`, account); err != nil {
			return 0, fmt.Errorf("erase sync log: %w", err)
		}
	}
	return n, nil
}
