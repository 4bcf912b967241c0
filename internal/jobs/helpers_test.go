package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/jobs"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// clock is a test clock that moves only when told to; queues that share
// one agree on what is due.
type clock struct{ us atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.us.Store(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).UnixMicro())
	return c
}

func (c *clock) Now() time.Time          { return time.UnixMicro(c.us.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.us.Add(d.Microseconds()) }

// testConfig polls often so that tests never wait for a poll.
func testConfig() jobs.Config {
	return jobs.Config{Lease: time.Minute, Poll: 5 * time.Millisecond, Backoff: time.Second, MaxBackoff: time.Minute, MaxAttempts: 3, Workers: 2}
}

// runner is a running queue with a count of its looks for due jobs.
type runner struct {
	q      *jobs.Queue
	rounds atomic.Int64
	stop   func()
}

// startQueue makes a queue on db with cfg and clk (nil: the real clock),
// lets register add its handlers, runs it and stops it at cleanup. opts
// run before Run, for test hooks.
func startQueue(tb testing.TB, db *sqldb.DB, cfg jobs.Config, clk *clock, register func(q *jobs.Queue), opts ...func(q *jobs.Queue)) *runner {
	tb.Helper()
	q := jobs.New(db, cfg, slog.New(slog.DiscardHandler))
	r := &runner{q: q}
	if clk != nil {
		jobs.SetClock(q, clk.Now)
	}
	jobs.OnRound(q, func(int) { r.rounds.Add(1) })
	for _, o := range opts {
		o(q)
	}
	register(q)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Run(ctx)
	}()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	tb.Cleanup(r.stop)
	return r
}

// settle waits until the queue has made two whole looks for due jobs
// after the call, so anything due by then has been claimed.
func (r *runner) settle(tb testing.TB) {
	tb.Helper()
	want := r.rounds.Load() + 2
	plazatest.Eventually(tb, 30*time.Second, func() error {
		r.q.Wake()
		if got := r.rounds.Load(); got < want {
			return fmt.Errorf("got %d rounds, want %d", got, want)
		}
		return nil
	})
}

// waitJob polls until the job with id satisfies ok.
func waitJob(tb testing.TB, q *jobs.Queue, id plaza.ID, what string, ok func(j jobs.Job, err error) bool) jobs.Job {
	tb.Helper()
	var last jobs.Job
	plazatest.Eventually(tb, 30*time.Second, func() error {
		j, err := q.Get(context.Background(), id)
		last = j
		if ok(j, err) {
			return nil
		}
		return fmt.Errorf("job %s: got %+v (err %v), want %s", id, j, err, what)
	})
	return last
}

// waitGone polls until the job with id has finished (its row is deleted).
func waitGone(tb testing.TB, q *jobs.Queue, id plaza.ID) {
	tb.Helper()
	waitJob(tb, q, id, "finished", func(_ jobs.Job, err error) bool { return plaza.ErrorCode(err) == plaza.ENotFound })
}

// enqueue adds a job and fails the test on an error.
func enqueue(tb testing.TB, q *jobs.Queue, s jobs.Spec) plaza.ID {
	tb.Helper()
	id, err := q.Enqueue(context.Background(), nil, s)
	if err != nil {
		tb.Fatalf("enqueue %+v: %v", s, err)
	}
	return id
}

// counter counts the runs of each job.
type counter struct {
	mu   sync.Mutex
	runs map[plaza.ID]int
}

func (c *counter) add(id plaza.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runs == nil {
		c.runs = map[plaza.ID]int{}
	}
	c.runs[id]++
}

func (c *counter) get(id plaza.ID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[id]
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.runs {
		n += v
	}
	return n
}

var errBoom = errors.New("boom")
