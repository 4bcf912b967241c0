package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// A full disk or database is insufficient_storage on both engines and
// from the file system, never internal.
func TestHostileDiskFullMapping(t *testing.T) {
	for name, err := range map[string]error{
		"postgres 53100": fmt.Errorf("insert: %w", &pgconn.PgError{Code: "53100", Message: "could not extend file"}),
		"ENOSPC":         fmt.Errorf("blob: put: %w", syscall.ENOSPC),
	} {
		if !sqldb.IsDiskFull(err) {
			t.Errorf("%s: IsDiskFull = false, want true", name)
		}
		if got := plaza.ErrorCode(sqldb.MapError(err, "message")); got != plaza.EInsufficientStorage {
			t.Errorf("%s: MapError code = %q, want insufficient_storage", name, got)
		}
	}
	if sqldb.IsDiskFull(&pgconn.PgError{Code: "23505"}) || sqldb.IsDiskFull(errors.New("disk full")) {
		t.Error("IsDiskFull is true for other errors")
	}

	// A real SQLITE_FULL: the database may not grow past its pages.
	db := sqldbtest.Open(t, sqldb.SQLite)
	ctx := context.Background()
	w := db.Write()
	if _, err := w.ExecContext(ctx, `CREATE TABLE filler (b TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	_, err := w.ExecContext(ctx, `INSERT INTO filler (b) VALUES ($1)`, strings.Repeat("x", 1<<20))
	if !sqldb.IsDiskFull(err) {
		t.Errorf("SQLite past max_page_count: IsDiskFull(%v) = false, want true", err)
	}
}
