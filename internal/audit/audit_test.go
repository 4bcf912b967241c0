package audit_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"

	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func appendN(tb testing.TB, db *sqldb.DB, n int) {
	tb.Helper()
	for i := 0; i < n; i++ {
		err := db.InTx(context.Background(), func(tx *sql.Tx) error {
			_, err := audit.New(db).Append(context.Background(), tx, audit.Record{
				Actor: audit.CLI, Action: "role.grant", TargetType: "account",
				TargetID: "42", Reason: "test", Details: map[string]any{"role": "admin", "i": i},
			})
			return err
		})
		if err != nil {
			// Errorf, not Fatalf: appendN also runs on goroutines.
			tb.Errorf("append: %v", err)
			return
		}
	}
}

func TestVerifyCatchesTampering(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		log := audit.New(db)
		rep, err := log.Verify(ctx)
		if err != nil || !rep.OK || rep.Rows != 0 {
			t.Fatalf("empty log: got %+v, %v; want OK with 0 rows", rep, err)
		}
		appendN(t, db, 5)
		rep, err = log.Verify(ctx)
		if err != nil || !rep.OK || rep.Rows != 5 {
			t.Fatalf("intact log: got %+v, %v; want OK with 5 rows", rep, err)
		}

		tests := []struct {
			name    string
			tamper  string
			undo    string
			broken  int64
			problem string
		}{
			{"altered reason", `UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3`, `UPDATE audit_log SET reason = 'test' WHERE seq = 3`, 3, "altered"},
			{"altered details", `UPDATE audit_log SET details = '{"role":"moderator","i":1}' WHERE seq = 2`, `UPDATE audit_log SET details = '{"i":1,"role":"admin"}' WHERE seq = 2`, 2, "altered"},
			{"deleted middle row", `DELETE FROM audit_log WHERE seq = 4`, ``, 4, "missing"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := db.Write().ExecContext(ctx, tt.tamper); err != nil {
					t.Fatal(err)
				}
				rep, err := log.Verify(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK || rep.FirstBroken != tt.broken || !strings.Contains(rep.Problem, tt.problem) {
					t.Errorf("got %+v, want first broken row %d (%s)", rep, tt.broken, tt.problem)
				}
				if tt.undo != "" {
					if _, err := db.Write().ExecContext(ctx, tt.undo); err != nil {
						t.Fatal(err)
					}
					if rep, _ := log.Verify(ctx); !rep.OK {
						t.Fatalf("after undoing: got %+v, want OK", rep)
					}
				}
			})
		}
	})
}

func TestVerifyCatchesTruncatedTail(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		appendN(t, db, 3)
		if _, err := db.Write().ExecContext(ctx, `DELETE FROM audit_log WHERE seq = 3`); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.New(db).Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK || rep.FirstBroken != 3 {
			t.Errorf("got %+v, want first broken row 3", rep)
		}
	})
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				appendN(t, db, 10)
			}()
		}
		wg.Wait()
		rep, err := audit.New(db).Verify(context.Background())
		if err != nil || !rep.OK || rep.Rows != 40 {
			t.Errorf("got %+v, %v; want OK with 40 rows", rep, err)
		}
		list, err := audit.New(db).List(context.Background(), 0, 5)
		if err != nil || len(list) != 5 || list[0].Seq != 40 || list[0].Details["role"] != "admin" {
			t.Errorf("List: got %d entries (first %+v), %v; want 5 newest first", len(list), list, err)
		}
	})
}
