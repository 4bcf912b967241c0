package sqldb_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/sqldb"
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
// p50, p99 and p99.9 from BEGIN to the end of COMMIT, and the process's
// CPU per commit:
//
//	go test -run '^$' -bench PacedCommit -benchtime 15000x -count 3 ./internal/sqldb/
//
// The database lives in PLAZA_BENCH_DIR if set, else in the test's
// temporary directory.
func BenchmarkPacedCommit(b *testing.B) {
	for _, pages := range []int{1, 4, 12} {
		b.Run("pages="+strconv.Itoa(pages), func(b *testing.B) {
			pacedCommit(b, pages)
		})
	}
}

func pacedCommit(b *testing.B, pages int) {
	ctx := context.Background()
	dir := benchDir(b)
	db, err := sqldb.Open(ctx, "sqlite:"+filepath.Join(dir, "paced.db"), sqldb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	inserts := make([]string, pages)
	for i := range pages {
		t := "paced" + strconv.Itoa(i)
		if _, err := db.Write().ExecContext(ctx, `CREATE TABLE `+t+` (k INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT, WITHOUT ROWID`); err != nil {
			b.Fatal(err)
		}
		inserts[i] = `INSERT OR IGNORE INTO ` + t + ` (k, v) VALUES ($1, $2)`
	}
	// A row about the size of a sync log entry.
	row := strings.Repeat("x", 100)
	commit := func(rows int) error {
		return db.InTx(ctx, func(tx *sql.Tx) error {
			for _, q := range inserts {
				for range rows {
					if _, err := tx.ExecContext(ctx, q, rand.Int64(), row); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	// 100,000 rows a table, so that a random key lands on one of a few
	// hundred leaves that the page cache holds.
	for range 100 {
		if err := commit(1000); err != nil {
			b.Fatal(err)
		}
	}

	interval := time.Second / 1000
	lat := make([]time.Duration, 0, b.N)
	cpu0 := rusageCPU()
	start := time.Now()
	n := 0
	for b.Loop() {
		due := start.Add(time.Duration(n) * interval)
		n++
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		at := time.Now()
		if err := commit(1); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(at))
	}
	b.StopTimer()
	b.ReportMetric(float64((rusageCPU()-cpu0).Microseconds())/float64(len(lat)), "cpu-µs/commit")
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(0.999), "p99.9-ms")
}

// rusageCPU is the process's CPU time so far, user and system.
func rusageCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
