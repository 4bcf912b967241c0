package sqldb_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkDiskSyncPaced asks whether the disk's slow syncs come to one
// file at a time or to the disk (or its file system) as a whole, which
// decides whether a storage split across several files, each with a
// writer of its own, could keep one file's slow commit from holding the
// sends of the others. It makes 1,000 commit-sized syncs a second (12
// pages written, then fdatasync, as the writer's commits are synced),
// from one file, or from two files at 500 a second each, written side by
// side by goroutines of their own. Run with a count of syncs, e.g.
// -benchtime 10000x (10 s).
//
// Besides the syncs' percentiles it reports slow-%, the share of syncs
// over a millisecond, and with two files together-%, the share of slow
// syncs during which the other file's sync was slow too, next to
// chance-%, what together-% would be if the two files' slow syncs came
// independently of each other.
//
// The files live where BenchmarkDiskSync's file does (PLAZA_BENCH_DIR).
func BenchmarkDiskSyncPaced(b *testing.B) {
	for _, files := range []int{1, 2} {
		b.Run(fmt.Sprintf("files=%d", files), func(b *testing.B) {
			benchDiskSyncPaced(b, files, 1000)
		})
	}
}

// slowSync is the line between a quick and a slow sync: three to seven
// times a sync's median on the days measured on this project's machine.
const slowSync = time.Millisecond

// syncSpan is one sync, from the start of its write to its return.
type syncSpan struct{ start, end time.Duration }

