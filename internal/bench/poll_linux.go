//go:build linux

package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pollSet reads the sockets of devices that only receive (a channel's
// followers, a group's members) from one goroutine per core, each waiting
// in epoll_wait on its share of them (edge-triggered). A goroutine per device reads each
// frame with two system calls (the read that gets it, and the one that
// finds the socket empty and parks the goroutine) plus a wake-up through
// Go's poller; here a frame costs one recvmsg and a share of an
// epoll_wait. The generator shares the machine's cores with the server,
// so what it saves there goes to the server.
type pollSet struct {
	loops  []*pollLoop
	wg     sync.WaitGroup
	next   atomic.Uint32 // round-robin over loops
	once   sync.Once
	err    error
	closed atomic.Bool
}

// pollLoop is one goroutine's share of the sockets.
type pollLoop struct {
	epfd  int
	wake  int // an eventfd: written to stop the loop
	mu    sync.Mutex
	conns map[int32]*polledConn // by file descriptor; the loop reads, add writes
}

// polledConn is one device's socket, read by its loop alone.
type polledConn struct {
	fd    int
	ws    *wsConn // frames the answers to pings and to the close
	pend  []byte  // the start of a frame not yet whole
	msg   []byte  // a message arriving in fragments
	inMsg bool    // a fragmented message is open
	on    func(data []byte, at, read time.Time) bool
	done  bool
}

// start makes the set's loops; it is called once, by the first add.
func (p *pollSet) start() error {
	p.once.Do(func() {
		for range runtime.GOMAXPROCS(0) {
			l, err := newPollLoop()
			if err != nil {
				p.err = err
				return
			}
			p.loops = append(p.loops, l)
			p.wg.Go(l.run)
		}
	})
	return p.err
}

func newPollLoop() (*pollLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	return &pollLoop{epfd: epfd, wake: wake, conns: map[int32]*polledConn{}}, nil
}

// add hands ws's socket to a loop, which calls on with each later text
// or binary message (valid until on returns), the time it reached the
// socket and the time it was read, until on returns false or the socket
// ends. Bytes ws has already read and not returned go first. ws's
// net.Conn is closed: the loop reads a duplicate of its descriptor, which
// Go's own poller does not watch.
func (p *pollSet) add(ws *wsConn, on func(data []byte, at, read time.Time) bool) error {
	if err := p.start(); err != nil {
		return err
	}
	if p.closed.Load() {
		return errors.New("poll: closed")
	}
	tc, ok := ws.c.(*net.TCPConn)
	if !ok {
		return errors.New("poll: not a TCP connection")
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) { fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return err
	}
	if derr != nil {
		return fmt.Errorf("dup: %w", derr)
	}
	// The duplicate shares the socket's non-blocking mode and its
	// receive stamps; closing Go's descriptor leaves the socket open.
	pend, _ := ws.r.Peek(ws.r.Buffered())
	pc := &polledConn{fd: fd, ws: ws, pend: append([]byte(nil), pend...), on: on}
	ws.c.Close()
	l := p.loops[int(p.next.Add(1))%len(p.loops)]
	if len(pc.pend) > 0 {
		// Whole frames that came with the ready frame are handed on now.
		now := time.Now()
		pc.feed(nil, ws.arrived(now), now)
		if pc.done {
			unix.Close(fd)
			return nil
		}
	}
	l.mu.Lock()
	l.conns[int32(fd)] = pc
	l.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.mu.Lock()
		delete(l.conns, int32(fd))
		l.mu.Unlock()
		unix.Close(fd)
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

// close stops the loops and closes every socket they read. Devices are
// added before it, never during.
func (p *pollSet) close() {
	if p.closed.Swap(true) {
		return
	}
	for _, l := range p.loops {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1) // an eventfd's counter
		_, _ = unix.Write(l.wake, one[:])
	}
	p.wg.Wait()
	for _, l := range p.loops {
		for fd := range l.conns {
			unix.Close(int(fd))
		}
		unix.Close(l.epfd)
		unix.Close(l.wake)
	}
}

// run waits for sockets with bytes to read and reads them.
func (l *pollLoop) run() {
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{}))))
	for {
		n, err := unix.EpollWait(l.epfd, events, -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		stop := false
		for _, ev := range events[:n] {
			if int(ev.Fd) == l.wake {
				stop = true
				break
			}
			l.mu.Lock()
			pc := l.conns[ev.Fd]
			l.mu.Unlock()
			if pc == nil {
				continue
			}
			// With the peer gone, no later edge comes: read on until the
			// read that says so.
			l.read(pc, buf, oob, ev.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0)
			if pc.done {
				// Removed from the set, and left open until close, so
				// that its number is not reused while it is listed.
				_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, pc.fd, nil)
			}
		}
		if stop {
			return
		}
		if n < len(events) {
			// Let more sockets fill before the next look. A frame is
			// timed by the kernel's stamp of its arrival, so reading it
			// later does not change its latency (it adds to the read
			// lag, reported apart); each epoll_wait that sleeps and
			// wakes costs about as much as a read.
			time.Sleep(pollPause)
		}
	}
}

