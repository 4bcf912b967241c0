package bench

import (
	"bytes"
	"math"
)

// The generator shares the machine's cores with the server it measures,
// so its per-frame work is kept small: frames are read into a buffer the
// device reuses (see wsConn) and the few fields needed are found by
// scanning instead of decoding JSON.

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
