package bench

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// stampedReader reads a TCP connection with recvmsg and keeps the
// kernel's receive time of the newest bytes read (SO_TIMESTAMPNS). A
// device's frame is then timed when it reached the device's socket, not
// when the load generator got a core to read it: on a machine whose cores
// the generator shares with the server, that wait is the generator's, and
// it is reported on its own (the read lag). One read may bring several
// frames; each then gets the time of the newest bytes, so latencies are
// at most that much high and the read lag that much low.
//
// Only the connection's reading goroutine uses it.
type stampedReader struct {
	rc  syscall.RawConn
	oob []byte
	// The recvmsg call's arguments and results, fields rather than the
	// closure's captures so that a read allocates nothing.
	p              []byte
	n, oobn, flags int
	err            error
	recv           func(fd uintptr) bool
	last           int64 // Unix nanoseconds; 0 when the newest read had no stamp
}

// cmsgHdrLen is the size of a control message's header.
const cmsgHdrLen = syscall.SizeofCmsghdr

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
	s := &stampedReader{rc: rc, oob: make([]byte, syscall.CmsgSpace(int(unsafe.Sizeof(syscall.Timespec{}))))}
	s.recv = func(fd uintptr) bool {
		for {
			s.n, s.oobn, s.flags, _, s.err = syscall.Recvmsg(int(fd), s.p, s.oob, 0)
			if s.err != syscall.EINTR {
				return s.err != syscall.EAGAIN
			}
		}
	}
	return s
}

// Read reads like the connection's Read (waiting through Go's poller and
// honouring its deadlines) and records the receive time of the bytes.
func (s *stampedReader) Read(p []byte) (int, error) {
	s.p = p
	err := s.rc.Read(s.recv)
	s.p = nil
	if err == nil && s.err != nil {
		err = os.NewSyscallError("recvmsg", s.err)
	}
	if err != nil {
		return 0, err
	}
	if s.n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	at := int64(0)
	if s.flags&syscall.MSG_CTRUNC == 0 {
		at = stampOf(s.oob[:s.oobn])
	}
	// A read without a stamp must not keep the previous one, which
	// would make this read's frames look older than they are.
	s.last = at
	return s.n, nil
}

// stampOf returns the SCM_TIMESTAMPNS time in the control data, or 0.
// It reads the one message asked for by hand: the standard parser
// allocates, and this runs for every read of every device.
func stampOf(oob []byte) int64 {
	for len(oob) >= cmsgHdrLen {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < cmsgHdrLen || l > len(oob) {
			return 0
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS && l-cmsgHdrLen >= int(unsafe.Sizeof(syscall.Timespec{})) {
			// The buffer is the reader's own, allocated aligned, and the
			// kernel aligns each message's data.
			return (*syscall.Timespec)(unsafe.Pointer(&oob[syscall.CmsgLen(0)])).Nano()
		}
		next := syscall.CmsgSpace(l - cmsgHdrLen)
		if next > len(oob) {
			return 0
		}
		oob = oob[next:]
	}
	return 0
}

// arrived returns the receive time of the newest bytes read.
func (s *stampedReader) arrived() (time.Time, bool) {
	if s == nil {
		return time.Time{}, false
	}
	if s.last == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, s.last), true
}
