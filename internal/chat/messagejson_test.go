package chat

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
)

// fullMessage has every field set, none to its zero value.
func fullMessage() Message {
	media, reply := plaza.ID(77), plaza.ID(78)
	return Message{
		ID: 7410000000000000123, ConversationID: 12, Seq: 345, SenderID: 9,
		ClientID: "c-1", Kind: "image", Text: "你好 <b>&</b> \"quoted\"\n😀 \u2028 \xff",
		MediaID: &media, ReplyTo: &reply, Mentions: []plaza.ID{5, 6},
		Recalled: true, CreatedAt: time.Date(2026, 12, 6, 19, 30, 1, 123456789, time.UTC),
		Moderation: plaza.Moderation{Action: "label"}, Label: "a note <i>", Removed: true, DecisionID: 99,
	}
}

// TestMessageJSONMatchesEncodingJSON: appendJSON writes what json.Marshal
// writes, for a message with every field set and with each optional one
// left out.
func TestMessageJSONMatchesEncodingJSON(t *testing.T) {
	zoned := time.FixedZone("CST", 8*3600)
	cases := map[string]func(m *Message){
		"every field": func(m *Message) {},
		"plain text": func(m *Message) {
			*m = Message{ID: 1, ConversationID: 2, Seq: 1, SenderID: 3, ClientID: "c", Kind: "text", Text: "hi", CreatedAt: time.UnixMicro(1_800_000_000_000_001)}
		},
		"no media":       func(m *Message) { m.MediaID = nil },
		"no reply":       func(m *Message) { m.ReplyTo = nil },
		"no mentions":    func(m *Message) { m.Mentions = nil },
		"empty mentions": func(m *Message) { m.Mentions = []plaza.ID{} },
		"not recalled":   func(m *Message) { m.Recalled = false },
		"no label":       func(m *Message) { m.Label = "" },
		"not removed":    func(m *Message) { m.Removed = false },
		"no decision":    func(m *Message) { m.DecisionID = 0 },
		"zoned time":     func(m *Message) { m.CreatedAt = m.CreatedAt.In(zoned) },
		"whole second":   func(m *Message) { m.CreatedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		"zero time":      func(m *Message) { m.CreatedAt = time.Time{} },
	}
	for name, edit := range cases {
		m := fullMessage()
		edit(&m)
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := m.appendJSON(nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s:\ngot  %s (%v)\nwant %s", name, got, err, want)
		}
	}
	m := fullMessage()
	m.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := json.Marshal(m); err == nil {
		t.Fatal("json.Marshal took the year 10000")
	}
	if got, err := m.appendJSON(nil); err == nil {
		t.Errorf("the year 10000: got %s, want an error as json.Marshal gives", got)
	}
}

// TestMessageJSONHasEveryField: every field Message gives JSON is in
// fullMessage's, so that a field added to Message and not to appendJSON
// fails TestMessageJSONMatchesEncodingJSON.
func TestMessageJSONHasEveryField(t *testing.T) {
	var keys map[string]json.RawMessage
	m := fullMessage()
	b, _ := m.appendJSON(nil)
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeFor[Message]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = typ.Field(i).Name // as encoding/json names it
		}
		if _, ok := keys[name]; !ok {
			t.Errorf("field %s (%q) is not in the message's JSON", typ.Field(i).Name, name)
		}
	}
}

// FuzzMessageJSON: appendJSON agrees with json.Marshal for any text.
func FuzzMessageJSON(f *testing.F) {
	f.Add("hello", "c-1", "text", "", int64(1_800_000_000), int64(123), int32(0), true)
	f.Add("你好 <b>&amp;</b>\n\u2028\xff", "\x00", "image", "note", int64(-5), int64(-1), int32(8*3600), false)
	f.Add("year 10000", "c", "text", "", int64(253402300800), int64(0), int32(0), false)
	f.Add("offset of a day", "c", "text", "", int64(0), int64(0), int32(86400), false)
	f.Fuzz(func(t *testing.T, text, clientID, kind, label string, sec, nsec int64, offset int32, flags bool) {
		m := fullMessage()
		m.Text, m.ClientID, m.Kind, m.Label = text, clientID, kind, label
		m.CreatedAt = time.Unix(sec, nsec).In(time.FixedZone("", int(offset)))
		if flags {
			m.MediaID, m.Mentions, m.Removed = nil, nil, false
		}
		want, err := json.Marshal(m)
		got, err2 := m.appendJSON([]byte("x"))
		if (err == nil) != (err2 == nil) || err == nil && !bytes.Equal(got[1:], want) {
			t.Fatalf("got %s (%v), want %s (%v)", got, err2, want, err)
		}
	})
}

func BenchmarkMessageJSON(b *testing.B) {
	m := fullMessage()
	m.MediaID, m.ReplyTo, m.Mentions, m.Label, m.Removed, m.DecisionID = nil, nil, nil, "", false, 0
	m.Text = "Bench message 123, a sentence of ordinary length. 一句中文。"
	b.Run("appendJSON", func(b *testing.B) {
		for b.Loop() {
			_, _ = m.appendJSON(make([]byte, 0, 256+len(m.Text)))
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(m)
		}
	})
}
