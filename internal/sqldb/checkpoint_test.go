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

// The writer never checkpoints; the background checkpointer copies the
// log into the database file, so the log starts over and stays small
// however much is written.
func TestBackgroundCheckpointKeepsTheLogSmall(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plaza.db")
	db, err := sqldb.Open(ctx, "sqlite:"+path, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Write().ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	row := strings.Repeat("x", 1000)
	// write puts about 4 MiB into the log, more than the 1,000 pages
	// after which SQLite would checkpoint on its own.
	write := func() {
		for range 40 {
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
	// waitCopied waits until the checkpointer has copied at least that
	// many pages in all and has caught up with the log.
	waitCopied := func(atLeast int64) {
		for deadline := time.Now().Add(30 * time.Second); db.CheckpointedPages() < atLeast || db.CheckpointBehind() > 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("checkpointer copied %d pages (%d behind), want at least %d and none behind", db.CheckpointedPages(), db.CheckpointBehind(), atLeast)
			}
		}
	}
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}

	write()
	waitCopied(1000)
	first := walSize()
	copied := db.CheckpointedPages()
	for range 3 {
		write()
		copied += 1000
		waitCopied(copied)
	}
	// Had nothing copied the log, it would hold four rounds by now.
	if got := walSize(); got > first+first/2 {
		t.Errorf("log grew from %d to %d bytes over three more rounds: it is not starting over", first, got)
	}
}
