package bench

import (
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
