package httpapi

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// acks reads frames until it has n acks or errors for frame IDs, in
// arrival order, skipping deliveries.
func (s *stream) acks(n int) []map[string]any {
	s.t.Helper()
	var out []map[string]any
	for len(out) < n {
		f := s.next()
		if f["type"] == "message.ack" || f["type"] == "error" {
			out = append(out, f)
		}
	}
	return out
}

// TestHostileFrameOrder: 300 frames sent back to back on one connection,
// without waiting for acks, are stored with seq in frame order and acked
// in frame order.
func TestHostileFrameOrder(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		a, b := e.verified("order_a"), e.verified("order_b")
		e.befriend(a, b)
		conv := e.direct(a, b)
		s := e.dial(a, "")
		s.until("ready")
		const n = 300
		for i := range n {
			s.sendFrame(map[string]any{"type": "message.send", "id": fmt.Sprint("F", i), "data": map[string]any{
				"conversation_id": conv, "client_id": fmt.Sprint("c", i), "kind": "text", "text": fmt.Sprint("m", i),
			}})
		}
		got := s.acks(n)
		for i, f := range got {
			if f["type"] != "message.ack" || f["id"] != fmt.Sprint("F", i) {
				t.Fatalf("frame %d: got %v %v, want message.ack F%d", i, f["type"], f["id"], i)
			}
			d := f["data"].(map[string]any)
			if d["seq"] != float64(i+1) || d["text"] != fmt.Sprint("m", i) {
				t.Fatalf("ack F%d: got seq %v text %v, want seq %d text m%d", i, d["seq"], d["text"], i+1, i)
			}
		}
		inversions, i := 0, 0
		for _, after := range []int{0, 150} {
			hist := e.do("GET", fmt.Sprintf("/api/v1/conversations/%s/messages?after_seq=%d&limit=150", conv, after), a.token, nil).want(t, 200, "")
			for _, it := range hist.body["items"].([]any) {
				if it.(map[string]any)["text"] != fmt.Sprint("m", i) {
					inversions++
				}
				i++
			}
		}
		if i != n {
			t.Fatalf("got %d messages stored, want %d", i, n)
		}
		if inversions != 0 {
			t.Fatalf("got %d messages out of frame order, want 0", inversions)
		}
	})
}

// TestHostileDuplicateClientIDOnOneConnection: two frames with one
// client_id and different texts both get the first text, every time.
func TestHostileDuplicateClientIDOnOneConnection(t *testing.T) {
	e := newEnv(t)
	a, b := e.verified("dup_a"), e.verified("dup_b")
	e.befriend(a, b)
	conv := e.direct(a, b)
	s := e.dial(a, "")
	s.until("ready")
	const rounds = 50
	for i := range rounds {
		for j, text := range []string{"first", "second"} {
			s.sendFrame(map[string]any{"type": "message.send", "id": fmt.Sprint("F", i, "-", j), "data": map[string]any{
				"conversation_id": conv, "client_id": fmt.Sprint("same", i), "kind": "text", "text": fmt.Sprint(text, i),
			}})
		}
	}
	got := s.acks(2 * rounds)
	for k, f := range got {
		d, _ := f["data"].(map[string]any)
		if f["type"] != "message.ack" || d["text"] != fmt.Sprint("first", k/2) || d["seq"] != float64(k/2+1) {
			t.Fatalf("ack %d (%v): got %v text %v seq %v, want first%d seq %d", k, f["id"], f["type"], d["text"], d["seq"], k/2, k/2+1)
		}
	}
}

// TestHostileStrictFrames: stream frames follow the body rules.
func TestHostileStrictFrames(t *testing.T) {
	e := newEnv(t)
	a, b := e.verified("frame_a"), e.verified("frame_b")
	e.befriend(a, b)
	conv := e.direct(a, b)
	s := e.dial(a, "")
	s.until("ready")
	write := func(raw string) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.ws.Write(ctx, websocket.MessageText, []byte(raw)); err != nil {
			t.Fatal(err)
		}
		return s.until("error")
	}
	for _, tc := range []struct{ raw, field string }{
		{`{"type":"message.send","id":"F1","data":{"conversation_id":"` + conv + `","client_id":"c1","kind":"text","text":"a\u0000b"}}`, "data.text"},
		{"{\"type\":\"message.send\",\"id\":\"F2\",\"data\":{\"conversation_id\":\"" + conv + "\",\"client_id\":\"c1\",\"kind\":\"text\",\"text\":\"a\xffb\"}}", "data.text"},
		{`{"type":"message.send","id":"F3","data":{"conversation_id":"` + conv + `","client_id":"c1","kind":"text","text":"a","text":"b"}}`, "data.text"},
		{`{"type":"message.send","id":"F4","data":{"conversation_id":"` + conv + `","client_id":"c1","kind":"text","Text":"a"}}`, "data.Text"},
		{`{"type":"message.send","id":"F5","data":{"conversation_id":"` + conv + `","client_id":"c\u00001","kind":"text","text":"a"}}`, "data.client_id"},
		{`{"Type":"message.send","id":"F6","data":{}}`, "Type"},
	} {
		f := write(tc.raw)
		d := f["data"].(map[string]any)
		details, _ := d["details"].(map[string]any)
		fields, _ := details["fields"].([]any)
		if d["code"] != "invalid_request" || len(fields) == 0 || fields[0].(map[string]any)["field"] != tc.field {
			t.Fatalf("%s: got %v, want invalid_request naming %s", tc.raw, f, tc.field)
		}
	}
	hist := e.do("GET", "/api/v1/conversations/"+conv+"/messages?after_seq=0", a.token, nil).want(t, 200, "")
	if items := hist.body["items"].([]any); len(items) != 0 {
		t.Fatalf("got %d messages after refused frames, want 0", len(items))
	}
}
