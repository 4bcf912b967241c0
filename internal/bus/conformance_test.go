package bus_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/bus"
)

// natsEnv names the variable that points the NATS tests at a server.
const natsEnv = "PLAZA_TEST_NATS"

// waitTimeout bounds every wait for events; a healthy run takes
// milliseconds, a failing one fails here instead of hanging.
const waitTimeout = 15 * time.Second

// An impl is one Bus implementation under test.
type impl struct {
	name string
	// open returns a bus on prefix, closed when the test ends.
	open func(tb testing.TB, prefix string) bus.Bus
	// shared tells whether two buses on one prefix see each other's
	// events: true for NATS, false for Local (each is alone in its process).
	shared bool
}

func localImpl() impl {
	return impl{
		name: "local",
		open: func(tb testing.TB, prefix string) bus.Bus {
			b := bus.NewLocal(prefix, bus.WithLogger(quietLogger()))
			tb.Cleanup(func() { _ = b.Close() })
			return b
		},
	}
}

func natsImpl(url string) impl {
	return impl{
		name: "nats",
		open: func(tb testing.TB, prefix string) bus.Bus {
			tb.Helper()
			b, err := bus.OpenNATS(url, prefix, bus.WithLogger(quietLogger()))
			if err != nil {
				tb.Fatalf("OpenNATS(%q): %v", url, err)
			}
			tb.Cleanup(func() { _ = b.Close() })
			return b
		},
		shared: true,
	}
}

// natsURL returns the server to test against, or skips the test.
func natsURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv(natsEnv)
	if url == "" {
		tb.Skipf("NATS tests need a server: run with %s=nats://127.0.0.1:4222", natsEnv)
	}
	return url
}

// quietLogger drops log lines: the bus logs from its own goroutines,
// possibly after a test ends, when tb.Log would panic.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// uniquePrefix keeps concurrent test runs on one NATS server apart.
func uniquePrefix(tb testing.TB) string {
	tb.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	return "plazatest_" + hex.EncodeToString(b[:])
}

func TestLocal(t *testing.T) {
	t.Parallel()
	testBus(t, localImpl())
}

func TestNATS(t *testing.T) {
	t.Parallel()
	testBus(t, natsImpl(natsURL(t)))
}

// Inline subscriptions take another way on NATS (shared goroutines
// rather than one per subscription): they keep the same promises.
func TestNATSInline(t *testing.T) {
	t.Parallel()
	im := natsImpl(natsURL(t))
	open := im.open
	im.open = func(tb testing.TB, prefix string) bus.Bus { return inlineBus{open(tb, prefix)} }
	testBus(t, im)
}

// inlineBus subscribes every handler with bus.Inline.
type inlineBus struct{ bus.Bus }

func (b inlineBus) Subscribe(subject string, handler func([]byte), opts ...bus.SubscribeOption) (bus.Subscription, error) {
	return b.Bus.Subscribe(subject, handler, append(opts, bus.Inline())...)
}

