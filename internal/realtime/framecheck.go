package realtime

import (
	"encoding/binary"
	"fmt"

	"github.com/coder/websocket"
)

// frameCheck follows the headers of the frames a device sends, across
// reads, and finds the first that breaks RFC 6455 for a client frame
// (section 5) before the event loop's parser sees it. That parser accepts
// unmasked frames, waits forever on a 64-bit length with its top bit set,
// and panics on a fragment whose length overflows (recovered, logged with
// a stack trace, and the connection left open) on every read after it:
// a device could flood the log at no cost. It also closes without a close
// frame, while a device should learn why (RFC 6455, 7.1.7).
type frameCheck struct {
	hdr  [14]byte
	hn   int   // header bytes of the current frame gathered so far
	skip int64 // payload bytes of the current frame still to come
	// inMsg is set while a fragmented text or binary message is open, and
	// msgLen counts its payload so far.
	inMsg  bool
	msgLen int64
	failed bool
}

// frameViolation is a frame a device must not send, with the close code
// and reason to answer it with.
type frameViolation struct {
	code   websocket.StatusCode
	reason string
}

// scan checks data, the next bytes read from the device. Once it has
// reported a violation it reports it again for whatever follows.
func (f *frameCheck) scan(data []byte) *frameViolation {
	if f.failed {
		return protocolError("the stream ended after a protocol error")
	}
	for i := 0; i < len(data); {
		if f.skip > 0 {
			n := min(f.skip, int64(len(data)-i))
			i += int(n)
			f.skip -= n
			continue
		}
		// Gather the header: 2 bytes, then the extended length and the
		// mask key the second byte announces.
		need := 2
		for {
			if f.hn >= 2 {
				need = 2 + 4*int(f.hdr[1]>>7)
				switch f.hdr[1] & 0x7F {
				case 126:
					need += 2
				case 127:
					need += 8
				}
			}
			if f.hn >= need || i == len(data) {
				break
			}
			f.hdr[f.hn] = data[i]
			f.hn++
			i++
			if f.hn == 2 {
				// What the first two bytes say is checked before the
				// rest arrives, as the parser behind does.
				if v := f.start(); v != nil {
					f.failed = true
					return v
				}
			}
		}
		if f.hn < need {
			return nil // the header goes on in the next read
		}
		if v := f.frame(); v != nil {
			f.failed = true
			return v
		}
	}
	return nil
}

// start checks the first two bytes of a frame's header.
func (f *frameCheck) start() *frameViolation {
	b0, b1 := f.hdr[0], f.hdr[1]
	fin, op := b0&0x80 != 0, b0&0x0F
	switch {
	case b0&0x70 != 0:
		return protocolError("reserved bits set: no extension was negotiated")
	case b1&0x80 == 0:
		return protocolError("a client's frame must be masked")
	}
	switch op {
	case 0x8, 0x9, 0xA: // close, ping, pong
		if !fin {
			return protocolError("a control frame must not be fragmented")
		}
		if b1&0x7F > 125 {
			return protocolError("a control frame's payload must be at most 125 bytes")
		}
	case 0x0:
		if !f.inMsg {
			return protocolError("a continuation frame without a message to continue")
		}
	case 0x1, 0x2:
		if f.inMsg {
			return protocolError("a new message before the previous one ended")
		}
	default:
		return protocolError(fmt.Sprintf("unknown opcode %d", op))
	}
	return nil
}

// frame checks the length of the frame whose header is in hdr, and sets
// up its payload's skip.
func (f *frameCheck) frame() *frameViolation {
	b0, b1 := f.hdr[0], f.hdr[1]
	fin, op := b0&0x80 != 0, b0&0x0F
	f.hn = 0
	var n uint64
	switch l := b1 & 0x7F; l {
	case 126:
		n = uint64(binary.BigEndian.Uint16(f.hdr[2:4]))
	case 127:
		n = binary.BigEndian.Uint64(f.hdr[2:10])
		if n>>63 != 0 {
			return protocolError("payload length with its most significant bit set")
		}
	default:
		n = uint64(l)
	}
	if op < 0x8 {
		if uint64(f.msgLen)+n > readLimit {
			return &frameViolation{websocket.StatusMessageTooBig, fmt.Sprintf("a message must be at most %d bytes", readLimit)}
		}
		f.inMsg, f.msgLen = !fin, f.msgLen+int64(n)
		if fin {
			f.msgLen = 0
		}
	}
	f.skip = int64(n)
	return nil
}

func protocolError(reason string) *frameViolation {
	return &frameViolation{websocket.StatusProtocolError, reason}
}
