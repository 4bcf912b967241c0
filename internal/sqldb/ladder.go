package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// A Ladder is one multi-row statement prepared for several row counts,
// so that a run of any n rows costs a few executions of statements
// prepared once: every count below ladderStep and every multiple of it up
// to the ladder's largest. Any n up to the largest then takes at most two
// statements, and larger runs one more per largest statement, with 15
// statements prepared for a ladder of 64 rows. (Powers of two, the
// obvious ladder, take one statement per set bit: six for 63 rows.)
type Ladder struct {
	sizes []int // ascending
	stmts []*sql.Stmt
}

// ladderStep is the spacing of a ladder's larger sizes; see Ladder.
const ladderStep = 8

// ladderSizes returns the row counts of a ladder of at most maxRows rows.
func ladderSizes(maxRows int) []int {
	var sizes []int
	for n := 1; n <= maxRows; n++ {
		if n < ladderStep || n%ladderStep == 0 || n == maxRows {
			sizes = append(sizes, n)
		}
	}
	return sizes
}

// PrepareLadder prepares on the writer, for every size n of a ladder of
// at most maxRows rows, the statement text(rows), where rows is row(0),
// row(1), … row(n-1) joined by sep. Build placeholders with Param, and
// number row i's after row i-1's and after any the text puts before the
// rows.
func (db *DB) PrepareLadder(ctx context.Context, maxRows int, row func(i int) string, sep string, text func(rows string) string) (*Ladder, error) {
	l := &Ladder{}
	for _, n := range ladderSizes(maxRows) {
		rows := make([]string, n)
		for i := range rows {
			rows[i] = row(i)
		}
		q := text(strings.Join(rows, sep))
		st, err := db.Prepare(ctx, q)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		l.sizes, l.stmts = append(l.sizes, n), append(l.stmts, st)
	}
	return l, nil
}

// Each splits n rows into consecutive pieces that the ladder has a
// statement for, largest first, and calls fn with each piece's statement
// and rows [lo, hi), in order, stopping at the first error.
func (l *Ladder) Each(n int, fn func(st *sql.Stmt, lo, hi int) error) error {
	k := len(l.sizes) - 1
	for lo := 0; lo < n; {
		for l.sizes[k] > n-lo {
			k--
		}
		hi := lo + l.sizes[k]
		if err := fn(l.stmts[k], lo, hi); err != nil {
			return err
		}
		lo = hi
	}
	return nil
}

// Close releases the ladder's statements.
func (l *Ladder) Close() {
	if l == nil {
		return
	}
	for _, st := range l.stmts {
		st.Close()
	}
}
