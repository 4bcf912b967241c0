// Package heapfloor keeps the garbage collector's heap goal from falling
// below a floor while the live heap is small.
//
// Go sets the next collection's goal at the live heap plus GOGC percent of
// it (and of the stacks and globals). A server whose live heap is small
// but which allocates steadily therefore collects often: Plaza at a steady
// 1,000 messages a second keeps about 10 MB live, so the goal is about
// 22 MB and a collection starts every 0.7 s; each marks for 5–16 ms on two
// cores, and a message sent meanwhile waits behind the marking and the
// assists it charges to allocating goroutines. That is most likely part
// of the tail of a durable send at such rates (docs/benchmarks.md).
//
// A floor raises GOGC after each collection just enough that the next goal
// is the floor, and gives it back once GOGC alone would put the goal there
// (at GOGC=100, once the live heap passes about half the floor), so a
// large server (10,000 connections keep about 35 MB live, a goal of about
// 70 MB) uses what GOGC alone would give it. It trades memory that a
// small server has spare for fewer collections; GOMEMLIMIT, when set,
// still caps the heap.
package heapfloor

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// defaultHeapMinimum is the runtime's goal before its first collection at
// GOGC=100; it scales with GOGC. (A runtime built with
// GOEXPERIMENT=heapminimum512kib uses 512 KiB: there a floor under 4 MiB
// of live heap would hold the goal a little lower than asked.)
const defaultHeapMinimum = 4 << 20

// maxPercent bounds the GOGC a floor may ask for, far above any real need
// (a goal ten thousand times the live heap) and well inside an int32.
const maxPercent = 1_000_000

// state is process-wide, as the collector is: one floor is in force, the
// largest of those started and not stopped.
var state struct {
	mu      sync.Mutex
	floors  map[*int]uint64 // one entry per Start not yet stopped
	base    int             // GOGC when the first floor started
	percent int             // what was last set; a SetGCPercent by anyone else is overwritten at the next retune
	armed   bool            // a sentinel awaits the next collection
}

// Start holds the heap goal at floor bytes or more until the returned stop
// is called; stop is idempotent. With GOGC=off, or a floor of 0, it
// changes nothing. Floors started together do not add up: the largest
// holds.
func Start(floor uint64) (stop func()) {
	if floor == 0 {
		return func() {}
	}
	state.mu.Lock()
	defer state.mu.Unlock()
	if len(state.floors) == 0 {
		state.base = readGOGC()
		state.percent = state.base
	}
	if state.base < 0 {
		return func() {}
	}
	key := new(int)
	if state.floors == nil {
		state.floors = make(map[*int]uint64)
	}
	state.floors[key] = floor
	retuneLocked()
	return func() {
		state.mu.Lock()
		defer state.mu.Unlock()
		delete(state.floors, key) // a second stop finds nothing to delete
		retuneLocked()
	}
}

// sentinel is allocated once a cycle so that its cleanup, run after the
// collection that finds it unreachable, says a cycle has ended. It holds a
// pointer so it is never batched by the tiny allocator, whose blocks may
// outlive their objects.
type sentinel struct{ _ *byte }

// armLocked queues a retune for after the next collection.
func armLocked() {
	if state.armed {
		return
	}
	state.armed = true
	runtime.AddCleanup(new(sentinel), func(struct{}) {
		state.mu.Lock()
		defer state.mu.Unlock()
		state.armed = false
		retuneLocked()
	}, struct{}{})
}

// retuneLocked sets GOGC for the floor in force and the heap the last
// collection left, and re-arms while any floor remains.
func retuneLocked() {
	var floor uint64
	for _, f := range state.floors {
		floor = max(floor, f)
	}
	want := state.base
	if floor > 0 {
		live, scan := readHeap()
		want = percentFor(floor, live, scan, state.base)
		armLocked()
	}
	if want != state.percent {
		debug.SetGCPercent(want)
		state.percent = want
	}
}

// percentFor returns the GOGC that puts the next goal at floor, given the
// live heap and the stacks and globals the last collection scanned (0
// before the first one), and never less than base.
//
// The runtime's goal is live + (live+scan)·GOGC/100, but never less than
// its heap minimum, 4 MiB·GOGC/100, which alone sets the goal before the
// first collection. Whichever GOGC brings the larger of the two to the
// floor first is the answer.
func percentFor(floor, live, scan uint64, base int) int {
	p := math.Ceil(float64(floor) * 100 / defaultHeapMinimum)
	if live > 0 && floor > live {
		p = min(p, math.Ceil(float64(floor-live)*100/float64(live+scan)))
	} else if live >= floor {
		p = 0
	}
	return max(int(min(p, maxPercent)), base)
}

// readHeap returns the heap the last collection marked live and the stacks
// and globals it scanned.
func readHeap() (live, scan uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
	metrics.Read(s)
	for _, m := range s {
		if m.Value.Kind() != metrics.KindUint64 {
			continue
		}
		if m.Name == "/gc/heap/live:bytes" {
			live = m.Value.Uint64()
		} else {
			scan += m.Value.Uint64()
		}
	}
	return live, scan
}

// readGOGC returns GOGC as the runtime has it (from the environment or an
// earlier SetGCPercent), -1 for off.
func readGOGC() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 100
	}
	v := s[0].Value.Uint64()
	if v > math.MaxInt32 {
		return -1
	}
	return int(v)
}
