package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/realtime"
)

// goroutines returns the stacks of the process's goroutines by ID.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		head, _, _ := strings.Cut(g, " [")
		out[strings.TrimPrefix(head, "goroutine ")] = g
	}
	return out
}

// TestCloseLeavesNoGoroutines runs a server with every background task
// (pruners, the profiler, a connected stream) and checks that once Run and
// Close return, none of the goroutines it started is left. Not parallel:
// the goroutines of tests running beside it would count. Both transports
// of the event stream.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	clearPlazaEnv(t)
	for _, tr := range []string{realtime.TransportNBIO, realtime.TransportStd} {
		t.Run(tr, func(t *testing.T) { closeLeavesNoGoroutines(t, tr) })
	}
}

func closeLeavesNoGoroutines(t *testing.T, transport string) {
	before := goroutines()
	cfg := DefaultConfig()
	cfg.StreamTransport = transport
	cfg.Data = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	cfg.DebugListen = "127.0.0.1:0"
	m := &Main{Config: cfg, LogOutput: io.Discard}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Open(ctx); err != nil {
		m.Close()
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- m.Run(ctx) }()
	base := "http://" + m.Addr()
	alice := register(t, base, "alice")
	s := dialStream(t, base, alice.Token, "")
	s.waitFor("ready", func(f frameJSON) bool { return f.Type == "ready" })

	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(exitTimeout):
		t.Fatalf("Run did not return within %v of cancel", exitTimeout)
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	s.ws.CloseNow()

	// The test's own HTTP client connections end when the server's do;
	// give them the time, but nothing of the server may remain.
	var left []string
	deadline := time.Now().Add(exitTimeout)
	for {
		http.DefaultClient.CloseIdleConnections()
		left = left[:0]
		for id, g := range goroutines() {
			if _, ok := before[id]; !ok && !strings.Contains(g, "TestCloseLeavesNoGoroutines") && !strings.Contains(g, "closeLeavesNoGoroutines") {
				left = append(left, g)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(left) > 0 {
		var b bytes.Buffer
		for _, g := range left {
			b.WriteString(g + "\n\n")
		}
		t.Errorf("%d goroutines left after Close:\n%s", len(left), b.String())
	}
}
