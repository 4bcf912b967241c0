package realtime

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// fanout hands a frame meant for many devices (a followed channel's or
// author's post) to them from one goroutine per core, started while work
// waits. A device with nothing queued has the frame written there and
// then (Conn.offerNow); on a large fan-out that costs less than starting
// a goroutine for each device, and the publisher's call returns without
// waiting for the hand-over. Each device belongs to one worker (its
// fanSlot), and each worker takes its jobs in the order handed over, so
// one device's frames keep the order one publisher handed them in.
//
// hand never waits: it runs in bus handlers that must not block. What
// waits for a worker is bounded by devices (maxFanPending): past that the
// worker is far behind, and the frame goes to each device's own bounded
// queue at once (Conn.offer), where a device that does not keep up is
// disconnected as for any frame. Such a frame may overtake the ones still
// waiting for the worker.
type fanout struct {
	mu    sync.Mutex
	parts []fanPart
	next  atomic.Uint32
	limit int // maxFanPending; tests lower it
}

type fanPart struct {
	jobs    []fanJob
	pending int // devices handed over and not yet written to
	running bool
}

type fanJob struct {
	frame []byte
	conns []*Conn
}

// maxFanPending bounds the devices waiting for one worker: about 8 MiB
// of pointers, and seconds of writes.
const maxFanPending = 1 << 20

func newFanout() *fanout {
	return &fanout{parts: make([]fanPart, runtime.GOMAXPROCS(0)), limit: maxFanPending}
}

// slot picks the worker of a new device.
func (f *fanout) slot() int { return int(f.next.Add(1) % uint32(len(f.parts))) }

// hand queues frame for conns and returns.
func (f *fanout) hand(frame []byte, conns []*Conn) {
	split := make([][]*Conn, len(f.parts))
	for _, c := range conns {
		split[c.fanSlot] = append(split[c.fanSlot], c)
	}
	var over [][]*Conn
	f.mu.Lock()
	for i, cs := range split {
		if len(cs) == 0 {
			continue
		}
		p := &f.parts[i]
		if p.pending+len(cs) > f.limit {
			over = append(over, cs)
			continue
		}
		p.jobs = append(p.jobs, fanJob{frame: frame, conns: cs})
		p.pending += len(cs)
		if !p.running {
			p.running = true
			go f.run(p)
		}
	}
	f.mu.Unlock()
	for _, cs := range over {
		for _, c := range cs {
			c.offer(item{frame: frame})
		}
	}
}

// run writes p's jobs until none waits. It touches nothing but the
// streams it writes to (a stream that ends meanwhile is released on a
// goroutine of its own, see offerNow), so the hub's Close need not wait
// for it: a stream that has ended takes no frame.
func (f *fanout) run(p *fanPart) {
	for {
		f.mu.Lock()
		jobs := p.jobs
		p.jobs = nil
		p.running = len(jobs) > 0
		f.mu.Unlock()
		if len(jobs) == 0 {
			return
		}
		for _, j := range jobs {
			for _, c := range j.conns {
				if !c.offerNow(j.frame) {
					c.offer(item{frame: j.frame})
				}
			}
			f.mu.Lock()
			p.pending -= len(j.conns)
			f.mu.Unlock()
		}
	}
}
