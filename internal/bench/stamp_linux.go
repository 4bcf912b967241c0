package bench

import (
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// stampedReader reads a TCP connection with recvmsg and keeps the
// kernel's receive time of the newest bytes read (SO_TIMESTAMPNS). A
// device's frame is then timed when it reached the device's socket, not
// when the load generator got a core to read it: on a machine whose cores
// the generator shares with the server, that wait is the generator's, and
// it is reported on its own (the read lag).
type stampedReader struct {
	rc   syscall.RawConn
	oob  []byte
	last atomic.Int64 // Unix nanoseconds; 0 until a stamped read
}

// newStampedReader returns a reader of c that stamps what it reads, or
// nil if the kernel does not stamp it.
func newStampedReader(c net.Conn) *stampedReader {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil || serr != nil {
		return nil
	}
	return &stampedReader{rc: rc, oob: make([]byte, syscall.CmsgSpace(int(unsafe.Sizeof(syscall.Timespec{}))))}
}

// Read reads like the connection's Read (waiting through Go's poller and
// honouring its deadlines) and records the receive time of the bytes.
func (s *stampedReader) Read(p []byte) (int, error) {
	var n, oobn int
	var rerr error
	err := s.rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = syscall.Recvmsg(int(fd), p, s.oob, 0)
		return rerr != syscall.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, err
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	if at := stampOf(s.oob[:oobn]); at != 0 {
		s.last.Store(at)
	}
	return n, nil
}

// stampOf returns the SCM_TIMESTAMPNS time in a control message, or 0.
func stampOf(oob []byte) int64 {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&m.Data[0]))
			return ts.Nano()
		}
	}
	return 0
}

// arrived returns the receive time of the newest bytes read.
func (s *stampedReader) arrived() (time.Time, bool) {
	if s == nil {
		return time.Time{}, false
	}
	ns := s.last.Load()
	if ns == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}
