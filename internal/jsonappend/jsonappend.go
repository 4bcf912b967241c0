// Package jsonappend writes the JSON of a few hot values by hand, byte for
// byte as encoding/json writes them, for the paths where encoding/json's
// reflection and its re-scan of every Marshaler's output cost too much: a
// chat message is encoded once for its events on the single writer
// goroutine, which every send waits for, and through json.Marshal that
// was a tenth of the writer's time at full load.
package jsonappend

import (
	"strconv"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
)

const hex = "0123456789abcdef"

// String appends s as a JSON string, escaped as encoding/json escapes it
// by default: quotes, backslashes and control characters; <, > and & (so
// the JSON is safe inside HTML); U+2028 and U+2029 (line separators to
// JavaScript); and each byte of invalid UTF-8 as U+FFFD.
func String(dst []byte, s string) []byte {
	dst = append(dst, '"')
	done := 0 // s[:done] is in dst
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[done:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			done = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[done:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[done:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		done = i
	}
	dst = append(dst, s[done:]...)
	return append(dst, '"')
}

// ID appends an ID as plaza.ID's MarshalJSON writes it: a string of its
// decimal digits.
func ID(dst []byte, id plaza.ID) []byte {
	dst = append(dst, '"')
	dst = strconv.AppendInt(dst, int64(id), 10)
	return append(dst, '"')
}
