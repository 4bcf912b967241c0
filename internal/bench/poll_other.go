//go:build !linux

package bench

import (
	"sync"
	"time"
)

// pollSet is Linux's epoll loop; elsewhere each device's socket is read
// by a goroutine of its own.
type pollSet struct {
	mu    sync.Mutex
	conns []*wsConn
	wg    sync.WaitGroup
}

func (p *pollSet) add(ws *wsConn, on func(data []byte, at, read time.Time) bool) error {
	p.mu.Lock()
	p.conns = append(p.conns, ws)
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			data, err := ws.next()
			if err != nil {
				return
			}
			read := time.Now()
			if !on(data, ws.arrived(read), read) {
				return
			}
		}
	})
	return nil
}

func (p *pollSet) close() {
	p.mu.Lock()
	for _, c := range p.conns {
		c.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
