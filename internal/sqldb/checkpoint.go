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

// checkpointEvery is how often the checkpointer copies the log. Each
// pass ends with a sync of the database file, and on a disk that caches
// writes, a commit's sync of the log that comes meanwhile waits for the
// pages that sync sent. With passes every 100 ms the single writer's p99
// at a steady 1,000 messages a second was 3.3 ms, once a second 2.7 ms
// (docs/benchmarks.md, "A durable commit's floor at a steady rate"). A
// pass a second also copies a page changed many times in that second
// once. A look at a log with nothing to copy costs a few microseconds.
const checkpointEvery = time.Second

// checkpointLead is how long before the writer's own checkpoint comes due
// the checkpointer copies once more, so that the writer, which holds
// every queued send while it copies, finds only what was committed since.
const checkpointLead = 100 * time.Millisecond

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
	due    int64 // the log's size in pages at which the writer checkpoints itself
	stop   chan struct{}
	done   chan struct{}
	behind atomic.Int64 // pages in the log not yet copied, at the last look
	failed atomic.Int64
	once   sync.Once
}

func startCheckpointer(conn *sql.DB, writerPages int) *checkpointer {
	c := &checkpointer{conn: conn, due: int64(writerPages), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTimer(checkpointEvery)
	defer t.Stop()
	var last logLook
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		look := c.look()
		t.Reset(nextLook(last, look, c.due))
		last = look
	}
}

// logLook is the log's size in pages at one look; pages < 0 means not
// known.
type logLook struct {
	at    time.Time
	pages int64
}

// nextLook says how long after the look now to look again: after
// checkpointEvery, or, if the log growing as it did since the last look
// would reach the writer's own checkpoint (due pages) sooner,
// checkpointLead before that, but no sooner than checkpointLead.
func nextLook(last, now logLook, due int64) time.Duration {
	if last.at.IsZero() || last.pages < 0 || now.pages < 0 {
		return checkpointEvery
	}
	grown := now.pages - last.pages
	if grown < 0 {
		// The log started over since the last look and has grown from
		// nothing to now.pages in at most that time.
		grown = now.pages
	}
	elapsed := now.at.Sub(last.at)
	if grown <= 0 || elapsed <= 0 {
		return checkpointEvery
	}
	left := time.Duration(float64(due-now.pages) / float64(grown) * float64(elapsed))
	if left-checkpointLead >= checkpointEvery {
		return checkpointEvery
	}
	return max(left-checkpointLead, checkpointLead)
}

// look copies what it can and returns the log's size. Errors are counted,
// not fatal: SQLITE_BUSY (another process checkpointing) simply means
// next time.
func (c *checkpointer) look() logLook {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	at := time.Now()
	var busy, logPages, copied int64
	if err := c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logPages, &copied); err != nil {
		c.failed.Add(1)
		return logLook{at: at, pages: -1}
	}
	// While another connection checkpoints (the writer's own), SQLite
	// answers busy and -1 for both counts: nothing is known.
	if logPages < 0 || copied < 0 {
		return logLook{at: at, pages: -1}
	}
	c.behind.Store(max(logPages-copied, 0))
	return logLook{at: at, pages: logPages}
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
