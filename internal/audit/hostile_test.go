package audit_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// keyedLog returns a log on db signed with a fresh key file.
func keyedLog(tb testing.TB, db *sqldb.DB) (*audit.Log, *audit.Keys) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "keys", "audit.key")
	keys, generated, err := audit.OpenKeys(context.Background(), db, path, true)
	if err != nil || !generated {
		tb.Fatalf("open audit keys: generated %v, %v; want a new file", generated, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		tb.Fatalf("audit key file: %v, %v; want mode 0600", st.Mode(), err)
	}
	return audit.NewKeyed(db, keys), keys
}

// appendTo appends n rows through l.
func appendTo(tb testing.TB, db *sqldb.DB, l *audit.Log, n int) {
	tb.Helper()
	for i := range n {
		err := db.InTx(context.Background(), func(tx *sql.Tx) error {
			_, err := l.Append(context.Background(), tx, audit.Record{
				Actor: audit.CLI, Action: "role.grant", TargetType: "account",
				TargetID: "42", Reason: "test", Details: map[string]any{"i": i},
			})
			return err
		})
		if err != nil {
			tb.Fatalf("append: %v", err)
		}
	}
}

// wantBroken fails unless rep reports row seq broken with problem in its text.
func wantBroken(tb testing.TB, rep audit.Report, err error, seq int64, problem string) {
	tb.Helper()
	if err != nil || rep.OK || rep.FirstBroken != seq || !strings.Contains(rep.Problem, problem) {
		tb.Fatalf("got %+v, %v; want row %d broken, %q", rep, err, seq, problem)
	}
}

func wantOK(tb testing.TB, rep audit.Report, err error, rows int64) {
	tb.Helper()
	if err != nil || !rep.OK || rep.Rows != rows {
		tb.Fatalf("got %+v, %v; want OK with %d rows", rep, err, rows)
	}
}

// TestHostileAuditRecomputedChain edits a row and recomputes the chain as
// someone with write access to the database (but not the key file) can:
// with plain SHA-256, or with a key of their own. Both are caught.
func TestHostileAuditRecomputedChain(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		// Two rows from before keying: they stay valid as plain SHA-256.
		appendTo(t, db, audit.New(db), 2)
		log, _ := keyedLog(t, db)
		appendTo(t, db, log, 4)
		rep, err := log.Verify(ctx)
		wantOK(t, rep, err, 6)

		if _, err := db.Write().ExecContext(ctx, `UPDATE audit_log SET reason = 'forged' WHERE seq = 4`); err != nil {
			t.Fatal(err)
		}
		if err := audit.Rehash(ctx, db, 4, nil, ""); err != nil {
			t.Fatalf("rehash: %v", err)
		}
		rep, err = log.Verify(ctx)
		wantBroken(t, rep, err, 4, "not signed")

		own := []byte(strings.Repeat("k", 32))
		if err := audit.Rehash(ctx, db, 4, own, "0badc0de"); err != nil {
			t.Fatalf("rehash: %v", err)
		}
		rep, err = log.Verify(ctx)
		wantBroken(t, rep, err, 4, "does not hold")

		// The legacy prefix cannot be rewritten either: the row after it
		// is signed over the old hash.
		if _, err := db.Write().ExecContext(ctx, `UPDATE audit_log SET reason = 'forged' WHERE seq = 1`); err != nil {
			t.Fatal(err)
		}
		if err := audit.Rehash(ctx, db, 1, nil, ""); err != nil {
			t.Fatalf("rehash: %v", err)
		}
		rep, err = log.Verify(ctx)
		wantBroken(t, rep, err, 3, "not signed")
	})
}

// TestHostileAuditAnchor rewrites the chain with the real key, as someone
// who also stole the key file could: only an anchor recorded elsewhere
// catches it. A wrong anchor and a cut-off tail are caught too.
func TestHostileAuditAnchor(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		log, keys := keyedLog(t, db)
		appendTo(t, db, log, 3)
		rep, err := log.Verify(ctx)
		wantOK(t, rep, err, 3)
		anchor := rep.Head
		if parsed, err := audit.ParseAnchor(anchor.String()); err != nil || parsed != anchor {
			t.Fatalf("ParseAnchor(%q) = %v, %v; want %v", anchor, parsed, err, anchor)
		}
		appendTo(t, db, log, 2)
		rep, err = log.Verify(ctx, anchor)
		wantOK(t, rep, err, 5)

		wrong := audit.Anchor{Seq: 3, Hash: strings.Repeat("0", 64)}
		rep, err = log.Verify(ctx, wrong)
		wantBroken(t, rep, err, 3, "anchor")
		rep, err = log.Verify(ctx, audit.Anchor{Seq: 9, Hash: anchor.Hash})
		wantBroken(t, rep, err, 6, "removed")

		if _, err := db.Write().ExecContext(ctx, `UPDATE audit_log SET reason = 'forged' WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		id, key := audit.CurrentKey(keys)
		if err := audit.Rehash(ctx, db, 2, key, id); err != nil {
			t.Fatalf("rehash: %v", err)
		}
		rep, err = log.Verify(ctx)
		wantOK(t, rep, err, 5) // the key alone vouches for the forgery
		rep, err = log.Verify(ctx, anchor)
		wantBroken(t, rep, err, 3, "anchor")

		for _, bad := range []string{"", "3", "x:" + anchor.Hash, "3:abc", "0:" + anchor.Hash} {
			if _, err := audit.ParseAnchor(bad); err == nil {
				t.Errorf("ParseAnchor(%q) succeeded, want an error", bad)
			}
		}
	})
}

// TestHostileAuditKeyRotation rotates the key between appends: old rows
// still verify under the retired key, new ones under the new key, also
// for a process that loads the file afresh.
func TestHostileAuditKeyRotation(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		log, keys := keyedLog(t, db)
		appendTo(t, db, log, 2)
		from, to, err := keys.Rotate()
		if err != nil || from == to || from == "" {
			t.Fatalf("rotate: %q → %q, %v; want two different key IDs", from, to, err)
		}
		appendTo(t, db, log, 2)
		rep, err := log.Verify(ctx)
		wantOK(t, rep, err, 4)
		entries, err := log.List(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if entries[0].KeyID != to || entries[3].KeyID != from {
			t.Errorf("rows signed with %q (newest) and %q (oldest), want %q and %q", entries[0].KeyID, entries[3].KeyID, to, from)
		}
		again, _, err := audit.OpenKeys(ctx, db, keys.Path(), false)
		if err != nil {
			t.Fatal(err)
		}
		rep, err = audit.NewKeyed(db, again).Verify(ctx)
		wantOK(t, rep, err, 4)
		// Without the key file the signed rows cannot be vouched for.
		rep, err = audit.New(db).Verify(ctx)
		wantBroken(t, rep, err, 1, "no audit key")
	})
}
