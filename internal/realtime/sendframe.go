package realtime

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
)

// decodeSendQuick decodes the message.send frame that devices send
// nearly always, in one pass over its bytes: an object of type, id and
// data, data an object of the sendData fields, every string free of
// control characters and valid UTF-8. It returns ok false for anything
// else, or anything it is not sure of (a key with an escape, a key
// repeated or unknown, a value of another JSON type, text after the
// object), and the frame is then decoded by strictjson as before, which
// takes it or names what is wrong. So what it accepts, strictjson would
// accept too and decode the same: FuzzDecodeSendQuick checks that.
//
// Why: checked by strictjson and then decoded by encoding/json, which
// scans the frame once more to validate it before decoding, a send's
// frame cost about 4.5 µs and 15 allocations (BenchmarkDecodeSend), a
// tenth of the server's CPU at full load (a CPU profile of plaza bench;
// docs/benchmarks.md).
func decodeSendQuick(b []byte) (sf sendFrame, ok bool) {
	p := quickScan{b: b}
	var seen uint8
	ok = p.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			// Only a send is taken, so its type needs no copy.
			raw, escaped, valid := p.token()
			if !valid || escaped || string(raw) != events.MessageSend || !once(&seen, 1) {
				return false
			}
			sf.Type = events.MessageSend
			return true
		case "id":
			return once(&seen, 2) && p.str(&sf.ID)
		case "data":
			if !once(&seen, 4) {
				return false
			}
			sf.Data = new(sendData)
			return p.sendData(sf.Data)
		}
		return false
	})
	if !ok || !p.end() || sf.Type != events.MessageSend || sf.Data == nil {
		return sendFrame{}, false
	}
	return sf, true
}

// quickScan is decodeSendQuick's cursor over a frame.
type quickScan struct {
	b []byte
	i int
}

func (p *quickScan) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// next skips space and reports whether the next byte is c, consuming it.
func (p *quickScan) next(c byte) bool {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// end reports whether only space follows.
func (p *quickScan) end() bool {
	p.space()
	return p.i == len(p.b)
}

// once marks bit in seen and reports whether it was clear: a key seen
// twice is refused by strictjson.
func once(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// object reads an object, calling field for each key (without escapes),
// with the cursor on the key's value; field reads the value.
func (p *quickScan) object(field func(key []byte) bool) bool {
	if !p.next('{') {
		return false
	}
	if p.next('}') {
		return true
	}
	for {
		key, escaped, ok := p.token()
		if !ok || escaped || !p.next(':') || !field(key) {
			return false
		}
		if p.next(',') {
			continue
		}
		return p.next('}')
	}
}

// token reads a string and returns its source between the quotes, and
// whether it holds an escape. It refuses a control character (a syntax
// error) and invalid UTF-8 (refused by strictjson).
func (p *quickScan) token() (raw []byte, escaped, ok bool) {
	if !p.next('"') {
		return nil, false, false
	}
	start, ascii := p.i, true
	for i := start; i < len(p.b); i++ {
		switch c := p.b[i]; {
		case c == '"':
			p.i = i + 1
			raw = p.b[start:i]
			return raw, escaped, ascii || utf8.Valid(raw)
		case c == '\\':
			escaped = true
			i++ // the escaped character, which may be a quote
		case c < 0x20:
			return nil, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, false
}

// str reads a string value into dst.
func (p *quickScan) str(dst *string) bool {
	p.space()
	start := p.i
	raw, escaped, ok := p.token()
	if !ok {
		return false
	}
	if !escaped {
		*dst = string(raw)
		return true
	}
	// Escapes are rarer (a quote or a line break in a message): the
	// string alone goes to encoding/json. strictjson refuses a \u0000
	// escape and an unpaired surrogate (which encoding/json turns into
	// U+FFFD), so a decoded string holding a NUL or U+FFFD, even one the
	// sender wrote, is left to it.
	if err := json.Unmarshal(p.b[start:p.i], dst); err != nil || strings.ContainsAny(*dst, "\x00\uFFFD") {
		return false
	}
	return true
}

// id reads an ID, a string of decimal digits, as plaza.ID's UnmarshalJSON
// does.
func (p *quickScan) id(dst *plaza.ID) bool {
	p.space()
	start := p.i
	if _, escaped, ok := p.token(); !ok || escaped {
		return false
	}
	return dst.UnmarshalJSON(p.b[start:p.i]) == nil
}

// null reads a JSON null if one comes next.
func (p *quickScan) null() bool {
	p.space()
	if len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "null" {
		p.i += 4
		return true
	}
	return false
}

// optID reads an ID or null (leaving dst nil).
func (p *quickScan) optID(dst **plaza.ID) bool {
	if p.null() {
		*dst = nil
		return true
	}
	*dst = new(plaza.ID)
	return p.id(*dst)
}

// ids reads an array of IDs or null (leaving dst nil); [] is an empty
// slice, as encoding/json decodes it.
func (p *quickScan) ids(dst *[]plaza.ID) bool {
	if p.null() {
		*dst = nil
		return true
	}
	if !p.next('[') {
		return false
	}
	*dst = []plaza.ID{}
	if p.next(']') {
		return true
	}
	for {
		var id plaza.ID
		if !p.id(&id) {
			return false
		}
		*dst = append(*dst, id)
		if p.next(',') {
			continue
		}
		return p.next(']')
	}
}

// sendData reads a send's data object.
func (p *quickScan) sendData(d *sendData) bool {
	var seen uint8
	return p.object(func(key []byte) bool {
		switch string(key) {
		case "conversation_id":
			return once(&seen, 1) && p.id(&d.ConversationID)
		case "client_id":
			return once(&seen, 2) && p.str(&d.ClientID)
		case "kind":
			return once(&seen, 4) && p.str(&d.Kind)
		case "text":
			return once(&seen, 8) && p.str(&d.Text)
		case "media_id":
			return once(&seen, 16) && p.optID(&d.MediaID)
		case "reply_to":
			return once(&seen, 32) && p.optID(&d.ReplyTo)
		case "mentions":
			return once(&seen, 64) && p.ids(&d.Mentions)
		}
		return false
	})
}