// testBus checks that im keeps the promises of bus.Bus.
func testBus(t *testing.T, im impl) {
	ctx := context.Background()
	open := func(t *testing.T) bus.Bus { return im.open(t, uniquePrefix(t)) }

	t.Run("every subscriber gets every event", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		recs := []*recorder{newRecorder(), newRecorder(), newRecorder()}
		for _, r := range recs {
			subscribe(t, b, "room.1", r)
		}
		publish(t, b, "room.1", "hello", "world")
		for i, r := range recs {
			if got, want := r.wait(t, 2), []string{"hello", "world"}; !slices.Equal(got, want) {
				t.Errorf("subscriber %d: got %q, want %q", i, got, want)
			}
		}
	})

	t.Run("no delivery after unsubscribe", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		gone, stays := newRecorder(), newRecorder()
		sub := subscribe(t, b, "x", gone)
		subscribe(t, b, "x", stays)
		publish(t, b, "x", "before")
		gone.wait(t, 1)
		if err := sub.Unsubscribe(); err != nil {
			t.Fatalf("Unsubscribe: %v", err)
		}
		if err := sub.Unsubscribe(); err != nil {
			t.Errorf("second Unsubscribe: got %v, want nil", err)
		}
		publish(t, b, "x", "after")
		// The event reached stays, so it was past gone's subscription.
		if got, want := stays.wait(t, 2), []string{"before", "after"}; !slices.Equal(got, want) {
			t.Errorf("remaining subscriber: got %q, want %q", got, want)
		}
		if got, want := gone.snapshot(), []string{"before"}; !slices.Equal(got, want) {
			t.Errorf("unsubscribed: got %q, want %q", got, want)
		}
	})

	t.Run("one publisher's events arrive in order", func(t *testing.T) {
		t.Parallel()
		const n = 10_000
		b := open(t)
		recs := []*recorder{newRecorder(), newRecorder(), newRecorder()}
		for _, r := range recs {
			subscribe(t, b, "ordered", r)
		}
		for i := range n {
			if err := b.Publish(ctx, "ordered", []byte(strconv.Itoa(i))); err != nil {
				t.Fatalf("Publish %d: %v", i, err)
			}
		}
		for s, r := range recs {
			got := r.wait(t, n)
			if len(got) != n {
				t.Fatalf("subscriber %d: got %d events, want %d", s, len(got), n)
			}
			for i, e := range got {
				if e != strconv.Itoa(i) {
					t.Fatalf("subscriber %d: event %d is %q, want %q", s, i, e, strconv.Itoa(i))
				}
			}
		}
	})

	t.Run("subjects are isolated", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		a, ab, other := newRecorder(), newRecorder(), newRecorder()
		subscribe(t, b, "a", a)
		subscribe(t, b, "a.b", ab)
		subscribe(t, b, "b", other)
		publish(t, b, "b", "b1", "b2")
		publish(t, b, "a.b", "ab1")
		// Published last on the same connection: a leak to "a" would
		// arrive before it.
		publish(t, b, "a", "a1")
		other.wait(t, 2)
		ab.wait(t, 1)
		if got, want := a.wait(t, 1), []string{"a1"}; !slices.Equal(got, want) {
			t.Errorf(`subscriber of "a": got %q, want %q`, got, want)
		}
		if got, want := ab.snapshot(), []string{"ab1"}; !slices.Equal(got, want) {
			t.Errorf(`subscriber of "a.b": got %q, want %q`, got, want)
		}
	})

	t.Run("buses on one prefix share events", func(t *testing.T) {
		if !im.shared {
			t.Skip("a Local bus is alone in its process")
		}
		t.Parallel()
		prefix := uniquePrefix(t)
		b1, b2 := im.open(t, prefix), im.open(t, prefix)
		r1, r2 := newRecorder(), newRecorder()
		// No flush between Subscribe and Publish: Subscribe returns only
		// when the subscription is in place on the server.
		subscribe(t, b1, "acct.7", r1)
		subscribe(t, b2, "acct.7", r2)
		publish(t, b1, "acct.7", "from 1")
		if got, want := r2.wait(t, 1), []string{"from 1"}; !slices.Equal(got, want) {
			t.Errorf("other bus: got %q, want %q", got, want)
		}
		publish(t, b2, "acct.7", "from 2")
		if got, want := r1.wait(t, 2), []string{"from 1", "from 2"}; !slices.Equal(got, want) {
			t.Errorf("publishing bus: got %q, want %q", got, want)
		}
	})

	t.Run("prefixes are isolated", func(t *testing.T) {
		t.Parallel()
		b1, b2 := open(t), open(t)
		r1, r2 := newRecorder(), newRecorder()
		subscribe(t, b1, "x", r1)
		subscribe(t, b2, "x", r2)
		// Each flush pair makes the server pass a leaked event to the
		// other connection before that bus publishes its next event, so a
		// leak would show up ahead of the bus's own events.
		publish(t, b1, "x", "1a")
		flush(t, b1, b2)
		publish(t, b2, "x", "2a")
		flush(t, b2, b1)
		publish(t, b1, "x", "1b")
		flush(t, b1, b2)
		publish(t, b2, "x", "2b")
		if got, want := r1.wait(t, 2), []string{"1a", "1b"}; !slices.Equal(got, want) {
			t.Errorf("first prefix: got %q, want %q", got, want)
		}
		if got, want := r2.wait(t, 2), []string{"2a", "2b"}; !slices.Equal(got, want) {
			t.Errorf("second prefix: got %q, want %q", got, want)
		}
	})

	t.Run("handler may unsubscribe itself", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		subc := make(chan bus.Subscription, 1)
		once := newRecorder()
		sub, err := b.Subscribe("y", func(data []byte) {
			once.handle(data)
			select {
			case s := <-subc:
				if err := s.Unsubscribe(); err != nil {
					once.handle([]byte("Unsubscribe: " + err.Error()))
				}
			default: // unsubscribed already; an event was still on its way
			}
		})
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		subc <- sub
		all := newRecorder()
		subscribe(t, b, "y", all)
		publish(t, b, "y", "1", "2", "3")
		all.wait(t, 3)
		// Subscriptions are delivered on their own goroutines (NATS): the
		// other subscriber having all three says nothing about this one yet.
		once.wait(t, 1)
		if got, want := once.snapshot(), []string{"1"}; !slices.Equal(got, want) {
			t.Errorf("self-unsubscribing handler: got %q, want %q", got, want)
		}
	})

	t.Run("publish ignores a done context", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		r := newRecorder()
		subscribe(t, b, "z", r)
		done, cancel := context.WithCancel(ctx)
		cancel()
		if err := b.Publish(done, "z", []byte("committed")); err != nil {
			t.Fatalf("Publish with a done context: %v", err)
		}
		r.wait(t, 1)
	})

	t.Run("invalid subjects", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		for _, s := range []string{"", " ", "a b", "a\tb", "a\n", ".a", "a.", "a..b", "*", "a.*", "a.>", ">", "a*b"} {
			if err := b.Publish(ctx, s, []byte("x")); err == nil {
				t.Errorf("Publish(%q): got nil error, want one", s)
			}
			if sub, err := b.Subscribe(s, func([]byte) {}); err == nil {
				t.Errorf("Subscribe(%q): got nil error, want one", s)
				_ = sub.Unsubscribe()
			}
		}
		if _, err := b.Subscribe("ok", nil); err == nil {
			t.Error("Subscribe with a nil handler: got nil error, want one")
		}
	})

	t.Run("closed bus", func(t *testing.T) {
		t.Parallel()
		b := open(t)
		r := newRecorder()
		sub := subscribe(t, b, "c", r)
		publish(t, b, "c", "open")
		r.wait(t, 1)
		if err := b.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := b.Publish(ctx, "c", []byte("closed")); !errors.Is(err, bus.ErrClosed) {
			t.Errorf("Publish after Close: got %v, want ErrClosed", err)
		}
		if _, err := b.Subscribe("c", r.handle); !errors.Is(err, bus.ErrClosed) {
			t.Errorf("Subscribe after Close: got %v, want ErrClosed", err)
		}
		if err := sub.Unsubscribe(); err != nil {
			t.Errorf("Unsubscribe after Close: got %v, want nil", err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("second Close: got %v, want nil", err)
		}
		if got, want := r.snapshot(), []string{"open"}; !slices.Equal(got, want) {
			t.Errorf("subscriber: got %q, want %q", got, want)
		}
	})

	t.Run("concurrent publishers and subscribers", func(t *testing.T) {
		t.Parallel()
		const (
			publishers = 4
			perSubject = 500
		)
		subjects := []string{"c.0", "c.1", "c.2"}
		b := open(t)

		// One steady subscriber per subject sees everything; its handler
		// also checks that it never runs twice at once.
		var overlaps atomic.Int64
		steady := make([]*recorder, len(subjects))
		for i, s := range subjects {
			r := newRecorder()
			steady[i] = r
			var running atomic.Int32
			if _, err := b.Subscribe(s, func(data []byte) {
				if running.Add(1) != 1 {
					overlaps.Add(1)
				}
				r.handle(data)
				running.Add(-1)
			}); err != nil {
				t.Fatalf("Subscribe(%q): %v", s, err)
			}
		}

		// Others come and go meanwhile.
		stop := make(chan struct{})
		var churn sync.WaitGroup
		for c := range 2 {
			churn.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					sub, err := b.Subscribe(subjects[(c+i)%len(subjects)], func([]byte) {})
					if err != nil {
						t.Errorf("churn Subscribe: %v", err)
						return
					}
					if err := sub.Unsubscribe(); err != nil {
						t.Errorf("churn Unsubscribe: %v", err)
						return
					}
				}
			})
		}

		var pubs sync.WaitGroup
		for p := range publishers {
			pubs.Go(func() {
				for j := range perSubject {
					for _, s := range subjects {
						if err := b.Publish(ctx, s, fmt.Appendf(nil, "%d:%d", p, j)); err != nil {
							t.Errorf("Publish: %v", err)
							return
						}
					}
				}
			})
		}
		pubs.Wait()
		close(stop)
		churn.Wait()

		for i, r := range steady {
			got := r.wait(t, publishers*perSubject)
			next := make([]int, publishers) // each publisher's next event
			for _, e := range got {
				var p, j int
				if _, err := fmt.Sscanf(e, "%d:%d", &p, &j); err != nil || p < 0 || p >= publishers {
					t.Fatalf("subject %s: unexpected event %q", subjects[i], e)
				}
				if j != next[p] {
					t.Fatalf("subject %s: publisher %d: got event %d, want %d", subjects[i], p, j, next[p])
				}
				next[p]++
			}
		}
		if n := overlaps.Load(); n != 0 {
			t.Errorf("handlers of one subscription overlapped %d times, want 0", n)
		}
	})
}

