package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"modernc.org/sqlite"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestMigrationFilesPair checks that both engines have the same migration
// versions, so no schema change is written for one engine only.
func TestMigrationFilesPair(t *testing.T) {
	names := func(e sqldb.Engine) []string {
		fsys, err := sqldb.MigrationsFS(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	lite, pg := names(sqldb.SQLite), names(sqldb.Postgres)
	if len(lite) == 0 {
		t.Fatal("no SQLite migrations found")
	}
	if diff := cmp.Diff(lite, pg); diff != "" {
		t.Errorf("migration files differ between sqlite and postgres (-sqlite +postgres):\n%s", diff)
	}
}

// TestMigrationsMatch applies both engines' migrations and compares the
// resulting tables and columns.
func TestMigrationsMatch(t *testing.T) {
	if len(sqldbtest.Engines()) < 2 {
		t.Skipf("set %s to compare the PostgreSQL schema with SQLite's", sqldbtest.PostgresEnv)
	}
	ctx := context.Background()
	schema := func(db *sqldb.DB) map[string][]string {
		var q string
		if db.Engine == sqldb.SQLite {
			// Full-text tables keep their index in shadow tables that
			// PostgreSQL has no counterpart of.
			q = `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
			     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'goose_db_version'
			     AND m.name NOT IN (SELECT name FROM pragma_table_list WHERE type = 'shadow')`
		} else {
			q = `SELECT table_name, column_name FROM information_schema.columns
			     WHERE table_schema = 'public' AND table_name <> 'goose_db_version'`
		}
		rows, err := db.Read().QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string][]string{}
		for rows.Next() {
			var table, col string
			if err := rows.Scan(&table, &col); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], col)
		}
		for _, cols := range out {
			sort.Strings(cols)
		}
		return out
	}
	lite := schema(sqldbtest.Open(t, sqldb.SQLite))
	pg := schema(sqldbtest.Open(t, sqldb.Postgres))
	if diff := cmp.Diff(lite, pg); diff != "" {
		t.Errorf("schemas differ (-sqlite +postgres):\n%s", diff)
	}
}

