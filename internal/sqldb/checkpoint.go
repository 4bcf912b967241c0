package sqldb

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// On SQLite a commit appends to the write-ahead log, and the committing
// connection copies the log back into the database file (a checkpoint,
// with its own sync) once the log passes a size (by default 1,000
// pages); the next commit then starts the log over. On Plaza's single writer that copy of 4 MiB
// stalled every send queued behind it: at a few thousand messages a
// second it ran about once a second and made the slowest sends. So a
// connection of its own checkpoints beside the writer, every
// checkpointEvery, in PASSIVE mode: it copies what no reader still needs
// without taking the write lock while the writer goes on appending, and
// when the writer's own checkpoint comes due, little is left to copy.
//
// The writer keeps its own checkpoint for what only it can do: under
// steady writes the log is never wholly copied at the moment a commit
// begins, and only a commit that begins then starts the log over. Left
// to the background alone, the log would grow without end.

// checkpointEvery is how often the checkpointer looks at the log. A look
// at a log with nothing to copy costs a few microseconds.
const checkpointEvery = 100 * time.Millisecond

// writerCheckpointPages is the size of the log (in 4 KiB pages) at which
// the writer checkpoints itself, so the log starts over. At SQLite's
// 1,000 the writer reached it before the background had copied much. Past
// a few thousand pages it finds only the last tenth of a second's pages
// left, but each start-over still holds every queued send for that copy
// and a sync of the database file, and how often it comes follows the
// log's size: at 5,000 messages a second, 8,192 pages came five times a
// second and made the slowest sends (docs/benchmarks.md, "The storage
// alone at a steady rate"). At 65,536 pages (256 MiB) it comes every
// second or two under that load, and the log's file keeps that size for
// SQLite to write over.
//
// Under light load the log starts over sooner: at a commit that begins
// once a background pass has copied all of it, if no commit came during
// the pass's copy and sync and no reader still holds an older snapshot.
// In a run at 100 messages a second it did; at 1,000 it did not, and
// the log grew to this size.
const writerCheckpointPages = 65536

// checkpointer runs PASSIVE checkpoints until stopped.
type checkpointer struct {
	conn   *sql.DB
	stop   chan struct{}
	done   chan struct{}
	behind atomic.Int64 // pages in the log not yet copied, at the last look
	failed atomic.Int64
	once   sync.Once
}

func startCheckpointer(conn *sql.DB) *checkpointer {
	c := &checkpointer{conn: conn, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.look()
		}
	}
}

// look copies what it can. Errors are counted, not fatal: SQLITE_BUSY
// (another process checkpointing) simply means next time.
func (c *checkpointer) look() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var busy, logPages, copied int64
	if err := c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logPages, &copied); err != nil {
		c.failed.Add(1)
		return
	}
	// While another connection checkpoints (the writer's own), SQLite
	// answers busy and -1 for both counts: nothing is known.
	if logPages < 0 || copied < 0 {
		return
	}
	c.behind.Store(max(logPages-copied, 0))
}

// close stops the loop; closing the last connection checkpoints the rest.
func (c *checkpointer) close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		err = c.conn.Close()
	})
	return err
}

// CheckpointBehind returns how many pages of SQLite's log were not yet
// copied into the database file at the checkpointer's last look.
func (db *DB) CheckpointBehind() int64 {
	if db.ckpt == nil {
		return 0
	}
	return db.ckpt.behind.Load()
}