// pollPause is how long a loop rests after a look that found less than a
// full set of sockets ready.
const pollPause = time.Millisecond

// read reads what pc's socket holds. The events are edge-triggered: one
// comes when bytes arrive, so the socket is read until a read comes back
// short (a stream socket's read takes all it holds, up to the buffer's
// size), which is most often the first.
func (l *pollLoop) read(pc *polledConn, buf, oob []byte, hangup bool) {
	for !pc.done {
		nr, oobn, flags, _, err := unix.Recvmsg(pc.fd, buf, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return
		}
		if err != nil || nr == 0 {
			pc.done = true // the socket ended, or failed
			return
		}
		read := time.Now()
		at := read
		if flags&unix.MSG_CTRUNC == 0 {
			if ns := stampOf(oob[:oobn]); ns != 0 && ns <= read.UnixNano() {
				at = time.Unix(0, ns)
			}
		}
		pc.feed(buf[:nr], at, read)
		if nr < len(buf) && !hangup {
			return
		}
	}
}

// feed parses the frames in what was read (after any kept from before)
// and hands on each whole message, answering pings and the close.
func (pc *polledConn) feed(b []byte, at, read time.Time) {
	data := b
	if len(pc.pend) > 0 {
		pc.pend = append(pc.pend, b...)
		data = pc.pend
	}
	for !pc.done {
		f, used, err := parseFrame(data)
		if err != nil {
			pc.done = true
			return
		}
		if used == 0 {
			break // not whole yet
		}
		data = data[used:]
		pc.handle(f, at, read)
	}
	// Keep the rest. data is either within pc.pend (moved to its start)
	// or within the loop's buffer, which the next read reuses (copied).
	if len(pc.pend) > 0 {
		pc.pend = pc.pend[:copy(pc.pend, data)]
	} else {
		pc.pend = append(pc.pend, data...)
	}
}

// handle acts on one whole frame.
func (pc *polledConn) handle(f wsFrame, at, read time.Time) {
	switch f.op {
	case 0x0, 0x1, 0x2: // continuation, text, binary
		if (f.op == 0x0) != pc.inMsg {
			// A continuation with no message open, or a new message
			// before the open one ended: the stream is broken.
			pc.done = true
			return
		}
		msg := f.payload
		if pc.inMsg || !f.fin {
			if len(pc.msg)+len(f.payload) > wsReadLimit {
				pc.done = true
				return
			}
			pc.msg = append(pc.msg, f.payload...)
			msg = pc.msg
		}
		pc.inMsg = !f.fin
		if !f.fin {
			return
		}
		if !pc.on(msg, at, read) {
			pc.done = true
		}
		pc.msg = pc.msg[:0]
	case 0x8: // close: answer with its status, then stop
		pc.answer(0x8, f.payload[:min(len(f.payload), 2)])
		pc.done = true
	case 0x9: // ping
		pc.answer(0xA, f.payload)
	}
}

// answer writes one control frame. It is a few bytes on a socket the
// device never otherwise writes to, so it fits in the send buffer; a
// failed write shows up as the socket's end at the next read.
func (pc *polledConn) answer(op byte, p []byte) {
	w := pc.ws
	w.mu.Lock()
	defer w.mu.Unlock()
	w.frame(op, p)
	_, _ = unix.Write(pc.fd, w.out)
	w.out = w.out[:0]
}
