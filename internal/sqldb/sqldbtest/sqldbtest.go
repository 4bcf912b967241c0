// Package sqldbtest opens throw-away databases for tests: SQLite in a temp
// dir always, and PostgreSQL too when PLAZA_TEST_POSTGRES names a server.
// Each PostgreSQL database is created for one test and dropped after it, so
// concurrent runs never see each other's rows.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/sqldb"
)

// PostgresEnv names the environment variable with a PostgreSQL URL (any
// database on the server; tests create their own beside it).
const PostgresEnv = "PLAZA_TEST_POSTGRES"

// Engines returns the engines to run store suites on: SQLite, plus
// PostgreSQL when PLAZA_TEST_POSTGRES is set.
func Engines() []sqldb.Engine {
	if os.Getenv(PostgresEnv) != "" {
		return []sqldb.Engine{sqldb.SQLite, sqldb.Postgres}
	}
	return []sqldb.Engine{sqldb.SQLite}
}

// Each runs fn as a subtest once per engine with a freshly migrated
// database.
func Each(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}

// Open returns a migrated, empty database of engine e, closed and removed
// when the test ends.
func Open(tb testing.TB, e sqldb.Engine) *sqldb.DB {
	tb.Helper()
	db := OpenUnmigrated(tb, e)
	if _, err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate %s: %v", e, err)
	}
	return db
}

// OpenUnmigrated is Open without the migrations.
func OpenUnmigrated(tb testing.TB, e sqldb.Engine) *sqldb.DB {
	tb.Helper()
	u := URL(tb, e)
	db, err := sqldb.Open(context.Background(), u, sqldb.Options{})
	if err != nil {
		tb.Fatalf("open %s: %v", e, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// URL returns the URL of a new, empty database of engine e that lives as
// long as the test. On PostgreSQL it creates the database and drops it at
// cleanup.
func URL(tb testing.TB, e sqldb.Engine) string {
	tb.Helper()
	switch e {
	case sqldb.SQLite:
		return "sqlite:" + filepath.Join(tb.TempDir(), "plaza.db")
	case sqldb.Postgres:
		return createPostgres(tb)
	default:
		tb.Fatalf("unknown engine %q", e)
		return ""
	}
}

func createPostgres(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		tb.Skipf("%s is not set; set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run this test", PostgresEnv)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("open %s: %v", sqldb.Redact(base), err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "plaza_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			tb.Errorf("drop database %s: %v", name, err)
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

// EmptyLog copies SQLite's write-ahead log into the database file and
// empties it, so that a benchmark starts with none of its setup's
// checkpoint work left. SQLite answers busy, without waiting, while the
// background checkpointer is in a pass: it tries again until the log is
// empty.
func EmptyLog(tb testing.TB, db *sqldb.DB) {
	tb.Helper()
	for tries := 0; ; tries++ {
		var busy, logPages, copied int64
		if err := db.Write().QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logPages, &copied); err != nil {
			tb.Fatalf("empty the log: %v", err)
		}
		if busy == 0 && logPages == 0 {
			return
		}
		if tries == 100 {
			tb.Fatalf("the log did not empty: busy %d, %d pages", busy, logPages)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
