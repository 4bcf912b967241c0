package strictjson

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/plaza-im/plaza"
)

type inner struct {
	Text string `json:"text"`
}

type sample struct {
	Title     string            `json:"title"`
	MemberIDs []string          `json:"member_ids"`
	Data      json.RawMessage   `json:"data"`
	Inner     *inner            `json:"inner"`
	Items     []inner           `json:"items"`
	Labels    map[string]string `json:"labels"`
	Any       any               `json:"any"`
	ID        plaza.ID          `json:"id"`
}

func TestHostileStrictJSON(t *testing.T) {
	for _, tc := range []struct {
		name, body, field string
	}{
		{"nul in value", `{"title":"a\u0000b"}`, "title"},
		{"nul in array element", `{"member_ids":["1","2","x\u0000"]}`, "member_ids[2]"},
		{"nul in nested object", `{"inner":{"text":"\u0000"}}`, "inner.text"},
		{"nul in array of objects", `{"items":[{"text":"ok"},{"text":"a\u0000"}]}`, "items[1].text"},
		{"nul in raw message", `{"data":{"x":["\u0000"]}}`, "data.x[0]"},
		{"nul in map value", `{"labels":{"k":"\u0000"}}`, "labels.k"},
		{"nul in any", `{"any":{"k":"\u0000"}}`, "any.k"},
		{"nul in key", `{"labels":{"a\u0000":"v"}}`, "labels.a\x00"},
		{"invalid utf-8", "{\"title\":\"a\xffb\"}", "title"},
		{"lone high surrogate", `{"title":"\ud800x"}`, "title"},
		{"lone low surrogate", `{"title":"\udc00"}`, "title"},
		{"duplicate key", `{"title":"a","title":"b"}`, "title"},
		{"duplicate nested key", `{"inner":{"text":"a","text":"b"}}`, "inner.text"},
		{"wrong case key", `{"Title":"a"}`, "Title"},
		{"wrong case nested key", `{"inner":{"TEXT":"a"}}`, "inner.TEXT"},
		{"unknown key", `{"nope":1}`, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v sample
			err := Decode([]byte(tc.body), &v)
			if plaza.ErrorCode(err) != plaza.EInvalid {
				t.Fatalf("got %v, want invalid_request", err)
			}
			fields := plaza.AsError(err).Details["fields"].([]plaza.FieldProblem)
			if fields[0].Field != tc.field {
				t.Fatalf("got field %q, want %q (%v)", fields[0].Field, tc.field, err)
			}
		})
	}
}

func TestStrictJSONAccepts(t *testing.T) {
	body := `{"title":"公园 مرحبا 👩‍👩‍👧 \ud83d\ude00 \ufffd \" \\u0000","member_ids":["1"],"data":{"x":1,"y":[1,{"x":2}]},` +
		`"inner":{"text":"t"},"items":[{"text":"a"},{"text":"b"}],"labels":{"a":"b","B":"c"},"any":[{"k":"v"},{"k":"w"}],"id":"12"}`
	var v sample
	if err := Decode([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if want := "公园 مرحبا 👩‍👩‍👧 😀 \ufffd \" \\u0000"; v.Title != want {
		t.Fatalf("got title %q, want %q", v.Title, want)
	}
	if len(v.Items) != 2 || v.Items[1].Text != "b" || v.ID != 12 {
		t.Fatalf("got %+v", v)
	}
}

func TestStrictJSONLeavesSyntaxToDecoder(t *testing.T) {
	for _, body := range []string{`{"title":`, `{"title":"a"} {}`, `[1,2`, `{"title" "a"}`} {
		var v sample
		err := Decode([]byte(body), &v)
		if err == nil {
			t.Fatalf("%s: got no error", body)
		}
	}
}

// A body of deeply nested brackets is refused at a bounded depth, not
// walked: its paths would grow with the depth, costing quadratic time.
func TestHostileDeepNesting(t *testing.T) {
	var v struct {
		Handle string `json:"handle"`
	}
	deep := `{"handle":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`
	err := Check([]byte(deep), &v)
	if plaza.ErrorCode(err) != plaza.EInvalid || !strings.Contains(err.Error(), "deeper than") {
		t.Fatalf("got %v, want invalid_request about nesting", err)
	}
	ok := `{"handle":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`
	if err := Check([]byte(ok), &v); plaza.ErrorCode(err) == plaza.EInvalid && strings.Contains(err.Error(), "deeper than") {
		t.Fatalf("nesting within the bound refused: %v", err)
	}
}

// The scanner must never panic, whatever the input, and whatever Decode
// accepts is JSON.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"title":"a"}`, `{"data":{"x":["\u0000"]}}`, `{"labels":{"a\u0000":"v"}}`,
		`{"title":"\ud800x"}`, `[1,2`, `{"title" "a"}`, `{"items":[{"text":"a"},{"text":"b"}]}`, `"\\u0000"`, `{"title":"a"} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v sample
		if err := Decode(data, &v); err == nil && !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		var a any
		_ = Decode(data, &a)
	})
}

func TestStrictJSONEscapedBackslashIsNotNUL(t *testing.T) {
	var v sample
	if err := Decode([]byte(`{"title":"\\u0000","labels":{"\\u0000":"x"}}`), &v); err != nil {
		t.Fatalf("got %v, want the text \\u0000 accepted", err)
	}
	if v.Title != `\u0000` {
		t.Fatalf("got title %q, want %q", v.Title, `\u0000`)
	}
}

func TestStrictJSONManyKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"labels":{`)
	for i := range 20 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strings.Repeat("x", i) + `":"v"`)
	}
	ok := b.String() + `}}`
	var v sample
	if err := Decode([]byte(ok), &v); err != nil || len(v.Labels) != 20 {
		t.Fatalf("got %v and %d labels, want 20", err, len(v.Labels))
	}
	dup := b.String() + `,"kxxx":"w"}}`
	err := Decode([]byte(dup), &v)
	if plaza.ErrorCode(err) != plaza.EInvalid || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("got %v, want the repeated key refused", err)
	}
}

// BenchmarkDecodeFrame decodes a stream's message.send frame and its data,
// as the realtime package does for every message.
func BenchmarkDecodeFrame(b *testing.B) {
	frame := []byte(`{"type":"message.send","id":"F123","data":{"conversation_id":"123456789012","client_id":"c-1234567890","kind":"text","text":"hello, 你好 — a message of ordinary length for a chat"}}`)
	type outer struct {
		Type string          `json:"type"`
		ID   string          `json:"id"`
		Data json.RawMessage `json:"data"`
	}
	type data struct {
		ConversationID plaza.ID `json:"conversation_id"`
		ClientID       string   `json:"client_id"`
		Kind           string   `json:"kind"`
		Text           string   `json:"text"`
	}
	b.ReportAllocs()
	for b.Loop() {
		var f outer
		if err := Decode(frame, &f); err != nil {
			b.Fatal(err)
		}
		var d data
		if err := Decode(f.Data, &d); err != nil {
			b.Fatal(err)
		}
	}
}
