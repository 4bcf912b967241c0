package realtime

import (
	"reflect"
	"testing"

	"github.com/plaza-im/plaza/internal/strictjson"
)

// refusedSends are frames that the two passes refuse, or that are not
// sends.
var refusedSends = []string{
	`{"type":"message.send","id":"7","data":null}`,
	`{"type":"message.send","id":"8"}`,
	`{"type":"message.send","id":"9","data":[1]}`,
	`{"type":"message.send","id":"10","data":{"conversation_id":"12","text":5}}`,
	`{"type":"message.send","id":"11","data":{"conversation_id":"12","extra":1}}`,
	`{"type":"message.send","id":"12","data":{"conversation_id":"12","text":"a","text":"b"}}`,
	`{"type":"message.send","id":"13","data":{"conversation_id":"12","text":"nul \u0000"}}`,
	"{\"type\":\"message.send\",\"id\":\"14\",\"data\":{\"text\":\"bad \xff\"}}",
	`{"type":"message.send","id":"15","data":{"Text":"case"}}`,
	`{"type":"message.send","id":"16","data":{"text":"a"},"more":1}`,
	`{"type":"message.send","id":"17","data":{"text":"a"}} {}`,
	`{"type":"message.send","id":"18","data":{"text":"\ud800"}}`,
	`{"type":"typing","id":"19","data":{"conversation_id":"12"}}`,
	`{"type":"message.send","id":20,"data":{"text":"a"}}`,
	`{"type":"message.send","id":"21","data":{"text":"a"}`,
	`[]`,
	``,
}

// TestDecodeSendAgreesWithTwoPasses: a send decoded whole gives what
// decoding the frame and then its data gives, and it takes every frame
// that those two accept as a send. Any frame it refuses goes the two
// passes' way, whose errors the contract tests pin down, so a frame the
// two disagree on would change an answer only if decodeSend took it.
func TestDecodeSendAgreesWithTwoPasses(t *testing.T) {
	frames := []string{
		`{"type":"message.send","id":"1","data":{"conversation_id":"12","client_id":"c1","kind":"text","text":"hello"}}`,
		`{"type":"message.send","id":"中","data":{"conversation_id":"12","client_id":"c2","kind":"text","text":"你好，\u4e16\u754c 😀 \ud83d\ude00"}}`,
		` {"id":"3", "data": {"text":"x","kind":"image","media_id":"99","reply_to":"7","mentions":["5","6"],"client_id":"c3","conversation_id":"12"}, "type":"message.send"} `,
		`{"type":"message.send","data":{"conversation_id":"12","client_id":"c4","kind":"text","text":"no id"}}`,
		`{"type":"message.send","id":"5","data":{"conversation_id":"12","client_id":"c5","kind":"text","text":"a","mentions":null,"media_id":null}}`,
		`{"type":"message.send","id":"6","data":{}}`,
	}
	frames = append(frames, refusedSends...)
	for _, frame := range frames {
		sf, ok := decodeSend([]byte(frame))
		var f clientFrame
		var d sendData
		twoPass := strictjson.Decode([]byte(frame), &f) == nil && f.Type == "message.send" &&
			strictjson.Decode(f.Data, &d) == nil && string(f.Data) != "null"
		if ok != twoPass {
			t.Errorf("%s: decoded whole %v, in two passes %v", frame, ok, twoPass)
			continue
		}
		if ok && (sf.ID != f.ID || !reflect.DeepEqual(*sf.Data, d)) {
			t.Errorf("%s: whole %q %+v, in two passes %q %+v", frame, sf.ID, *sf.Data, f.ID, d)
		}
	}
}

// BenchmarkDecodeSend: a typical send, decoded whole (by the quick pass),
// by strictjson alone, and in two passes.
func BenchmarkDecodeSend(b *testing.B) {
	frame := []byte(`{"type":"message.send","id":"b-1234","data":{"conversation_id":"7410000000000000123","client_id":"p12-000123","kind":"text","text":"Bench message 123, a sentence of ordinary length. 一句中文。"}}`)
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			if _, ok := decodeSend(frame); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("strictjson", func(b *testing.B) {
		for b.Loop() {
			var sf sendFrame
			if strictjson.Decode(frame, &sf) != nil {
				b.Fatal("refused")
			}
		}
	})
	b.Run("two-passes", func(b *testing.B) {
		for b.Loop() {
			var f clientFrame
			var d sendData
			if strictjson.Decode(frame, &f) != nil || strictjson.Decode(f.Data, &d) != nil {
				b.Fatal("refused")
			}
		}
	})
}
