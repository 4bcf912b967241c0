package jsonappend

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/plaza-im/plaza"
)

var samples = []string{
	"", "hello", "你好，世界 😀", `quote " backslash \ slash /`, "<script>&amp;</script>",
	"controls \x00\x01\x07\b\f\n\r\t\x1f\x7f", "separators \u2028 \u2029 \u2027 \u202a",
	"bad utf-8 \xff \xc3 \xe4\xbd end\xe4", "\ufffd already", "mixed 中文 and ASCII <b>",
}

// TestStringMatchesEncodingJSON: String writes what json.Marshal writes.
func TestStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range samples {
		want, _ := json.Marshal(s)
		if got := String(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

// TestIDMatchesPlazaID: ID writes what plaza.ID's MarshalJSON writes.
func TestIDMatchesPlazaID(t *testing.T) {
	for _, id := range []plaza.ID{1, 42, 7410000000000000123, 1<<63 - 1, 0, -7} {
		want, _ := id.MarshalJSON()
		if got := ID([]byte("x"), id); !bytes.Equal(got[1:], want) {
			t.Errorf("%d: got %s, want %s", id, got[1:], want)
		}
	}
}

// FuzzString: String agrees with json.Marshal on any string.
func FuzzString(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := String([]byte("prefix"), s); !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("%q: got %s, want %s", s, got[len("prefix"):], want)
		}
	})
}

func BenchmarkString(b *testing.B) {
	s := "Bench message 123, a sentence of ordinary length. 一句中文。"
	b.Run("jsonappend", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf = String(buf[:0], s)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(s)
		}
	})
}
