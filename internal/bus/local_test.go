package bus_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/plaza-im/plaza/internal/bus"
)

// These tests cover what only the Local bus can get wrong: it runs
// handlers in publishers' goroutines.

func TestLocalHandlerPublishes(t *testing.T) {
	t.Parallel()
	b := bus.NewLocal("test")
	defer b.Close()
	var got []string
	// A handler that publishes on its own subject must neither deadlock
	// nor recurse: its event is delivered after it returns, in order.
	_, err := b.Subscribe("chain", func(data []byte) {
		got = append(got, string(data))
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
	if want := []string{"0", "1", "2", "3", "4", "5"}; !slices.Equal(got, want) {
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
	func() {
		defer func() { _ = recover() }() // as net/http recovers a handler's panic
		publish(t, b, "p", "boom")
	}()
	// The subscription must not stay marked busy.
	publish(t, b, "p", "after")
	if got, want := r.snapshot(), []string{"after"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLocalSlowSubscriberDrops(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	b := bus.NewLocal("test", bus.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	defer b.Close()

	entered, release := make(chan struct{}), make(chan struct{})
	var n int
	_, err := b.Subscribe("slow", func(data []byte) {
		if string(data) == "first" {
			close(entered)
			<-release
		}
		n++
	})
	if err != nil {
		t.Fatal(err)
	}
	firstDone := make(chan struct{})
	go func() {
		defer close(firstDone)
		if err := b.Publish(context.Background(), "slow", []byte("first")); err != nil {
			t.Errorf("Publish: %v", err)
		}
	}()
	<-entered

	// The handler is busy in the other goroutine: these queue, and past
	// the limit they are dropped, with one log line for the episode.
	const limit, extra = 1 << 16, 100
	for range limit + extra {
		publish(t, b, "slow", "queued")
	}
	close(release)
	<-firstDone

	if want := 1 + limit; n != want {
		t.Errorf("handled %d events, want %d", n, want)
	}
	if got := strings.Count(logs.String(), "dropping events"); got != 1 {
		t.Errorf("logged %d drop warnings, want 1:\n%s", got, logs.String())
	}
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
