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
// pages); the next commit then starts the log over. On Plaza's single
// writer that copy of 4 MiB stalled every send queued behind it: at a few
// thousand messages a second it ran about once a second and made the
// slowest sends. So a connection of its own checkpoints beside the
// writer, at least every checkpointEvery (sooner under heavy writing, and
// just before the writer's own comes due), in PASSIVE mode: it copies
// what no reader still needs without taking the write lock while the
// writer goes on appending, and when the writer's own checkpoint comes
// due, little is left to copy.
//
// The writer keeps its own checkpoint for what only it can do: under
// steady writes the log is never wholly copied at the moment a commit
// begins, and only a commit that begins then starts the log over. Left
// to the background alone, the log would grow without end.

// checkpointEvery is how often the checkpointer copies the log when
// little is written. A pass that copies anything first syncs the log,
// and SQLite syncs the database file after it only when the pass copied
// the whole log as it stands at the pass's end (no commit meanwhile, no
// reader holding the copy back). Under steady writing the pages the
// passes copy therefore wait, unsynced, for a pass that catches up or
// for the writer's own checkpoint, whose sync writes whatever of them is
// still waiting (docs/benchmarks.md, "An aged database"). With a pass
// every 100 ms the single writer's p99 at a steady 1,000 messages a
// second was about 3.3–3.6 ms, once a second about 2.7–3.0 ms; at the
// time that was put down to each pass's sync of the database file, which
// under steady writing mostly does not happen, so why fewer passes help
// is open. The log's sync at the start of each pass is most likely not
// the main cause: with it switched off (a diagnostic), commits beside a
// pass were no quicker; the pass's copying, on the same cores, may be
// (docs/benchmarks.md, "A quicker disk, and the slow commits at 1,000
// msg/s counted"). At 5,000 a second a version
// that copied a whole second's log at once made the p99 worse, so under
// heavy writing a pass comes once the log has grown by checkpointPages
// (docs/benchmarks.md, "A durable commit's floor at a steady rate"). A
// look at a log with nothing to copy costs a few microseconds.
const checkpointEvery = time.Second

// checkpointPages bounds how much log a pass copies: under heavy writing
// the checkpointer looks again once the log has grown by about this many
// pages, sooner than checkpointEvery.
const checkpointPages = 8192

// checkpointLead is how long before the writer's own checkpoint comes due
// the checkpointer copies once more, so that the writer, which holds
// every queued send while it copies, finds only what was committed since.
const checkpointLead = 100 * time.Millisecond

// writerCheckpointPages is the size of the log (in 4 KiB pages) at which
// the writer checkpoints itself, so the log starts over. At SQLite's
// 1,000 the writer reached it before the background had copied much. Past
// a few thousand pages it is meant to find only what was committed since
// the background's pass checkpointLead before, but each start-over still
// holds every queued send for that copy and a sync of the database file.
// That sync also writes whatever the background passes copied since the
// last sync and is still waiting: on a database of 270 MiB at 5,000
// messages a second, the commit that carried it took 63–86 ms
// (docs/benchmarks.md, "An aged database"). (The writer's checkpoint is
// a PASSIVE one too: a reader's snapshot can hold it back, and it does
// nothing if it finds the background in a pass; it then comes again at
// the next commit.) How often it comes follows the log's size: at 5,000
// messages a second, 8,192 pages came five times a second and made the
// slowest sends (docs/benchmarks.md, "The storage alone at a steady
// rate"). At 65,536 pages (256 MiB) it comes every one to three seconds
// under that load, and the log's file keeps that size for SQLite to
// write over.
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
	// after runs after each look, on the checkpointer's goroutine, and
	// must not wait: it notes the database's size for the writer's cache
	// (DB.fitWriterCache).
	after func()
}

func startCheckpointer(conn *sql.DB, writerPages int, after func()) *checkpointer {
	c := &checkpointer{conn: conn, due: int64(writerPages), stop: make(chan struct{}), done: make(chan struct{}), after: after}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTimer(checkpointEvery)
	defer t.Stop()
	var (
		last logLook
		rate float64 // the log's growth between the last two looks, pages a second
	)
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		look := c.look()
		if c.after != nil {
			c.after()
		}
		r, known := logRate(last, look, c.due)
		// The faster of this pair of looks and the one before, so that a
		// start-over between two looks that this pair did not see does
		// not make the pass before the writer's checkpoint come late.
		next := nextLook(look.pages, max(r, rate), c.due)
		if known {
			rate = r
		}
		last = look
		// Timed from the look's start: its copy and sync took part of
		// the wait.
		t.Reset(max(next-time.Since(look.at), 0))
	}
}

// logLook is the log's size in pages at one look; pages < 0 means not
// known.
type logLook struct {
	at    time.Time
	pages int64
}

// logRate is how fast the log grew from one look to the next, in pages a
// second, and whether that could be told.
func logRate(last, now logLook, due int64) (float64, bool) {
	if last.at.IsZero() || last.pages < 0 || now.pages < 0 {
		return 0, false
	}
	elapsed := now.at.Sub(last.at).Seconds()
	if elapsed <= 0 {
		return 0, false
	}
	grown := now.pages - last.pages
	if grown < 0 {
		// The log started over in between. Near due that was most likely
		// at the writer's checkpoint, so the log first grew to due.
		// Under light load it starts over after most passes, and then
		// what it holds now is all that is known to have grown.
		grown = now.pages
		if last.pages >= due-checkpointPages {
			grown += max(due-last.pages, 0)
		}
	}
	return float64(grown) / elapsed, true
}

// nextLook says how long after a look that found the log at pages to look
// again: after checkpointEvery; sooner if the log, growing at rate pages a
// second, would gain checkpointPages first; or checkpointLead before it
// would reach the writer's own checkpoint (due pages) if that is sooner,
// but no sooner than checkpointLead. With a due (SQLiteCheckpointPages)
// that the log gains in less than checkpointLead, the passes come every
// checkpointLead and the writer's checkpoint finds what came since.
func nextLook(pages int64, rate float64, due int64) time.Duration {
	if rate <= 0 {
		return checkpointEvery
	}
	// In seconds, as floats: a large due over a slow rate would
	// overflow a Duration.
	wait := checkpointPages / rate
	if pages >= 0 {
		wait = min(wait, float64(due-pages)/rate-checkpointLead.Seconds())
	}
	// Else not known: SQLite answers so while the writer checkpoints,
	// after which the log starts over; look again by the bound alone.
	if wait >= checkpointEvery.Seconds() {
		return checkpointEvery
	}
	return max(time.Duration(wait*float64(time.Second)), checkpointLead)
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
