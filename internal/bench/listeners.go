package bench

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// listeners are devices that only receive: each connects, waits for its
// ready frame, and hands every later frame to a callback until closed.
type listeners struct {
	mu    sync.Mutex
	conns []*wsConn
	wg    sync.WaitGroup
	lags  []lagSlot // per device: see noteLag
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
// every one has said ready. onFrame gets device i's other frames with
// the time each arrived at the device's socket (the kernel's receive
// time, on Linux), on that device's reading goroutine; it returns
// false to stop reading. what names a device in errors ("follower").
func (l *listeners) connect(ctx context.Context, base string, tokens []string, what string, onFrame func(i int, data []byte, at time.Time) bool) error {
	l.mu.Lock()
	l.conns = make([]*wsConn, len(tokens))
	l.mu.Unlock()
	l.lags = make([]lagSlot, len(tokens))
	return parallel(ctx, len(tokens), 64, func(i int) error {
		ws, err := dialWS(ctx, base, tokens[i], "")
		if err != nil {
			return fmt.Errorf("connect %s %d: %w", what, i, err)
		}
		l.mu.Lock()
		l.conns[i] = ws
		l.mu.Unlock()
		ready := make(chan struct{})
		l.wg.Go(func() {
			signalled := false
			for {
				data, err := ws.next()
				if err != nil {
					return
				}
				read := time.Now()
				now := ws.arrived(read)
				if string(frameType(data)) == "ready" {
					if !signalled {
						close(ready)
						signalled = true
					}
					continue
				}
				l.noteLag(i, read.Sub(now))
				if !onFrame(i, data, now) {
					return
				}
			}
		})
		select {
		case <-ready:
			return nil
		case <-time.After(30 * time.Second):
			return fmt.Errorf("%s %d: no ready frame within 30 s", what, i)
		}
	})
}

// close drops every connection and waits for the readers to end.
func (l *listeners) close() {
	l.mu.Lock()
	for _, c := range l.conns {
		if c != nil {
			c.close()
		}
	}
	l.mu.Unlock()
	l.wg.Wait()
}