func TestErrorMapping(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO terms (version, title, body, requires_reconsent, published_at) VALUES ($1, $2, $3, $4, $5)`, 1, "t", "b", true, 1)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Write().ExecContext(ctx, `INSERT INTO terms (version, title, body, requires_reconsent, published_at) VALUES ($1, $2, $3, $4, $5)`, 1, "t", "b", false, 1)
		if got := plaza.ErrorCode(sqldb.MapError(err, "terms")); got != plaza.EConflict {
			t.Errorf("duplicate key: got code %q, want %q (err %v)", got, plaza.EConflict, err)
		}
		var title string
		err = db.Read().QueryRowContext(ctx, `SELECT title FROM terms WHERE version = $1`, 99).Scan(&title)
		if got := plaza.ErrorCode(sqldb.MapError(err, "terms")); got != plaza.ENotFound {
			t.Errorf("missing row: got code %q, want %q", got, plaza.ENotFound)
		}
		var reconsent bool
		if err := db.Read().QueryRowContext(ctx, `SELECT requires_reconsent FROM terms WHERE version = 1`).Scan(&reconsent); err != nil || !reconsent {
			t.Errorf("boolean round trip: got %v, %v; want true, nil", reconsent, err)
		}
	})
}

func TestInTxRollsBack(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		want := plaza.Errorf(plaza.EInvalid, "stop")
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO terms (version, title, body, requires_reconsent, published_at) VALUES (7, 't', 'b', $1, 1)`, false); err != nil {
				return err
			}
			return want
		})
		if err != want {
			t.Fatalf("InTx returned %v, want %v", err, want)
		}
		var n int
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM terms`).Scan(&n); err != nil || n != 0 {
			t.Errorf("after rollback: got %d rows (err %v), want 0", n, err)
		}
	})
}

// TestInTxLazy checks that a lazy transaction commits without waiting
// for the disk, and that the transactions after it, committed or rolled
// back, wait again: sends share the writer connection.
func TestInTxLazy(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		setting := `PRAGMA synchronous` // 2 FULL, 1 NORMAL
		lazy, durable := "1", "2"
		if db.Engine == sqldb.Postgres {
			setting, lazy, durable = `SHOW synchronous_commit`, "off", "on"
		}
		read := func(tx *sql.Tx) string {
			t.Helper()
			var v string
			if err := tx.QueryRowContext(ctx, setting).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		stop := plaza.Errorf(plaza.EInvalid, "stop")
		for version, fail := range map[int]bool{8: false, 9: true} {
			err := db.InTxLazy(ctx, func(tx *sql.Tx) error {
				if got := read(tx); got != lazy {
					t.Errorf("inside InTxLazy: %s = %s, want %s", setting, got, lazy)
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO terms (version, title, body, requires_reconsent, published_at) VALUES ($1, 't', 'b', $2, 1)`, version, false); err != nil {
					return err
				}
				if fail {
					return stop
				}
				return nil
			})
			if fail && err != stop || !fail && err != nil {
				t.Fatalf("InTxLazy (fail %v) returned %v", fail, err)
			}
			err = db.InTx(ctx, func(tx *sql.Tx) error {
				if got := read(tx); got != durable {
					t.Errorf("after InTxLazy (fail %v): %s = %s, want %s", fail, setting, got, durable)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM terms WHERE version IN (8, 9)`).Scan(&n); err != nil || n != 1 {
			t.Errorf("got %d rows (err %v), want the committed one alone", n, err)
		}
	})
}

// doneAfter is a context that is cancelled by the n+1st call of Done:
// cancellation arriving at each step of a call in turn.
type doneAfter struct {
	context.Context
	left atomic.Int32
	once sync.Once
	ch   chan struct{}
}

func newDoneAfter(n int32) *doneAfter {
	c := &doneAfter{Context: context.Background(), ch: make(chan struct{})}
	c.left.Store(n)
	return c
}

func (c *doneAfter) Done() <-chan struct{} {
	if c.left.Add(-1) < 0 {
		c.once.Do(func() { close(c.ch) })
	}
	return c.ch
}

func (c *doneAfter) Err() error {
	select {
	case <-c.ch:
		return context.Canceled
	default:
		return nil
	}
}

// TestInTxLazyCancelledOrPanicking checks that however a lazy transaction
// ends (its context cancelled at any step, fn panicking) the writer is
// left durable and usable.
func TestInTxLazyCancelledOrPanicking(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		durable := func(when string) {
			t.Helper()
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				q, want := `PRAGMA synchronous`, "2"
				if db.Engine == sqldb.Postgres {
					q, want = `SHOW synchronous_commit`, "on"
				}
				var got string
				if err := tx.QueryRowContext(ctx, q).Scan(&got); err != nil {
					return err
				}
				if got != want {
					t.Errorf("%s: %s = %s, want %s", when, q, got, want)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: the writer is not usable: %v", when, err)
			}
		}
		for n := range int32(12) {
			_ = db.InTxLazy(newDoneAfter(n), func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `SELECT 1`)
				return err
			})
			durable(fmt.Sprintf("cancelled at the %d. look", n+1))
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Error("the panic did not reach the caller")
				}
			}()
			_ = db.InTxLazy(ctx, func(*sql.Tx) error { panic("fn panics") })
		}()
		durable("after a panic")
	})
}

// TestInTxHeld checks the transaction of the chat writer's commits: it
// commits, rolls back on an error, on a panic and when its deadline
// passes while fn runs, gives up waiting for a writer another
// transaction holds once ctx ends, and leaves the writer usable after
// each; on SQLite its BEGIN and COMMIT start no goroutine to watch ctx.
func TestInTxHeld(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		insert := func(version int) func(tx *sql.Tx) error {
			return func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO terms (version, title, body, requires_reconsent, published_at) VALUES ($1, 't', 'b', $2, 1)`, version, false)
				return err
			}
		}
		count := func() int {
			t.Helper()
			var n int
			if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM terms`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := db.InTxHeld(tctx, insert(1)); err != nil {
			t.Fatalf("commit: %v", err)
		}
		want := errors.New("stop")
		if err := db.InTxHeld(tctx, func(tx *sql.Tx) error {
			if err := insert(2)(tx); err != nil {
				return err
			}
			return want
		}); !errors.Is(err, want) {
			t.Fatalf("InTxHeld returned %v, want %v", err, want)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Error("the panic did not reach the caller")
				}
			}()
			_ = db.InTxHeld(tctx, func(tx *sql.Tx) error {
				if err := insert(3)(tx); err != nil {
					return err
				}
				panic("fn panics")
			})
		}()
		// On PostgreSQL (InTx) database/sql may roll the transaction back
		// before Commit, which then reports that it was.
		short, cancelShort := context.WithCancel(ctx)
		if err := db.InTxHeld(short, func(tx *sql.Tx) error {
			if err := insert(4)(tx); err != nil {
				return err
			}
			cancelShort() // the deadline passes while fn runs
			return nil
		}); err == nil || db.Engine == sqldb.SQLite && !errors.Is(err, context.Canceled) {
			t.Fatalf("a transaction whose ctx ended in fn: err %v, want it rolled back with the context's error", err)
		}
		if n := count(); n != 1 {
			t.Fatalf("%d rows after a commit, an error, a panic and a passed deadline, want 1", n)
		}

		// Another transaction holds the writer: the wait ends with ctx.
		// The holder lets go after 10 s at the latest, so that a wait
		// that does not end fails the test rather than hanging it.
		if db.Engine == sqldb.SQLite {
			held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				done <- db.InTx(ctx, func(*sql.Tx) error {
					close(held)
					select {
					case <-release:
					case <-time.After(10 * time.Second):
					}
					return nil
				})
			}()
			<-held
			short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
			err := db.InTxHeld(short, insert(5))
			cancelShort()
			close(release)
			if err := <-done; err != nil {
				t.Fatalf("holding transaction: %v", err)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("waiting for a held writer: err %v, want the deadline", err)
			}
		}

		// Twenty commits: database/sql watches each transaction with a
		// goroutine of its own; on SQLite the driver would start two more
		// for a context that can end (BEGIN and COMMIT). The background
		// checkpointer may start a few meanwhile; a collection first, so
		// that the collector's workers, started with the process's first,
		// are not counted.
		const commits = 20
		runtime.GC()
		before, ok := plazatest.GoroutinesCreated()
		for v := range commits {
			if err := db.InTxHeld(tctx, insert(10+v)); err != nil {
				t.Fatalf("commit %d: %v", v, err)
			}
		}
		if after, _ := plazatest.GoroutinesCreated(); ok && db.Engine == sqldb.SQLite && after-before > commits+10 {
			t.Errorf("%d goroutines started for %d commits, want about one a commit", after-before, commits)
		}
		if n := count(); n != 1+commits {
			t.Errorf("%d rows, want %d", n, 1+commits)
		}
	})
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, u := range []string{"", "mysql://x", "sqlite:"} {
		if _, err := sqldb.Open(context.Background(), u, sqldb.Options{}); err == nil {
			t.Errorf("Open(%q) succeeded, want an error", u)
		}
	}
}

func TestRedact(t *testing.T) {
	got := sqldb.Redact("postgres://u:secret@h/db")
	if got != "postgres://u:xxxxx@h/db" {
		t.Errorf("Redact = %q, want postgres://u:xxxxx@h/db", got)
	}
}

// The writer keeps 8 MiB of pages between transactions while the
// database is under 1 GiB and 64 MiB from then on, and may hold 64 MiB
// before it spills changed pages mid-transaction (see writerCache);
// readers keep SQLite's defaults.
func TestSQLiteWriterCache(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plaza.db")
	read := func(q sqldb.Queryer, pragma string) int {
		t.Helper()
		var v int
		if err := q.QueryRowContext(ctx, `PRAGMA `+pragma).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		return v
	}
	open := func() *sqldb.DB {
		t.Helper()
		db, err := sqldb.Open(ctx, "sqlite:"+path, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db := open()
	if got := read(db.Write(), "cache_size"); got != -8192 {
		t.Errorf("writer cache_size = %d, want -8192 (8 MiB)", got)
	}
	if got := read(db.Write(), "cache_spill"); got != 16384 {
		t.Errorf("writer cache_spill = %d pages, want 16384 (64 MiB)", got)
	}
	if got := read(db.Read(), "cache_size"); got != -2000 {
		t.Errorf("reader cache_size = %d, want SQLite's default -2000", got)
	}
	if _, err := db.Write().ExecContext(ctx, `CREATE TABLE t (v TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	// The same database opened as if the lock-byte page started where
	// its file ends (as a database of exactly 1 GiB), and one byte
	// further (as one just under 1 GiB).
	for _, c := range []struct {
		offset int64
		want   int
	}{{fi.Size(), -65536}, {fi.Size() + 1, -8192}} {
		t.Cleanup(sqldb.SetLockByteOffset(c.offset))
		db := open()
		if got := read(db.Write(), "cache_size"); got != c.want {
			t.Errorf("a file of %d bytes, the lock-byte page from byte %d: writer cache_size = %d, want %d", fi.Size(), c.offset, got, c.want)
		}
		if got := read(db.Write(), "cache_spill"); got != 16384 {
			t.Errorf("a file of %d bytes, the lock-byte page from byte %d: writer cache_spill = %d pages, want 16384", fi.Size(), c.offset, got)
		}
		db.Close()
	}

	// While the server runs, the file passes the lock-byte page (here the
	// page moves instead), and later falls below it again (a VACUUM):
	// the writer's connection follows at the first write transaction
	// after the checkpointer's next look, about a second later.
	t.Cleanup(sqldb.SetLockByteOffset(fi.Size() + 1))
	db = open()
	for _, c := range []struct {
		offset int64
		want   int
	}{{fi.Size() + 1, -8192}, {fi.Size(), -65536}, {fi.Size() + 1, -8192}} {
		sqldb.SetLockByteOffset(c.offset)
		got, deadline := 0, time.Now().Add(10*time.Second)
		for {
			if err := db.InTx(ctx, func(*sql.Tx) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if got = read(db.Write(), "cache_size"); got == c.want || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got != c.want {
			t.Errorf("a running server's file of %d bytes, the lock-byte page from byte %d: writer cache_size = %d after 10 s, want %d", fi.Size(), c.offset, got, c.want)
		}
	}
}

// SQLite commits with fdatasync(2) once a database is open, as SQLite
// built by Linux distributions does (see syncWithFdatasync).
func TestOpenSyncsWithFdatasync(t *testing.T) {
	// The setting is process-wide: start from SQLite's source default.
	if _, err := sqlite.Fdatasync(false); errors.Is(err, sqlite.ErrFdatasyncUnavailable) {
		t.Skip("SQLite on this platform has no fdatasync switch and keeps its own call")
	} else if err != nil {
		t.Fatal(err)
	}
	db, err := sqldb.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "plaza.db"), sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !sqlite.FdatasyncEnabled() {
		t.Error("after Open, SQLite still commits with fsync(2)")
	}
}