func TestOpen(t *testing.T) {
	t.Parallel()
	prefix := uniquePrefix(t)
	for _, url := range []string{"", "local"} {
		b, err := bus.Open(url, prefix)
		if err != nil {
			t.Fatalf("Open(%q): %v", url, err)
		}
		if _, ok := b.(*bus.Local); !ok {
			t.Errorf("Open(%q): got %T, want *bus.Local", url, b)
		}
		_ = b.Close()
	}

	for _, url := range []string{"LOCAL", "nats", "redis://127.0.0.1:6379", "http://127.0.0.1:4222", "127.0.0.1:4222"} {
		_, err := bus.Open(url, prefix)
		if err == nil || !strings.Contains(err.Error(), "local") || !strings.Contains(err.Error(), "nats://") {
			t.Errorf("Open(%q): got error %v, want one naming local and nats://", url, err)
		}
	}

	for _, p := range []string{"", "a b", "plaza.", "plaza.*"} {
		if _, err := bus.Open("local", p); err == nil {
			t.Errorf("Open(local, %q): got nil error, want one", p)
		}
	}

	// Nothing listens on port 1: Open fails at once, without the password.
	_, err := bus.Open("nats://plaza:s3cret@127.0.0.1:1", prefix)
	if err == nil {
		t.Error("Open with an unreachable NATS server: got nil error, want one")
	} else if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open error reveals the password: %v", err)
	}

	t.Run("nats", func(t *testing.T) {
		url := natsURL(t)
		b, err := bus.Open(url, prefix)
		if err != nil {
			t.Fatalf("Open(%q): %v", url, err)
		}
		defer b.Close()
		if _, ok := b.(*bus.NATS); !ok {
			t.Errorf("Open(%q): got %T, want *bus.NATS", url, b)
		}
	})
}

