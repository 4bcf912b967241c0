package sqldb_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestBackupWhileWriting copies a SQLite database while a writer keeps
// committing rows and checks that the copy holds every row committed
// before the backup began, is intact, and carries the schema version.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	u := "sqlite:" + filepath.Join(dir, "plaza.db")
	db, err := sqldb.Open(ctx, u, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	_, latest, err := db.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write().ExecContext(ctx, "CREATE TABLE backup_probe (n INTEGER PRIMARY KEY) STRICT"); err != nil {
		t.Fatal(err)
	}
	var committed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	wg.Go(func() {
		for n := int64(1); ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := db.Write().ExecContext(ctx, "INSERT INTO backup_probe (n) VALUES (?)", n); err != nil {
				writeErr = err
				return
			}
			committed.Store(n)
		}
	})
	// Let the writer commit some rows first.
	deadline := time.Now().Add(30 * time.Second)
	for committed.Load() < 200 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	before := committed.Load()
	dest := filepath.Join(t.TempDir(), "copy.db")
	snap, err := sqldb.Backup(ctx, u, dest)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if writeErr != nil {
		t.Fatalf("writer: %v", writeErr)
	}
	if snap.SchemaVersion != latest {
		t.Errorf("schema version: got %d, want %d", snap.SchemaVersion, latest)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Size() != snap.Size {
		t.Errorf("size: got %d (%v), want the file's", snap.Size, err)
	}
	cp, err := sqldb.OpenSnapshot(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	var n, maxN int64
	if err := cp.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(MAX(n), 0) FROM backup_probe").Scan(&n, &maxN); err != nil {
		t.Fatal(err)
	}
	// Rows are committed in order, so a consistent copy holds 1..maxN.
	if n != maxN || n < before {
		t.Errorf("copy: got %d rows up to %d, want 1..N with N ≥ %d committed before the backup", n, maxN, before)
	}
	if _, err := sqldb.CheckSnapshot(ctx, dest); err != nil {
		t.Errorf("CheckSnapshot: %v", err)
	}
}

// TestBackupRefuses checks the cases Backup must not copy.
func TestBackupRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	existing := filepath.Join(dir, "exists.db")
	if err := os.WriteFile(existing, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	live := sqldbtest.URL(t, sqldb.SQLite)
	db, err := sqldb.Open(ctx, live, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, tc := range []struct {
		name, url, dest string
		want            error
	}{
		{"postgres", "postgres://postgres@127.0.0.1:5432/x", filepath.Join(dir, "a.db"), sqldb.ErrBackupPostgres},
		{"missing database", "sqlite:" + filepath.Join(dir, "nope.db"), filepath.Join(dir, "b.db"), nil},
		{"existing destination", live, existing, nil},
		{"other scheme", "mysql://x", filepath.Join(dir, "c.db"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sqldb.Backup(ctx, tc.url, tc.dest)
			if err == nil {
				t.Fatalf("Backup(%s, %s): got no error, want one", tc.url, tc.dest)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Backup(%s): got %v, want %v", tc.url, err, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "nope.db")); !os.IsNotExist(err) {
		t.Errorf("Backup created the missing database: stat says %v", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "x" {
		t.Errorf("Backup overwrote an existing file: got %q", b)
	}
}
