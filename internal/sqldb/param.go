package sqldb

import (
	"math/bits"
	"strconv"
	"strings"
)

// Param returns the placeholder of the n-th parameter (counting from 1)
// of a statement whose parameters each appear once and in order, as the
// generated multi-row statements' do: $n on PostgreSQL, an anonymous ? on
// SQLite. modernc.org/sqlite looks up the name of every parameter of every
// execution in a list of all the statement's names, which costs time
// quadratic in their number: with $n, binding a 768-parameter insert took
// more of the writer's CPU than running it. Statements written by hand
// keep $n, which both engines read.
func (db *DB) Param(n int) string {
	if db.Engine == SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}

// InList returns the placeholders of an IN list of values (at least
// one) whose first parameter is the statement's first-th, and the arguments for them. The
// list is padded to a power of two by repeating its last value, which
// leaves the IN unchanged but keeps the shapes that the statement caches
// hold to a handful rather than one per length. It uses Param, so the
// statement's other parameters must each appear once, the list's after
// the ones numbered before first (on SQLite, anonymous placeholders are
// numbered in the order they appear in the text).
func (db *DB) InList(first int, values []any) (string, []any) {
	n := len(values)
	if n > 1 {
		n = 1 << bits.Len(uint(n-1))
	}
	var b strings.Builder
	args := make([]any, n)
	for i := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(db.Param(first + i))
		args[i] = values[min(i, len(values)-1)]
	}
	return b.String(), args
}
