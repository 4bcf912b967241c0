package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/plaza-im/plaza"
)

// streamPath is the event stream's route, refused while the node drains.
const streamPath = "/api/v1/stream"

// readyz answers whether this node should get traffic: not while it
// drains, nor while its database does not answer or its storage is full
// (the conditions /healthz reports). A load balancer takes the node out
// of rotation on 503; /healthz stays the liveness check.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.drain.Draining() {
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var one int
	if err := s.db.Read().QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		s.log.Error("readiness check: database unreachable", "err", err)
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database"})
	}
	if full, _ := s.storage.full(); full {
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "storage"})
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Drain starts draining: from now on /readyz answers 503 and new streams
// are refused with 503 and Retry-After, while the open streams are closed
// with 1012 spread evenly over window (see realtime.Hub.Drain). It
// returns once the last is closed, or at once when ctx ends. Other
// requests are still served: the HTTP shutdown comes after.
func (s *Server) Drain(ctx context.Context, window time.Duration) {
	if s.hub == nil {
		s.drain.Start()
		return
	}
	n := s.hub.Drain(ctx, s.drain, window)
	s.log.Info("drained the event streams", "closed", n, "window", window)
}

// Draining reports whether the node drains.
func (s *Server) Draining() bool { return s.drain.Draining() }

// refuseStreamsWhileDraining answers a request for a new stream on a
// draining node with 503 unavailable and Retry-After: 1, so the device
// retries at once and the load balancer, which no longer sends to this
// node, gives it another.
func (s *Server) refuseStreamsWhileDraining(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == streamPath && s.drain.Draining() {
			w.Header().Set("Retry-After", "1")
			s.writeError(w, r, plaza.Errorf(plaza.EUnavailable, "the server is restarting: reconnect with since=CURSOR"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
