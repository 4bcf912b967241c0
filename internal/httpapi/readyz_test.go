package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/blob"
)

// TestReadyz: a serving node is ready for anyone who asks (it is a public
// endpoint, signed in or not); once it drains it answers 503 draining at
// once, refuses a new stream with 503 unavailable and Retry-After: 1,
// closes the open one with 1012 and says so in /metrics, while other
// requests are still served.
func TestReadyz(t *testing.T) {
	e := newEnv(t)
	u := e.verified("alice")
	for _, token := range []string{"", u.token} {
		res := e.do("GET", "/readyz", token, nil).want(t, http.StatusOK, "")
		if res.body["status"] != "ready" {
			t.Errorf("readyz status = %v, want ready", res.body["status"])
		}
	}
	if m := e.fetch("", "/metrics", ""); !strings.Contains(string(m.raw), "\nplaza_draining 0\n") {
		t.Error("/metrics lacks plaza_draining 0 before the drain")
	}
	s := e.dial(u, "")
	s.until("ready")

	done := make(chan struct{})
	go func() {
		defer close(done)
		e.api.Drain(context.Background(), time.Hour) // one stream: closed at once
	}()
	s.closedWith(websocket.StatusServiceRestart)
	<-done
	if !e.api.Draining() {
		t.Error("Draining() = false after Drain, want true")
	}
	for _, token := range []string{"", u.token} {
		res := e.do("GET", "/readyz", token, nil)
		if res.status != http.StatusServiceUnavailable || res.body["status"] != "draining" {
			t.Errorf("readyz while draining: got %d %s, want 503 draining", res.status, res.raw)
		}
	}
	res := e.do("GET", "/api/v1/stream", u.token, nil).want(t, http.StatusServiceUnavailable, "unavailable")
	if got := res.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	e.do("GET", "/healthz", "", nil).want(t, http.StatusOK, "")
	e.do("GET", "/livez", "", nil).want(t, http.StatusOK, "")
	e.do("GET", "/api/v1/me", u.token, nil).want(t, http.StatusOK, "")
	m := e.fetch("", "/metrics", "")
	for _, want := range []string{"\nplaza_draining 1\n", "\nplaza_realtime_drain_closed_total 1\n"} {
		if !strings.Contains(string(m.raw), want) {
			t.Errorf("/metrics while draining lacks %q", strings.TrimSpace(want))
		}
	}
}

// TestReadyzReportsDatabaseDown: a node whose database does not answer is
// not ready, and says why.
func TestReadyzReportsDatabaseDown(t *testing.T) {
	e := newEnv(t)
	e.db.Close()
	res := e.do("GET", "/readyz", "", nil)
	if res.status != http.StatusServiceUnavailable || res.body["status"] != "unavailable" || res.body["reason"] != "database" {
		t.Errorf("got %d %s, want 503 unavailable, reason database", res.status, res.raw)
	}
	// Alive all the same: restarting would not bring the database back.
	if res := e.do("GET", "/livez", "", nil); res.status != http.StatusOK || res.body["status"] != "alive" {
		t.Errorf("livez with the database down: got %d %s, want 200 alive", res.status, res.raw)
	}
}

// TestReadyzReportsStorageFull: a node out of storage is not ready.
func TestReadyzReportsStorageFull(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.wrapStore = func(s blob.Store) blob.Store { return fullStore{s} } })
	u := e.verified("writer")
	e.upload(u, "notes.txt", "text/plain", []byte("some notes")).want(t, http.StatusInsufficientStorage, plaza.EInsufficientStorage)
	res := e.do("GET", "/readyz", "", nil)
	if res.status != http.StatusServiceUnavailable || res.body["status"] != "unavailable" || res.body["reason"] != "storage" {
		t.Errorf("got %d %s, want 503 unavailable, reason storage", res.status, res.raw)
	}
}
