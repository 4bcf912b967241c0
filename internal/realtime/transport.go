package realtime

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coder/websocket"
)

// Transports a hub can serve streams with (Config.Transport).
const (
	// TransportNBIO runs every stream of the hub on one event loop
	// (github.com/lesismal/nbio): no goroutine and no buffers per idle
	// connection, and the frames waiting for a device leave in one
	// system call.
	TransportNBIO = "nbio"
	// TransportStd runs each stream with github.com/coder/websocket on
	// the net/http connection: a goroutine reading per device, one
	// flush per frame.
	TransportStd = "std"
)

// transport is the WebSocket under a device's stream. It reports to its
// Conn: each text or binary message the device sends goes, in order, to
// Conn.handleFrame, and Conn.transportGone is called once when the
// connection is closed, whatever closed it.
type transport interface {
	// write writes frames, each one text message, in order and after
	// everything written before. It returns an error if the connection
	// is closed or cannot take them (then the stream ends).
	write(frames [][]byte) error
	// queued is how many bytes were written but not yet taken by the
	// socket (always 0 for a transport whose write blocks until then).
	queued() int
	// drain waits until queued is at most limit, or fails once the
	// device has taken nothing for the write timeout.
	drain(limit int) error
	// ping checks that the device is alive: a device that does not
	// answer within the write timeout is dropped.
	ping()
	// close sends a close frame with code and reason, after every frame
	// written before, and closes the connection: with handshake once the
	// device answers it, otherwise once it is sent; after a timeout in
	// any case.
	close(code websocket.StatusCode, reason string, handshake bool)
}

// checkHandshake checks a WebSocket opening request as coder/websocket's
// Accept does, so that both transports refuse the same requests with the
// same statuses; it returns 0 for a valid one.
func checkHandshake(w http.ResponseWriter, r *http.Request) (int, error) {
	if !r.ProtoAtLeast(1, 1) {
		return http.StatusUpgradeRequired, fmt.Errorf("WebSocket protocol violation: handshake request must be at least HTTP/1.1: %q", r.Proto)
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		return http.StatusUpgradeRequired, fmt.Errorf("WebSocket protocol violation: the request must ask for Upgrade: websocket")
	}
	if r.Method != http.MethodGet {
		return http.StatusMethodNotAllowed, fmt.Errorf("WebSocket protocol violation: handshake request method is not GET but %q", r.Method)
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		return http.StatusBadRequest, fmt.Errorf("unsupported WebSocket protocol version (only 13 is supported): %q", r.Header.Get("Sec-WebSocket-Version"))
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return http.StatusBadRequest, fmt.Errorf("WebSocket protocol violation: want one Sec-WebSocket-Key header, got %d", len(keys))
	}
	if k, err := base64Decode(keys[0]); err != nil || len(k) != 16 {
		return http.StatusBadRequest, fmt.Errorf("WebSocket protocol violation: invalid Sec-WebSocket-Key %q, must be a 16 byte base64 encoded string", keys[0])
	}
	if err := sameOrigin(r); err != nil {
		return http.StatusForbidden, err
	}
	return 0, nil
}

// appendFrameHeader appends the header of an unmasked, final server frame
// of the given opcode and payload length.
func appendFrameHeader(b []byte, opcode byte, n int) []byte {
	b = append(b, 0x80|opcode)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xFFFF:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
}

// WebSocket opcodes the nbio transport writes itself.
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

func base64Decode(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimSpace(s))
}

// headerHasToken reports whether a comma-separated header of r holds
// token, in any case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// sameOrigin refuses a browser's request from a page of another host (a
// request without Origin is not a browser's).
func sameOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("request Origin %q is not a valid URL with a host", origin)
	}
	if !strings.EqualFold(r.Host, u.Host) {
		return fmt.Errorf("request Origin %q is not authorized for Host %q", u.Host, r.Host)
	}
	return nil
}

// acceptKey is the Sec-WebSocket-Accept answer to key.
func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(strings.TrimSpace(key)))
	h.Write([]byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
