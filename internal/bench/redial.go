package bench

import (
	"context"
	"strconv"
	"time"
)

// Close codes that tell a device what to do next (docs/api.md).
const (
	closeGoingAway      = 1001
	closeServiceRestart = 1012
	closeSessionEnded   = 4001
	closeStanding       = 4003
	closeTerms          = 4005
)

// stream runs the device's reader and, each time its stream ends before
// the run stops, reconnects as a client should: after 0–1 s when the
// node restarts (1012, 1001), with backoff otherwise, never when its
// session or standing ended; with since=its cursor, then sending again
// what was not acknowledged, with the same client_ids.
func (d *device) stream(ctx context.Context, r *run, cfg Config, idx int, ready chan<- struct{}) {
	b := newBackoff()
	for {
		ws := d.ws
		// A stream that ends before its ready frame (the server
		// draining as the device connects) leaves ready to the next.
		if d.read(r, cfg.Window, idx, ready, b) {
			ready = nil
		}
		if ctx.Err() != nil || r.stopped.Load() {
			return
		}
		var wait time.Duration
		switch ws.status {
		case closeServiceRestart, closeGoingAway:
			wait = restartDelay()
		case closeSessionEnded, closeStanding, closeTerms:
			r.gone.Add(1)
			return
		default:
			wait = b.next()
		}
		for {
			sleep(ctx, wait)
			if ctx.Err() != nil {
				return
			}
			// The handshake is bounded: the run's end does not
			// interrupt it.
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			nws, err := dialWS(dctx, cfg.URL, d.acct.Token, strconv.FormatInt(d.cursor, 10))
			cancel()
			if err == nil {
				if !d.swap(r, nws, idx) {
					return
				}
				break
			}
			wait = b.next()
		}
		ws.close()
		r.reconnects.Add(1)
		_ = d.flush()
	}
}

// swap makes ws the device's stream and queues on it again the messages
// sent and not acknowledged, in order and with their client_ids (at
// once, so that a message the pacer queues next goes after them); unless
// the run has stopped: then it closes ws and reports false.
func (d *device) swap(r *run, ws *wsConn, idx int) bool {
	r.conns.Lock()
	defer r.conns.Unlock()
	if r.stopped.Load() {
		ws.close()
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ws = ws
	for n := d.acked; n < d.next; n++ {
		d.queueFrame(n, d.sentAt[n%int64(len(d.sentAt))], idx)
	}
	return true
}

// flush writes what is queued on the device's current stream.
func (d *device) flush() error {
	d.mu.Lock()
	ws := d.ws
	d.mu.Unlock()
	return ws.flush()
}
