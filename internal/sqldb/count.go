package sqldb

import (
	"context"
	"strconv"
)

// WaitingLimit is where CountUpTo stops: a queue's badge needs to say
// "many", not to scan a table of millions to say exactly how many.
const WaitingLimit = 1000

// CountUpTo counts the rows of from (a FROM … WHERE … clause with $n
// arguments) but stops at limit, so its cost is bounded whatever the table
// holds.
func CountUpTo(ctx context.Context, q Queryer, from string, limit int, args ...any) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 `+from+` LIMIT `+strconv.Itoa(limit)+`) AS waiting`, args...).Scan(&n)
	return n, err
}
