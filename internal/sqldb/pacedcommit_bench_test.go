package sqldb_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// BenchmarkPacedCommit measures what a durable SQLite commit costs at a
// steady 1,000 commits a second, opened as Plaza opens its database
// (synchronous=FULL, the background checkpointer), with nothing else in
// the process: the floor under a send's latency at that rate, and how it
// grows with the number of pages a commit changes. Each commit inserts
// one row at a random key into each of `pages` tables of 100,000 rows,
// so it changes about that many leaves scattered through the file, as a
// message's entries in its indexes and in its members' sync logs do
// (BenchmarkSendOne counts about 12 pages a message). It reports the
// p50, p99 and p99.9 from BEGIN to the end of COMMIT, how late the p99
// commit began (behind a slow one, or after the pacer's sleep), and the
// process's CPU per commit. Each loop is one commit, so 15000x is 15 s:
//
//	go test -run '^$' -bench PacedCommit -benchtime 15000x -count 3 ./internal/sqldb/
//
// The database lives in a new directory under PLAZA_BENCH_DIR if set,
// else in the test's temporary directory.
func BenchmarkPacedCommit(b *testing.B) {
	for _, pages := range []int{1, 4, 12} {
		b.Run("pages="+strconv.Itoa(pages), func(b *testing.B) {
			pacedCommit(b, pages)
		})
	}
}

func pacedCommit(b *testing.B, pages int) {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "sqlite:"+filepath.Join(benchDir(b), "paced.db"), sqldb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	inserts := make([]*sql.Stmt, pages)
	for i := range pages {
		t := "paced" + strconv.Itoa(i)
		if _, err := db.Write().ExecContext(ctx, `CREATE TABLE `+t+` (k INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT, WITHOUT ROWID`); err != nil {
			b.Fatal(err)
		}
		// Prepared once, as Plaza's writer does (sqldb.DB.Prepare).
		if inserts[i], err = db.Prepare(ctx, `INSERT OR IGNORE INTO `+t+` (k, v) VALUES ($1, $2)`); err != nil {
			b.Fatal(err)
		}
	}
	// A row about the size of a sync log entry.
	row := strings.Repeat("x", 100)
	commit := func(rows int) error {
		return db.InTx(ctx, func(tx *sql.Tx) error {
			for _, st := range inserts {
				st := tx.StmtContext(ctx, st)
				for range rows {
					if _, err := st.ExecContext(ctx, rand.Int64(), row); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	// 100,000 rows a table: a few thousand leaves each, more than the
	// writer's cache keeps, so some come from the system's page cache,
	// as in a database of real size.
	for range 100 {
		if err := commit(1000); err != nil {
			b.Fatal(err)
		}
	}
	// The load's pages copied and the log emptied, and a second at the
	// pace unmeasured, so that the figures are of the steady rate alone.
	sqldbtest.EmptyLog(b, db)
	runtime.GC()
	const rate = 1000
	interval := time.Second / rate
	pace := func(n int, start time.Time) (late time.Duration) {
		due := start.Add(time.Duration(n) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		return time.Since(due)
	}
	for n, start := 0, time.Now(); n < rate; n++ {
		pace(n, start)
		if err := commit(1); err != nil {
			b.Fatal(err)
		}
	}

	// Commits are timed from BEGIN; lag says how late each began after
	// its turn, waiting for the one before it or for the pacer's sleep.
	lat := make([]time.Duration, 0, 15000)
	lag := make([]time.Duration, 0, 15000)
	cpu0 := rusageCPU()
	start := time.Now()
	n := 0
	for b.Loop() {
		lag = append(lag, pace(n, start))
		n++
		began := time.Now()
		if err := commit(1); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(began))
	}
	b.ReportMetric(float64((rusageCPU()-cpu0).Microseconds())/float64(len(lat)), "cpu-µs/commit")
	slices.Sort(lat)
	slices.Sort(lag)
	q := func(d []time.Duration, f float64) float64 {
		return float64(d[int(f*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(lat, 0.50), "p50-ms")
	b.ReportMetric(q(lat, 0.99), "p99-ms")
	b.ReportMetric(q(lat, 0.999), "p99.9-ms")
	b.ReportMetric(q(lag, 0.99), "lag-p99-ms")
}

// rusageCPU is the process's CPU time so far, user and system.
func rusageCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
