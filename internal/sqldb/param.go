package sqldb

import "strconv"

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
