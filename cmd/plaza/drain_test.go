package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// restartReason is the reason of a stream closed by a draining node.
const restartReason = "server restarting: reconnect with since=CURSOR"

// closed reads frames (kept in c.log) until the stream ends, and returns
// its close code and reason (-1 and the error if it ended without a
// close frame).
func (c *wsClient) closed() (websocket.StatusCode, string) {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), frameTimeout)
	defer cancel()
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				return -1, err.Error()
			}
			return ce.Code, ce.Reason
		}
		var f frameJSON
		if err := json.Unmarshal(data, &f); err == nil {
			c.log = append(c.log, f)
		}
	}
}

// TestServeDrainsStreams stops a server with SIGTERM while four devices
// are connected: /readyz answers 503 draining from the start, a new
// stream is refused with 503 and Retry-After: 1, and the open streams
// are closed with 1012 and the reason one after another over the drain
// window, not all at once; then the server exits cleanly.
func TestServeDrainsStreams(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--data", t.TempDir(), "--drain-window", "8s")
	alice, bob := register(t, srv.URL, "alice"), register(t, srv.URL, "bob")
	call(t, "GET", srv.URL+"/readyz", "", nil).want(t, http.StatusOK, nil)
	const n = 4
	ended := make(chan string, n)
	for i := range n {
		token := alice.Token
		if i%2 == 1 {
			token = bob.Token
		}
		s := dialStream(t, srv.URL, token, "")
		s.untilReady()
		go func() {
			code, reason := s.closed()
			if code != websocket.StatusServiceRestart || reason != restartReason {
				t.Errorf("stream %d ended with %d %q, want %d %q", i, code, reason, websocket.StatusServiceRestart, restartReason)
			}
			ended <- reason
		}()
	}

	srv.terminate(t)
	<-ended // the first closes at once, the next 2 s later
	res := call(t, "GET", srv.URL+"/readyz", "", nil)
	var ready struct{ Status string }
	if err := json.Unmarshal(res.body, &ready); res.status != http.StatusServiceUnavailable || err != nil || ready.Status != "draining" {
		t.Errorf("GET /readyz while draining: got %d %s, want 503 draining", res.status, res.body)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+alice.Token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET /api/v1/stream while draining: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("a new stream while draining: got %d, Retry-After %q; want 503, Retry-After 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got := len(ended); got == n-1 {
		t.Errorf("every stream closed at once when the first did; want them spread over the drain window")
	}
	for range n - 1 {
		<-ended
	}
	if code := srv.wait(t, exitTimeout); code != 0 {
		t.Fatalf("after SIGTERM: got exit status %d, want 0; stderr:\n%s", code, srv.logs())
	}
	rec, ok := srv.logRecord("drained the event streams")
	if !ok || rec["closed"] != float64(n) {
		t.Errorf("drain log line: got %v, want one with closed=%d; stderr:\n%s", rec, n, srv.logs())
	}
}

// TestTwoNodesDrainToTheOtherNode: Alice's device on node A is closed
// with 1012 when A drains; it reconnects to node B with since=its cursor
// and gets every message Bob sent meanwhile, with no gap or repeat.
func TestTwoNodesDrainToTheOtherNode(t *testing.T) {
	t.Parallel()
	c := startTwoNodes(t, "--drain-window", "1s")
	alice, bob, conv := c.alice, c.bob, c.conv

	aliceWS := dialStream(t, c.a.URL, alice.Token, "")
	_, since := aliceWS.untilReady()
	m1 := sendText(t, c.b.URL, bob, conv, "bob-1", "before the drain", http.StatusCreated)
	aliceWS.waitCreated(m1.ID)

	c.a.terminate(t)
	m2 := sendText(t, c.b.URL, bob, conv, "bob-2", "as node A drains", http.StatusCreated)
	if code, reason := aliceWS.closed(); code != websocket.StatusServiceRestart || reason != restartReason {
		t.Fatalf("Alice's stream on node A ended with %d %q, want %d %q", code, reason, websocket.StatusServiceRestart, restartReason)
	}
	m3 := sendText(t, c.b.URL, bob, conv, "bob-3", "while Alice is away", http.StatusCreated)

	var first []frameJSON
	last := since
	for _, f := range aliceWS.log {
		if f.Cursor != "" && f.Type != "ready" {
			first = append(first, f)
			last = f.cursor(t)
		}
	}
	again := dialStream(t, c.b.URL, alice.Token, "?since="+strconv.FormatInt(last, 10))
	replay, _ := again.untilReady()
	checkLog(t, "Alice's streams on A, then on B", append(first, replay...), since,
		map[string]messageJSON{m1.ID: m1, m2.ID: m2, m3.ID: m3})
	if code := c.a.wait(t, exitTimeout); code != 0 {
		t.Fatalf("node A after SIGTERM: got exit status %d, want 0; stderr:\n%s", code, c.a.logs())
	}
}

// TestDrainWindowValidated: the drain window is part of the shutdown
// timeout, so it must be shorter; 0 closes the streams at once.
func TestDrainWindowValidated(t *testing.T) {
	for _, tc := range []struct {
		window, timeout time.Duration
		ok              bool
	}{
		{10 * time.Second, 20 * time.Second, true},
		{0, 20 * time.Second, true},
		{20 * time.Second, 20 * time.Second, false},
		{30 * time.Second, 20 * time.Second, false},
		{-time.Second, 20 * time.Second, false},
	} {
		cfg := DefaultConfig()
		cfg.Data = t.TempDir()
		cfg.DrainWindow, cfg.ShutdownTimeout = tc.window, tc.timeout
		err := cfg.Validate()
		if got := err == nil; got != tc.ok {
			t.Errorf("--drain-window %v with --shutdown-timeout %v: got %v, want ok %v", tc.window, tc.timeout, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "--drain-window") {
			t.Errorf("--drain-window %v: error %q does not name the flag", tc.window, err)
		}
	}
}
