package bus_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/bus"
)

// These tests cover what only the Local bus can get wrong: it runs
// handlers in goroutines of its own, started and ended as events come.

func TestLocalHandlerPublishes(t *testing.T) {
	t.Parallel()
	b := bus.NewLocal("test")
	defer b.Close()
	r := newRecorder()
	// A handler that publishes on its own subject must neither deadlock
	// nor recurse: its event is delivered after it returns, in order.
	_, err := b.Subscribe("chain", func(data []byte) {
		r.handle(data)
		if n, _ := strconv.Atoi(string(data)); n < 5 {
			if err := b.Publish(context.Background(), "chain", []byte(strconv.Itoa(n+1))); err != nil {
				t.Errorf("Publish from handler: %v", err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, b, "chain", "0")
	if got, want := r.wait(t, 6), []string{"0", "1", "2", "3", "4", "5"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLocalHandlerPanics(t *testing.T) {
	t.Parallel()
	b := bus.NewLocal("test")
	defer b.Close()
	r := newRecorder()
	_, err := b.Subscribe("p", func(data []byte) {
		if string(data) == "boom" {
			panic("handler failed")
		}
		r.handle(data)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The panic is the handler's own: the publisher does not see it, and
	// the subscription goes on.
	publish(t, b, "p", "boom")
	publish(t, b, "p", "after")
	if got, want := r.wait(t, 1), []string{"after"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLocalSlowSubscriberDrops(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	b := bus.NewLocal("test", bus.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	defer b.Close()
	var losses atomic.Int64
	b.OnLoss(func(l bus.Loss) {
		if l == bus.LossDropped {
			losses.Add(1)
		}
	})

	entered, release := make(chan struct{}), make(chan struct{})
	var n atomic.Int64
	_, err := b.Subscribe("slow", func(data []byte) {
		if string(data) == "first" {
			close(entered)
			<-release
		}
		n.Add(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Publish returns while the handler is still busy with the event.
	publish(t, b, "slow", "first")
	<-entered

	// The handler is busy: these queue, and past the limit they are
	// dropped, with one log line for the episode.
	const limit, extra = 1 << 16, 100
	for range limit + extra {
		publish(t, b, "slow", "queued")
	}
	close(release)

	want := int64(1 + limit)
	deadline := time.Now().Add(waitTimeout)
	for n.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	b.Close() // waits for the handler
	if got := n.Load(); got != want {
		t.Errorf("handled %d events, want %d", got, want)
	}
	if got := strings.Count(logs.String(), "dropping events"); got != 1 {
		t.Errorf("logged %d drop warnings, want 1:\n%s", got, logs.String())
	}
	if got := losses.Load(); got != 2 {
		t.Errorf("reported %d losses, want 2 (the episode's start and end)", got)
	}
}

// A slow subscriber must not hold up the publisher: the chat writer
// publishes after each commit, and every sender waits on it.
func TestLocalSlowSubscriberDoesNotBlockPublish(t *testing.T) {
	t.Parallel()
	b := bus.NewLocal("test")
	defer b.Close()
	release := make(chan struct{})
	defer close(release)
	if _, err := b.Subscribe("stuck", func([]byte) { <-release }); err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	if _, err := b.Subscribe("other", r.handle); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			publish(t, b, "stuck", "x")
			publish(t, b, "other", "y")
		}
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("Publish waited for a stuck subscriber")
	}
	r.wait(t, 100) // and other subscribers still get their events
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An Inline handler runs on the publisher's goroutine: by the time Publish
// returns it has run, in publish order, beside queued subscribers of the
// same subject; it may unsubscribe itself; after Unsubscribe and after
// Close it is not called.
func TestLocalInline(t *testing.T) {
	t.Parallel()
	b := bus.NewLocal("test")
	var got []string
	var sub bus.Subscription
	sub, err := b.Subscribe("s", func(data []byte) {
		got = append(got, string(data)) // no lock: Publish runs it on this goroutine
		if string(data) == "stop" {
			if err := sub.Unsubscribe(); err != nil {
				t.Errorf("Unsubscribe from an inline handler: %v", err)
			}
		}
	}, bus.Inline())
	if err != nil {
		t.Fatal(err)
	}
	queued := newRecorder()
	if _, err := b.Subscribe("s", queued.handle); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		publish(t, b, "s", strconv.Itoa(i))
		if len(got) != i+1 || got[i] != strconv.Itoa(i) {
			t.Fatalf("after publishing %d, the inline handler got %q", i, got)
		}
	}
	if n := len(queued.wait(t, 100)); n != 100 {
		t.Fatalf("the queued subscriber got %d events, want 100", n)
	}
	publish(t, b, "s", "stop")
	publish(t, b, "s", "after")
	if last := got[len(got)-1]; last != "stop" {
		t.Fatalf("the inline handler got %q after unsubscribing", last)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

// Close waits for inline handlers that are running.
func TestLocalCloseWaitsForInline(t *testing.T) {
	t.Parallel()
	b := bus.NewLocal("test")
	entered, release := make(chan struct{}), make(chan struct{})
	var done atomic.Bool
	if _, err := b.Subscribe("s", func([]byte) {
		close(entered)
		<-release
		done.Store(true)
	}, bus.Inline()); err != nil {
		t.Fatal(err)
	}
	go func() { _ = b.Publish(context.Background(), "s", []byte("x")) }()
	<-entered
	closed := make(chan struct{})
	go func() {
		_ = b.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while an inline handler ran")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-closed
	if !done.Load() {
		t.Fatal("Close returned before the handler finished")
	}
}
