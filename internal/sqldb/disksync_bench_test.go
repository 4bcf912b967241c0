package sqldb_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkDiskSync measures the floor under every acknowledged send:
// a commit on SQLite (synchronous=FULL) appends its pages to the log and
// waits for one fsync, and no send is acknowledged before that. Each
// iteration writes what a small commit writes (12 pages of 4 KiB, one
// message's worth across its tables and indexes) at the end of a file
// and syncs it, as SQLite's log does. It reports the latency's
// percentiles, because the tail, not the mean, is what a p99 target
// meets.
//
// The file lives in a new directory under PLAZA_BENCH_DIR if set (point
// it at the disk the data directory is on), else in the test's temporary
// directory.
func BenchmarkDiskSync(b *testing.B) {
	f, err := os.Create(filepath.Join(benchDir(b), "disksync.bin"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	page := make([]byte, 12*4096)
	// Like the log, the file is reused from its start once it passes
	// 32 MiB, so the figure is not that of a file growing without end.
	const wrap = 32 << 20
	lat := make([]time.Duration, 0, b.N)
	var off int64
	b.ResetTimer()
	for b.Loop() {
		t := time.Now()
		if _, err := f.WriteAt(page, off); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
		off = (off + int64(len(page))) % wrap
	}
	b.StopTimer()
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(at(0.999), "p99.9-µs")
}

// benchDir returns an empty directory, removed after the benchmark: in
// PLAZA_BENCH_DIR if set (point it at the disk the data directory is
// on), else the test's temporary directory.
func benchDir(b *testing.B) string {
	parent := os.Getenv("PLAZA_BENCH_DIR")
	if parent == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "plaza-bench-*")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
