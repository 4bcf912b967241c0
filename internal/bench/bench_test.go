package bench

import (
	"fmt"
	"testing"
	"time"
)

func TestField(t *testing.T) {
	ack := []byte(`{"type":"message.ack","id":"F7","data":{"id":"123","sender_id":"9","text":"1700000000"}}`)
	for key, want := range map[string]string{"type": "message.ack", "id": "F7", "sender_id": "9", "text": "1700000000", "missing": ""} {
		if got := field(ack, key); got != want {
			t.Errorf("field(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestPercentiles(t *testing.T) {
	var d []int
	for i := 1; i <= 100; i++ {
		d = append(d, i)
	}
	ds := make([]time.Duration, len(d))
	for i, v := range d {
		ds[i] = time.Duration(v)
	}
	p := percentiles(ds)
	if p.P50 != 51 || p.P99 != 100 || p.Max != 100 || p.N != 100 {
		t.Errorf("got %+v, want p50 51, p99 100, max 100, n 100", p)
	}
	if got := percentiles(nil); got.N != 0 {
		t.Errorf("empty: got %+v", got)
	}
}

func TestScan(t *testing.T) {
	created := []byte(`{"type":"message.created","cursor":"812","data":{"id":"77","conversation_id":"5","seq":12,"sender_id":"9","client_id":"g3","kind":"text","text":"1764912000123456789"}}`)
	if got := string(frameType(created)); got != "message.created" {
		t.Errorf("frameType = %q, want message.created", got)
	}
	for _, c := range []struct {
		pat  []byte
		want int64
	}{
		{patCursor, 812},
		{patSeq, 12},
		{patID, 77},
		{patText, 1764912000123456789},
		{[]byte(`"client_id":"g`), 3},
		{[]byte(`"missing":`), -1},
		{patSenderID, 9},
	} {
		if got := num(created, c.pat); got != c.want {
			t.Errorf("num(%s) = %d, want %d", c.pat, got, c.want)
		}
	}
	if got := string(str(created, patSenderID)); got != "9" {
		t.Errorf("str(sender_id) = %q, want 9", got)
	}
	for in, want := range map[string]int64{`"12"`: 12, `0,`: 0, `x`: -1, ``: -1, `99999999999999999999`: -1} {
		if got := digits([]byte(in)); got != want {
			t.Errorf("digits(%q) = %d, want %d", in, got, want)
		}
	}
	if got := string(frameType([]byte(`{"cursor":"1","type":"ready"}`))); got != "ready" {
		t.Errorf("frameType with type not first = %q, want ready", got)
	}
}

// TestStormCounts: the reconnect storm's check counts an event missed, an
// event repeated and a cursor that went back, and nothing else.
func TestStormCounts(t *testing.T) {
	ev := func(cursor, seq int) []byte {
		return []byte(fmt.Sprintf(`{"type":"message.created","cursor":"%d","data":{"id":"1","conversation_id":"7","seq":%d,"sender_id":"3","text":"away"}}`, cursor, seq))
	}
	other := []byte(`{"type":"message.created","cursor":"90","data":{"id":"1","conversation_id":"8","seq":1,"sender_id":"3","text":"x"}}`)
	for _, c := range []struct {
		name           string
		frames         [][]byte
		got, dup, gap  int64
		ready, settled bool
	}{
		{"in order", [][]byte{ev(11, 3), ev(12, 4), []byte(`{"type":"ready","cursor":"12"}`)}, 2, 0, 0, true, true},
		{"a repeat", [][]byte{ev(11, 3), ev(11, 3), ev(12, 4)}, 2, 1, 1, false, false},
		{"a gap", [][]byte{ev(11, 3), ev(13, 5)}, 2, 0, 1, false, false},
		{"another conversation", [][]byte{other, ev(91, 3)}, 1, 0, 0, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := &stormDevice{conv: "7", cursor: 10, seq: 2}
			s := &storm{counting: true}
			ready := false
			for _, f := range c.frames {
				ready = d.handle(f, time.Now(), s) || ready
			}
			if d.got != c.got || d.dup != c.dup || d.gap != c.gap {
				t.Errorf("got %d in order, %d repeated, %d out of order; want %d, %d, %d", d.got, d.dup, d.gap, c.got, c.dup, c.gap)
			}
			if ready != c.ready || (s.settled.Load() == 1) != c.settled || s.arrived.Load() != c.got {
				t.Errorf("ready %v, settled %d, arrived %d; want ready %v, settled %v, arrived %d", ready, s.settled.Load(), s.arrived.Load(), c.ready, c.settled, c.got)
			}
		})
	}
}
