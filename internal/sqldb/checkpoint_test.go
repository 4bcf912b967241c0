package sqldb_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/sqldb"
)

// The background checkpointer copies the log into the database file
// beside the writer, and the log still starts over and stays small
// however much is written.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plaza.db")
	// A log of 1,000 pages at most, so a few MiB show it starting over.
	db, err := sqldb.Open(ctx, "sqlite:"+path, sqldb.Options{SQLiteCheckpointPages: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Write().ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	row := strings.Repeat("x", 1000)
	// write puts about rows KiB into the log in transactions of 100 rows.
	write := func(rows int) {
		for range rows / 100 {
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				for range 100 {
					if _, err := tx.ExecContext(ctx, `INSERT INTO t (v) VALUES ($1)`, row); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	// About 300 pages: below the 1,000 after which the writer would
	// checkpoint itself, so only the background can copy them.
	write(1000)
	// The database file grows only as pages are copied into it.
	copied := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size() / 4096
	}
	for deadline := time.Now().Add(30 * time.Second); copied() < 250 || db.CheckpointBehind() > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("checkpointer copied %d pages (%d behind), want at least 250 and none behind", copied(), db.CheckpointBehind())
		}
	}

	// Sixteen MiB more, without pause: the log starts over on the way.
	write(16000)
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 8<<20 {
		t.Errorf("the log holds %d bytes after 16 MiB written: it is not starting over", fi.Size())
	}
}
