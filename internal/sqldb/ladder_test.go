package sqldb_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestLadderStoresEveryRowOnce inserts runs of every length up to past
// two full statements through a ladder of anonymous (on SQLite) or
// numbered placeholders, and checks that each run's rows are stored once,
// in order and with their own values, in at most two statements per 64
// rows' worth plus one.
func TestLadderStoresEveryRowOnce(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if _, err := db.Write().ExecContext(ctx, `CREATE TABLE ladder_rows (run BIGINT NOT NULL, i BIGINT NOT NULL, s TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		p := db.Param
		l, err := db.PrepareLadder(ctx, 64, func(i int) string {
			return "(" + p(3*i+1) + ", " + p(3*i+2) + ", " + p(3*i+3) + ")"
		}, ", ", func(rows string) string {
			return `INSERT INTO ladder_rows (run, i, s) VALUES ` + rows
		})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		for n := 0; n <= 140; n++ {
			statements := 0
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				return l.Each(n, func(st *sql.Stmt, lo, hi int) error {
					statements++
					var args []any
					for i := lo; i < hi; i++ {
						args = append(args, n, i, "r"+string(rune('a'+i%26)))
					}
					_, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
					return err
				})
			})
			if err != nil {
				t.Fatalf("run of %d rows: %v", n, err)
			}
			if want := n/64 + 2; statements > want {
				t.Errorf("run of %d rows took %d statements, want at most %d", n, statements, want)
			}
			rows, err := db.Read().QueryContext(ctx, `SELECT i, s FROM ladder_rows WHERE run = $1 ORDER BY i`, n)
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for rows.Next() {
				var i int
				var s string
				if err := rows.Scan(&i, &s); err != nil {
					t.Fatal(err)
				}
				if i != got || s != "r"+string(rune('a'+i%26)) {
					t.Fatalf("run of %d rows: row %d is (%d, %q)", n, got, i, s)
				}
				got++
			}
			rows.Close()
			if got != n {
				t.Errorf("run of %d rows stored %d", n, got)
			}
		}
	})
}
