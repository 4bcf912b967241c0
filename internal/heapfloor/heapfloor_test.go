package heapfloor

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercentFor(t *testing.T) {
	const mib = 1 << 20
	cases := []struct {
		name              string
		floor, live, scan uint64
		base, want        int
	}{
		{"before the first collection", 64 * mib, 0, 0, 100, 1600},
		{"small live heap", 64 * mib, 10 * mib, 0, 100, 540},
		{"stacks and globals count", 64 * mib, 10 * mib, 2 * mib, 100, 450},
		{"the heap minimum binds below 4 MiB", 64 * mib, 1 * mib, 0, 100, 1600},
		{"a floor below the heap minimum", 2 * mib, 0, 0, 100, 100},
		{"live heap above half the floor", 64 * mib, 40 * mib, 0, 100, 100},
		{"live heap above the floor", 64 * mib, 80 * mib, 0, 100, 100},
		{"a larger GOGC is kept", 64 * mib, 10 * mib, 0, 800, 800},
		{"a huge floor is bounded", 1 << 50, 1 << 30, 0, 100, maxPercent},
	}
	for _, c := range cases {
		if got := percentFor(c.floor, c.live, c.scan, c.base); got != c.want {
			t.Errorf("%s: percentFor(%d, %d, %d, %d) = %d, want %d", c.name, c.floor, c.live, c.scan, c.base, got, c.want)
		}
	}
}

// churn allocates total bytes of short-lived garbage and returns how many
// collections ran meanwhile.
func churn(total int) uint64 {
	before := cycles()
	var keep []byte
	for n := 0; n < total; n += 64 << 10 {
		keep = make([]byte, 64<<10)
		keep[0] = byte(n)
	}
	runtime.KeepAlive(keep)
	return cycles() - before
}

// settle collects until GOGC satisfies ok, or for 5 s, and returns it. A
// retune runs on the runtime's cleanup goroutine some time after the
// collection that prompts it, and Start's own first guess uses the heap
// the last collection marked, which objects allocated while it marked
// inflate.
func settle(ok func(gogc int) bool) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		g := readGOGC()
		if ok(g) || time.Now().After(deadline) {
			return g
		}
		time.Sleep(time.Millisecond)
	}
}

func cycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestFloorCollectsLessOften counts collections, not time: 512 MiB of
// garbage over a live heap of a few MiB takes dozens of collections at
// GOGC=100 and only a handful with a 64 MiB floor.
func TestFloorCollectsLessOften(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	// A GOMEMLIMIT from the environment would cap the goal below the floor.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	runtime.GC()
	without := churn(512 << 20)

	stop := Start(64 << 20)
	if got := settle(func(g int) bool { return g > 100 }); got <= 100 {
		t.Fatalf("small heap under a 64 MiB floor: GOGC = %d, want above 100", got)
	}
	with := churn(512 << 20)
	stop()

	t.Logf("collections over 512 MiB of garbage: %d without the floor, %d with it", without, with)
	if without < 40 {
		t.Fatalf("without the floor only %d collections: the live heap is not small enough for this test", without)
	}
	if with > 16 {
		t.Errorf("with a 64 MiB floor %d collections, want at most 16 (about 512/60)", with)
	}
	if got := readGOGC(); got != 100 {
		t.Errorf("after stop GOGC = %d, want 100 again", got)
	}
}

// TestFloorGivesWayToALargeHeap keeps a live heap above the floor: GOGC
// goes back to its base, so a large server pays no memory for the floor.
func TestFloorGivesWayToALargeHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	stop := Start(16 << 20)
	defer stop()
	if got := settle(func(g int) bool { return g > 100 }); got <= 100 {
		t.Fatalf("small heap under a 16 MiB floor: GOGC = %d, want above 100", got)
	}
	live := make([][]byte, 32)
	for i := range live {
		live[i] = make([]byte, 1<<20)
	}
	if got := settle(func(g int) bool { return g == 100 }); got != 100 {
		t.Errorf("32 MiB live under a 16 MiB floor: GOGC = %d, want 100", got)
	}
	runtime.KeepAlive(live)
}

// TestFloorsTogether starts two floors: the larger holds until it stops,
// and the base comes back only when both have. A floor of F never asks for
// more than F/4 MiB·100 (the runtime's heap minimum would pass F), so an
// 8 MiB floor means at most 200, and a 256 MiB one over a small heap more.
func TestFloorsTogether(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	runtime.GC()
	// The checks below assume a live heap well under 4 MiB, as a test
	// binary's is: there the heap minimum sets the small floor's GOGC.
	live, scan := readHeap()
	t.Logf("live heap %d bytes, stacks and globals %d", live, scan)
	stopSmall := Start(8 << 20)
	if got := readGOGC(); got > 200 {
		t.Errorf("GOGC with an 8 MiB floor = %d, want at most 200", got)
	}
	stopLarge := Start(256 << 20)
	if got := readGOGC(); got <= 200 {
		t.Errorf("GOGC with floors of 8 and 256 MiB = %d, want the larger floor's, above 200", got)
	}
	stopLarge()
	if got := readGOGC(); got > 200 {
		t.Errorf("after the larger floor stopped GOGC = %d, want the 8 MiB floor's, at most 200", got)
	}
	stopLarge() // idempotent: must not remove the other floor
	if got := settle(func(g int) bool { return g > 100 && g <= 200 }); got <= 100 || got > 200 {
		t.Errorf("after a second stop of the larger floor GOGC = %d, want the 8 MiB floor's, 101–200", got)
	}
	stopSmall()
	if got := readGOGC(); got != 100 {
		t.Errorf("after both stopped GOGC = %d, want 100", got)
	}
}

// TestBaseGOGCKept: an operator's GOGC above 100 is the least the floor
// sets, and what comes back when it stops.
func TestBaseGOGCKept(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(300))
	runtime.GC()
	stop := Start(8 << 20) // asks for at most 200
	if got := readGOGC(); got != 300 {
		t.Errorf("GOGC=300 under an 8 MiB floor: GOGC = %d, want 300 kept", got)
	}
	stop()
	stop = Start(256 << 20)
	if got := settle(func(g int) bool { return g > 300 }); got <= 300 {
		t.Errorf("GOGC=300 under a 256 MiB floor: GOGC = %d, want above 300", got)
	}
	stop()
	if got := readGOGC(); got != 300 {
		t.Errorf("after stop GOGC = %d, want 300 again", got)
	}
}

// TestGOGCOffIsLeftAlone: an operator who turned the collector off keeps
// it off.
func TestGOGCOffIsLeftAlone(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	stop := Start(64 << 20)
	defer stop()
	if got := readGOGC(); got != -1 {
		t.Errorf("GOGC = %d under a floor, want -1 (off) kept", got)
	}
}