// recorder collects the events a handler gets.
type recorder struct {
	mu     sync.Mutex
	events []string
	signal chan struct{} // a token after each event, for wait
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) handle(data []byte) {
	r.mu.Lock()
	r.events = append(r.events, string(data))
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default: // a token is already waiting
	}
}

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// wait returns the events once there are at least n, failing the test if
// they do not come in time.
func (r *recorder) wait(tb testing.TB, n int) []string {
	tb.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		if got := r.snapshot(); len(got) >= n {
			return got
		}
		select {
		case <-r.signal:
		case <-timer.C:
			got := r.snapshot()
			tb.Fatalf("got %d events, want %d (last: %q)", len(got), n, got[max(0, len(got)-3):])
		}
	}
}

func subscribe(tb testing.TB, b bus.Bus, subject string, r *recorder) bus.Subscription {
	tb.Helper()
	sub, err := b.Subscribe(subject, r.handle)
	if err != nil {
		tb.Fatalf("Subscribe(%q): %v", subject, err)
	}
	return sub
}

func publish(tb testing.TB, b bus.Bus, subject string, events ...string) {
	tb.Helper()
	for _, e := range events {
		if err := b.Publish(context.Background(), subject, []byte(e)); err != nil {
			tb.Fatalf("Publish(%q, %q): %v", subject, e, err)
		}
	}
}

// flush waits until the server has passed on what each bus published, for
// buses that have a server.
func flush(tb testing.TB, buses ...bus.Bus) {
	tb.Helper()
	for _, b := range buses {
		if f, ok := b.(interface{ Flush(context.Context) error }); ok {
			if err := f.Flush(context.Background()); err != nil {
				tb.Fatalf("Flush: %v", err)
			}
		}
	}
}