func benchDiskSyncPaced(b *testing.B, files int, rate float64) {
	dir := benchDir(b)
	page := make([]byte, 12*4096)
	const wrap = 32 << 20 // as in BenchmarkDiskSync
	perFile := max(1, b.N/files)
	// Each file is written to its full size and synced before the clock
	// starts, so that every timed sync overwrites, as the log's do once
	// it has grown: a sync that also grows the file commits its new size
	// through the file system's journal and is slower.
	fs := make([]*os.File, files)
	for i := range files {
		f, err := presized(filepath.Join(dir, fmt.Sprintf("paced%d.bin", i)), wrap)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		fs[i] = f
	}
	// Each file keeps its own pace, rate/files a second, so the disk
	// sees rate syncs a second in all; file i starts i/files of a tick
	// after file 0, so that the files' syncs are spread over the tick
	// rather than issued in pairs.
	tick := time.Duration(float64(time.Second) * float64(files) / rate)
	spans := make([][]syncSpan, files)
	errs := make([]error, files)
	t0 := time.Now()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, f := range fs {
		start := t0.Add(tick * time.Duration(i) / time.Duration(files))
		wg.Go(func() { spans[i], errs[i] = pacedSyncs(f, page, wrap, perFile, start, tick, t0) })
	}
	wg.Wait()
	b.StopTimer()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}

	var all []time.Duration
	slow := 0
	for _, ss := range spans {
		for _, s := range ss {
			d := s.end - s.start
			all = append(all, d)
			if d > slowSync {
				slow++
			}
		}
	}
	slices.Sort(all)
	at := func(q float64) float64 { return float64(all[int(q*float64(len(all)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(at(0.999), "p99.9-µs")
	b.ReportMetric(100*float64(slow)/float64(len(all)), "slow-%")
	if files == 2 && slow > 0 {
		together, chance := slowTogether(spans[0], spans[1])
		b.ReportMetric(together, "together-%")
		b.ReportMetric(chance, "chance-%")
	}
}

// presized creates the file at name, size bytes long and synced.
func presized(name string, size int) (*os.File, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(make([]byte, size)); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// pacedSyncs writes page to f and syncs it n times, one every tick from
// start, and returns each sync's span measured from t0. A sync that ends
// late is followed at once by the next, as queued commits would be. Go's
// sleeps can wake up to about a millisecond late on a busy machine, so
// the pace is steady on average rather than to the microsecond.
func pacedSyncs(f *os.File, page []byte, wrap int64, n int, start time.Time, tick time.Duration, t0 time.Time) ([]syncSpan, error) {
	spans := make([]syncSpan, 0, n)
	next := start
	var off int64
	for range n {
		time.Sleep(time.Until(next))
		next = next.Add(tick)
		s := time.Since(t0)
		if _, err := f.WriteAt(page, off); err != nil {
			return nil, err
		}
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			return nil, err
		}
		spans = append(spans, syncSpan{s, time.Since(t0)})
		off = (off + int64(len(page))) % wrap
	}
	return spans, nil
}

// slowTogether returns, in percent, the share of the slow syncs of
// either file during which the other file also had a slow sync under
// way, and what that share would be were the two files' slow syncs
// independent: for a slow sync of length L, among the other file's k
// slow syncs of total length T in a run of length R, the chance that
// one of them falls across it is about (k·L + T) / R.
func slowTogether(a, b []syncSpan) (together, chance float64) {
	slowOf := func(ss []syncSpan) (out []syncSpan, total time.Duration) {
		for _, s := range ss {
			if d := s.end - s.start; d > slowSync {
				out = append(out, s)
				total += d
			}
		}
		return out, total
	}
	sa, ta := slowOf(a)
	sb, tb := slowOf(b)
	if len(a) == 0 || len(b) == 0 || len(sa)+len(sb) == 0 {
		return 0, 0
	}
	run := float64(max(a[len(a)-1].end, b[len(b)-1].end) - min(a[0].start, b[0].start))
	n, expect := 0, 0.0
	count := func(mine, others []syncSpan, othersTotal time.Duration) {
		for _, s := range mine {
			// others is in time order and its spans do not overlap: the
			// first that ends after s starts is the earliest that can
			// overlap s, and if it starts after s ends no later one does.
			i, _ := slices.BinarySearchFunc(others, s.start, func(o syncSpan, t time.Duration) int {
				if o.end <= t {
					return -1
				}
				return 1
			})
			if i < len(others) && others[i].start < s.end {
				n++
			}
			expect += min(1, (float64(len(others))*float64(s.end-s.start)+float64(othersTotal))/run)
		}
	}
	count(sa, sb, tb)
	count(sb, sa, ta)
	all := float64(len(sa) + len(sb))
	return 100 * float64(n) / all, 100 * expect / all
}

func TestSlowTogether(t *testing.T) {
	ms := func(a, b float64) syncSpan {
		return syncSpan{time.Duration(a * float64(time.Millisecond)), time.Duration(b * float64(time.Millisecond))}
	}
	// a's slow sync at 0–2 ms meets b's at 1–3 ms; b's at 20–25 ms meets
	// only a quick one of a's; a's at 40–42 ms falls between b's at 30–35
	// and 50–52 ms and meets neither; the quick ones do not count.
	a := []syncSpan{ms(0, 2), ms(10, 10.1), ms(21, 21.5), ms(40, 42), ms(99.5, 100)}
	b := []syncSpan{ms(1, 3), ms(20, 25), ms(30, 35), ms(50, 52), ms(99.5, 100)}
	together, chance := slowTogether(a, b)
	if want := 100 * 2.0 / 6; together < want-0.01 || together > want+0.01 {
		t.Errorf("together = %.2f%%, want %.2f%%", together, want)
	}
	// The run is 100 ms. a's two slow syncs (2 ms each) against b's four
	// (2 + 5 + 5 + 2 = 14 ms): (4·2 + 14)/100 each. b's four against a's
	// two (4 ms): (2·L + 4)/100 for L = 2, 5, 5, 2. Mean of the six, in
	// percent: (22 + 22 + 8 + 14 + 14 + 8)/6.
	if want := (22.0 + 22 + 8 + 14 + 14 + 8) / 6; chance < want-0.01 || chance > want+0.01 {
		t.Errorf("chance = %.2f%%, want %.2f%%", chance, want)
	}
	if together, chance := slowTogether([]syncSpan{ms(0, 0.5)}, []syncSpan{ms(0, 0.5)}); together != 0 || chance != 0 {
		t.Errorf("no slow syncs: together %v, chance %v, want 0, 0", together, chance)
	}
}
