package sqldb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestInListPadsAndBinds runs IN lists of every length up to 40 after a
// hand-numbered $1, as the domains' queries do: the list is padded to a
// power of two, and each value meets its own placeholder on both engines.
func TestInListPadsAndBinds(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if _, err := db.Write().ExecContext(ctx, `CREATE TABLE in_rows (id BIGINT PRIMARY KEY, grp BIGINT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 200; i++ {
			if _, err := db.Write().ExecContext(ctx, `INSERT INTO in_rows (id, grp) VALUES ($1, $2)`, i, i%2); err != nil {
				t.Fatal(err)
			}
		}
		for n := 1; n <= 40; n++ {
			vals := make([]any, n)
			want := map[int64]bool{}
			for i := range vals {
				v := int64(n + 2*i) // n's parity: all in one group or none
				vals[i] = v
				if v%2 == 1 {
					want[v] = true
				}
			}
			in, args := db.InList(2, vals)
			if got := strings.Count(in, ",") + 1; got != len(args) || got&(got-1) != 0 || got < n || got >= 2*n && n > 1 {
				t.Fatalf("InList of %d values has %d placeholders and %d arguments, want one power of two in [n, 2n)", n, got, len(args))
			}
			rows, err := db.Read().QueryContext(ctx, `SELECT id FROM in_rows WHERE grp = $1 AND id IN (`+in+`)`, append([]any{int64(1)}, args...)...)
			if err != nil {
				t.Fatal(err)
			}
			got := map[int64]bool{}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				got[id] = true
			}
			rows.Close()
			if len(got) != len(want) {
				t.Fatalf("IN list of %d values matched %v, want %v", n, got, want)
			}
			for id := range want {
				if !got[id] {
					t.Fatalf("IN list of %d values matched %v, want %v", n, got, want)
				}
			}
		}
	})
}
