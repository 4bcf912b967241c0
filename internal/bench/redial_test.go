package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestConnectThroughADrain: a device whose first stream is closed for a
// restart (1012) before its ready frame, as when the server starts to
// drain while the device connects, counts as connected once its next
// stream is ready; the run does not wait 30 s for the first one.
func TestConnectThroughADrain(t *testing.T) {
	var mu sync.Mutex
	streams := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/conversations" {
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"id":"42"}`))
			return
		}
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		streams[token]++
		n := streams[token]
		mu.Unlock()
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		if token == "a" && n == 1 {
			ws.Close(websocket.StatusServiceRestart, "draining")
			return
		}
		ctx := r.Context()
		if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"ready","data":{"cursor":"0"}}`)); err != nil {
			return
		}
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, Config{URL: srv.URL, Accounts: []Account{{ID: "1", Token: "a"}, {ID: "2", Token: "b"}},
		Idle: true, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("Run: %v (after %v)", err, time.Since(start).Round(time.Millisecond))
	}
	mu.Lock()
	defer mu.Unlock()
	if streams["a"] != 2 || streams["b"] != 1 {
		t.Errorf("streams opened: %v, want a twice (the first closed before ready), b once", streams)
	}
}
