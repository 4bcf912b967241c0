package bench

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// listeners are devices that only receive: each connects, waits for its
// ready frame, and hands every later frame to a callback until closed.
// Their sockets are read by a pollSet.
type listeners struct {
	poll pollSet
	lags []lagSlot // per device: see noteLag
}

// lagSlot holds one device's read lags. Each device's reader takes only
// its own lock, so devices never wait for each other to note one.
type lagSlot struct {
	mu sync.Mutex
	d  []time.Duration
}

// noteLag records how long after reaching device i's socket a frame was
// read: the load generator's own wait.
func (l *listeners) noteLag(i int, d time.Duration) {
	s := &l.lags[i]
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
}

// readLag returns the percentiles of the lags noted so far.
func (l *listeners) readLag() Percentiles {
	var all []time.Duration
	for i := range l.lags {
		s := &l.lags[i]
		s.mu.Lock()
		all = append(all, s.d...)
		s.mu.Unlock()
	}
	return percentiles(all)
}

// connect opens the streams of tokens, 64 at a time, and returns once
// every one has said ready. onFrame gets device i's other frames (those
// before its ready frame too) with the time each arrived at the device's
// socket (the kernel's receive time, on Linux); it returns false to stop
// reading that device. Calls for different devices may run at once, and
// a slow call holds up other devices' frames: it should only note the
// frame. what names a device in errors ("follower").
func (l *listeners) connect(ctx context.Context, base string, tokens []string, what string, onFrame func(i int, data []byte, at time.Time) bool) error {
	l.lags = make([]lagSlot, len(tokens))
	return parallel(ctx, len(tokens), 64, func(i int) error {
		ws, err := dialWS(ctx, base, tokens[i], "")
		if err != nil {
			return fmt.Errorf("connect %s %d: %w", what, i, err)
		}
		on := func(data []byte, at, read time.Time) bool {
			l.noteLag(i, read.Sub(at))
			return onFrame(i, data, at)
		}
		// Read here until the ready frame, then hand the socket over.
		deadline := time.Now().Add(30 * time.Second)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		_ = ws.c.SetReadDeadline(deadline)
		stop := context.AfterFunc(ctx, func() { _ = ws.c.SetReadDeadline(time.Now()) })
		defer stop()
		for {
			data, err := ws.next()
			if err != nil {
				ws.close()
				return fmt.Errorf("%s %d: no ready frame: %w", what, i, err)
			}
			if string(frameType(data)) == "ready" {
				break
			}
			read := time.Now()
			if !on(data, ws.arrived(read), read) {
				ws.close()
				return nil
			}
		}
		if !stop() {
			ws.close()
			return ctx.Err()
		}
		_ = ws.c.SetReadDeadline(time.Time{})
		if err := l.poll.add(ws, func(data []byte, at, read time.Time) bool {
			if string(frameType(data)) == "ready" {
				return true // a second one, after a resync
			}
			return on(data, at, read)
		}); err != nil {
			ws.close()
			return fmt.Errorf("%s %d: %w", what, i, err)
		}
		return nil
	})
}

// close drops every connection and waits for the readers to end.
func (l *listeners) close() { l.poll.close() }
