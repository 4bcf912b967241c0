package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/coder/websocket"
)

// The generator shares the machine's cores with the server it measures,
// so its per-frame work is kept small: frames are read into a buffer the
// device reuses, the few fields needed are found by scanning instead of
// decoding JSON, and reads and writes pass a context without a Done
// channel, which spares coder/websocket a context.AfterFunc per call. A
// device's socket is closed to end its reads and writes.
var noDeadline = context.Background()

// Scan patterns for the fields the generator reads. The server's frames
// start with "type" and put their own "id" before any in data (see
// events.Frame and events.ReplyFrame).
var (
	patType     = []byte(`"type":"`)
	patID       = []byte(`"id":"`)
	patCursor   = []byte(`"cursor":"`)
	patSeq      = []byte(`"seq":`)
	patSenderID = []byte(`"sender_id":"`)
	patConvID   = []byte(`"conversation_id":"`)
	patText     = []byte(`"text":"`)
)

// dial opens a device's stream; since, if not empty, is the cursor to
// resume after.
func dial(ctx context.Context, base, token, since string) (*websocket.Conn, error) {
	u := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/stream"
	if since != "" {
		u += "?since=" + url.QueryEscape(since)
	}
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	return ws, nil
}

// frameReader reads whole frames into one buffer it reuses: the slice
// next returns is valid until the following call.
type frameReader struct {
	ws  *websocket.Conn
	buf []byte
}

func (r *frameReader) next() ([]byte, error) {
	_, rd, err := r.ws.Reader(noDeadline)
	if err != nil {
		return nil, err
	}
	if r.buf == nil {
		r.buf = make([]byte, 0, 1024)
	}
	b := r.buf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			r.buf = b
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// str returns the first string value after pat (a `"key":"` pattern),
// without copying; nil if there is none.
func str(b, pat []byte) []byte {
	i := bytes.Index(b, pat)
	if i < 0 {
		return nil
	}
	rest := b[i+len(pat):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil
	}
	return rest[:j]
}

// frameType returns a server frame's type, which comes first.
func frameType(b []byte) []byte {
	if bytes.HasPrefix(b, []byte(`{"type":"`)) {
		rest := b[len(`{"type":"`):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			return rest[:j]
		}
	}
	return str(b, patType)
}

// num returns the decimal number that follows pat, quoted or not, or -1.
func num(b, pat []byte) int64 {
	i := bytes.Index(b, pat)
	if i < 0 {
		return -1
	}
	return digits(b[i+len(pat):])
}

// digits parses the leading decimal digits of b (after an optional
// quote), or returns -1 if there are none.
func digits(b []byte) int64 {
	if len(b) > 0 && b[0] == '"' {
		b = b[1:]
	}
	var n int64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := int64(b[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			return -1 // too long for an int64
		}
		n = n*10 + d
	}
	if i == 0 {
		return -1
	}
	return n
}

// field returns the first string value of "key" in a JSON frame as a
// string (for tests and setup; the hot paths use str).
func field(b []byte, key string) string {
	return string(str(b, []byte(`"`+key+`":"`)))
}
