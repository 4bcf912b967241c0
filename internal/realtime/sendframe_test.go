package realtime

import (
	"reflect"
	"testing"

	"github.com/plaza-im/plaza/internal/strictjson"
)

// quickFrames are sends as devices write them (the web client's
// JSON.stringify, the load generator's encoder): decodeSendQuick must take
// every one.
var quickFrames = []string{
	`{"type":"message.send","id":"1","data":{"conversation_id":"12","client_id":"c1","kind":"text","text":"hello"}}`,
	`{"type":"message.send","id":"w-7","data":{"conversation_id":"7410000000000000123","client_id":"0f8fad5b-d9cb-469f-a165-70867728950e","kind":"text","text":"你好，世界 😀 مرحبا"}}`,
	`{"type":"message.send","id":"3","data":{"conversation_id":"12","client_id":"c3","kind":"text","text":"line one\nline \"two\"\t\\ \u4e16 \ud83d\ude00 \/"}}`,
	` { "id" : "4" , "data" : { "text" : "x" , "kind" : "image" , "media_id" : "99" , "reply_to" : "7" , "mentions" : [ "5" , "6" ] , "client_id" : "c4" , "conversation_id" : "12" } , "type" : "message.send" } `,
	"{\"type\":\"message.send\",\"id\":\"5\",\"data\":{\"conversation_id\":\"12\",\"client_id\":\"c5\",\"kind\":\"text\",\"text\":\"a\",\"mentions\":null,\"media_id\":null,\"reply_to\":null}}\n",
	`{"type":"message.send","id":"6","data":{"conversation_id":"12","client_id":"c6","kind":"text","text":"","mentions":[]}}`,
	`{"type":"message.send","data":{"conversation_id":"12","client_id":"c7","kind":"text","text":"no id"}}`,
	`{"type":"message.send","id":"8","data":{}}`,
	`{"type":"message.send","id":"9","data":{"conversation_id":"12","client_id":"c9","kind":"text","text":"\\u0000 is text, not a NUL"}}`,
}

// TestDecodeSendQuickTakesDevicesFrames: the quick pass takes the frames
// devices send, and decodes them as strictjson does.
func TestDecodeSendQuickTakesDevicesFrames(t *testing.T) {
	for _, frame := range quickFrames {
		got, ok := decodeSendQuick([]byte(frame))
		if !ok {
			t.Errorf("%s: not taken by the quick pass", frame)
			continue
		}
		var want sendFrame
		if err := strictjson.Decode([]byte(frame), &want); err != nil {
			t.Fatalf("%s: strictjson refuses it: %v", frame, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\nquick  %+v %+v\nstrict %+v %+v", frame, got, *got.Data, want, *want.Data)
		}
	}
}

// TestDecodeSendQuickLeavesTheRest: frames that strictjson refuses, that
// are not sends, or that the quick pass is unsure of, are left to it, so
// that it takes them or its errors answer them as before.
func TestDecodeSendQuickLeavesTheRest(t *testing.T) {
	frames := append([]string{
		`{"type":"message.send","type":"message.send","id":"12b","data":{}}`,
		"{\"type\":\"message.send\",\"id\":\"14b\",\"data\":{\"text\":\"a raw \t tab\"}}",
		`{"type":"message.send","id":"18b","data":{"text":"\udc00\ud800"}}`,
		`{"type":"message.send","id":"22","data":{"conversation_id":"0"}}`,
		`{"type":"message.send","id":"23","data":{"conversation_id":12}}`,
		`{"type":"message.send","id":"24","data":{"mentions":["5",]}}`,
		`{"type":"message.send","id":"25","data":{"media_id":nul}}`,
		`{"type":"message.send","id":"26","data":{"text":"\x"}}`,
		`{"type":"message.send","id":"27","data":{"conversation_id":null}}`,
		`{"type":"message.send","id":"27b","data":{"text":null}}`,
		`{"type":"message\u002esend","id":"28","data":{}}`,
		`{"t\u0079pe":"message.send","id":"29","data":{}}`,
		`{"type":"message.send","id":"30","data":{},}`,
		`{"type":"message.send","id":"31","data":{"conversation_id":"1\u0032"}}`,
	}, refusedSends...)
	for _, frame := range frames {
		if sf, ok := decodeSendQuick([]byte(frame)); ok {
			t.Errorf("%s: taken by the quick pass as %+v", frame, sf)
		}
	}
	// Escapes in a key or in the type are valid JSON that the quick pass
	// leaves: the send is still taken, by strictjson.
	for _, frame := range []string{
		`{"type":"message\u002esend","id":"28","data":{}}`,
		`{"t\u0079pe":"message.send","id":"29","data":{}}`,
		`{"type":"message.send","id":"32","data":{"te\u0078t":"key escaped"}}`,
	} {
		if _, ok := decodeSend([]byte(frame)); !ok {
			t.Errorf("%s: not taken by decodeSend", frame)
		}
	}
}

// FuzzDecodeSendQuick: whatever the quick pass takes, strictjson takes
// too and decodes the same.
func FuzzDecodeSendQuick(f *testing.F) {
	for _, frame := range quickFrames {
		f.Add([]byte(frame))
	}
	f.Add([]byte(`{"type":"message.send","id":"1","data":{"text":"\ud800\udc00 \u0000 \uFFFD","mentions":["1","2"],"media_id":"3"}}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		got, ok := decodeSendQuick(frame)
		if !ok {
			return
		}
		var want sendFrame
		if err := strictjson.Decode(frame, &want); err != nil {
			t.Fatalf("%q: taken by the quick pass, refused by strictjson: %v", frame, err)
		}
		if want.Data == nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nquick  %+v\nstrict %+v", frame, got, want)
		}
	})
}
