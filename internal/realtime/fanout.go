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
// fanSlot), and each worker takes its jobs in order, so one device's
// frames keep the order they were handed in.
type fanout struct {
	mu    sync.Mutex
	room  *sync.Cond // signalled when a worker takes its jobs
	parts []fanPart
	next  atomic.Uint32
}

type fanPart struct {
	jobs    []fanJob
	running bool
}

type fanJob struct {
	frame []byte
	conns []*Conn
}

// maxFanJobs bounds the frames waiting for one worker: a publisher that
// outpaces the writes waits for them, as it did when it wrote them itself.
const maxFanJobs = 1024

func newFanout() *fanout {
	f := &fanout{parts: make([]fanPart, runtime.GOMAXPROCS(0))}
	f.room = sync.NewCond(&f.mu)
	return f
}

// slot picks the worker of a new device.
func (f *fanout) slot() int { return int(f.next.Add(1) % uint32(len(f.parts))) }

// hand queues frame for conns and returns.
func (f *fanout) hand(frame []byte, conns []*Conn) {
	split := make([][]*Conn, len(f.parts))
	for _, c := range conns {
		split[c.fanSlot] = append(split[c.fanSlot], c)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, cs := range split {
		if len(cs) == 0 {
			continue
		}
		p := &f.parts[i]
		for len(p.jobs) >= maxFanJobs {
			f.room.Wait()
		}
		p.jobs = append(p.jobs, fanJob{frame: frame, conns: cs})
		if !p.running {
			p.running = true
			go f.run(p)
		}
	}
}

// run writes p's jobs until none waits. It touches nothing but the
// streams it writes to, so the hub's Close need not wait for it: a stream
// that has ended takes no frame.
func (f *fanout) run(p *fanPart) {
	for {
		f.mu.Lock()
		jobs := p.jobs
		p.jobs = nil
		p.running = len(jobs) > 0
		f.room.Broadcast()
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
		}
	}
}
