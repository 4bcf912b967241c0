// Package strictjson decodes untrusted JSON strictly: object keys must match
// a field's name exactly (encoding/json matches them case-insensitively),
// no object may repeat a key, no string may hold invalid UTF-8, an unpaired
// surrogate escape or a NUL character, and unknown fields are refused.
// encoding/json would replace bad UTF-8 with U+FFFD silently, keep the
// last of duplicate keys and let "\u0000" through to a database that
// cannot store it. Every error is a plaza invalid_request naming the field
// by its path, e.g. "text", "data.client_id" or "member_ids[2]".
package strictjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
)

// Check walks data and returns an invalid_request error for the first
// string or key that breaks the rules, or a key that does not exactly name
// a field of v's type. It does not report syntax errors: a decoder run
// afterwards reports those in its own words.
func Check(data []byte, v any) error {
	_, err := check(data, v)
	return err
}

// check is Check; it also returns the offset just past the first JSON
// value, or -1 when the walk stopped at a syntax error.
//
// It is a hand-written scanner rather than a walk of encoding/json's
// tokens: every client frame and request body passes through it, and
// json.Decoder.Token allocates for each token, which cost as much CPU
// per chat message as the decoding itself. The scanner allocates only
// for paths in errors, for keys with escapes, and for the sets of keys of
// objects larger than a few fields.
func check(data []byte, v any) (int, error) {
	s := scanner{data: data}
	if err := s.value(reflect.TypeOf(v), 0); err != nil {
		return -1, err
	}
	if s.bad {
		return -1, nil
	}
	return s.pos, nil
}

// MaxDepth bounds how deeply objects and arrays may nest; Plaza's
// requests need a handful of levels.
const MaxDepth = 32

// Decode checks data with Check and decodes it into v, refusing unknown
// fields and anything after the first value.
func Decode(data []byte, v any) error {
	end, err := check(data, v)
	if err != nil {
		return err
	}
	if end >= 0 && len(bytes.TrimLeft(data[end:], " \t\r\n")) > 0 {
		return plaza.Invalid("body", "must hold a single JSON value")
	}
	// Check has refused every key that is not exactly a field of a
	// struct, which is all DisallowUnknownFields would add, so the faster
	// Unmarshal decodes.
	return json.Unmarshal(data, v)
}

// A pathElem is one step of the path to the value being scanned: an
// object key (its source text, with quotes) or an array index.
type pathElem struct {
	key   []byte
	index int
}

// scanner walks one JSON text. On a syntax error it sets bad and stops:
// the decoder that runs afterwards reports it.
type scanner struct {
	data []byte
	pos  int
	bad  bool
	path []pathElem
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// pathString renders the current path, e.g. "data.member_ids[2]".
func (s *scanner) pathString() string {
	var b strings.Builder
	for _, e := range s.path {
		if e.key == nil {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(decodeKey(e.key))
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

// value scans one value whose Go type is typ (nil: anything goes).
func (s *scanner) value(typ reflect.Type, depth int) error {
	s.skipSpace()
	if s.pos >= len(s.data) {
		s.bad = true
		return nil
	}
	switch c := s.data[s.pos]; c {
	case '{', '[':
		if depth >= MaxDepth {
			// Paths grow with depth: without a bound, a body of nested
			// brackets costs time quadratic in its size.
			return plaza.Invalid(s.pathString(), fmt.Sprintf("nests objects and arrays deeper than %d levels", MaxDepth))
		}
		if c == '{' {
			return s.object(concrete(typ), depth+1)
		}
		return s.array(concrete(typ), depth+1)
	case '"':
		raw, ok := s.str()
		if !ok {
			return nil
		}
		if rule := stringRule(raw); rule != "" {
			return plaza.Invalid(s.pathString(), rule)
		}
		return nil
	default:
		// A number or literal: its syntax is the decoder's business.
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return nil
			}
			s.pos++
		}
		return nil
	}
}

// str scans a string starting at s.pos and returns its source text
// between the quotes.
func (s *scanner) str() ([]byte, bool) {
	start := s.pos + 1
	for i := start; i < len(s.data); i++ {
		switch s.data[i] {
		case '\\':
			i++ // skip the escaped character (it may be a quote)
		case '"':
			s.pos = i + 1
			return s.data[start:i], true
		}
	}
	s.bad = true
	return nil, false
}

func (s *scanner) object(typ reflect.Type, depth int) error {
	fields, values := shape(typ)
	s.pos++ // {
	// keys holds the keys seen, to refuse a repeated one: a short list
	// compared in turn, and a map once an object grows past it.
	var small [8][]byte
	keys := small[:0]
	var many map[string]struct{}
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			s.bad = true
			return nil
		}
		raw, ok := s.str()
		if !ok {
			return nil
		}
		s.path = append(s.path, pathElem{key: raw})
		if rule := stringRule(raw); rule != "" {
			return plaza.Invalid(s.pathString(), "names a field with "+rule)
		}
		// Keys are compared by their decoded text, as encoding/json does.
		key := raw
		if bytes.IndexByte(raw, '\\') >= 0 {
			key = []byte(decodeKey(raw))
		}
		dup := false
		if many != nil {
			_, dup = many[string(key)]
			many[string(key)] = struct{}{}
		} else {
			for _, k := range keys {
				if bytes.Equal(k, key) {
					dup = true
					break
				}
			}
			if keys = append(keys, key); len(keys) > len(small) {
				many = make(map[string]struct{}, 2*len(keys))
				for _, k := range keys {
					many[string(k)] = struct{}{}
				}
			}
		}
		if dup {
			return plaza.Invalid(s.pathString(), "appears twice in one object")
		}
		child := values
		if fields != nil {
			t, known := fields[string(key)]
			if !known {
				return plaza.Invalid(s.pathString(), "is not a known field (field names are case-sensitive)")
			}
			child = t
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			s.bad = true
			return nil
		}
		s.pos++
		if err := s.value(child, depth); err != nil || s.bad {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		s.skipSpace()
		if s.pos >= len(s.data) {
			s.bad = true
			return nil
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			s.bad = true
			return nil
		}
	}
}

func (s *scanner) array(typ reflect.Type, depth int) error {
	var elem reflect.Type
	if typ != nil && (typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array) {
		elem = typ.Elem()
	}
	s.pos++ // [
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	s.path = append(s.path, pathElem{})
	for i := 0; ; i++ {
		s.path[len(s.path)-1].index = i
		if err := s.value(elem, depth); err != nil || s.bad {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			s.bad = true
			return nil
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			s.path = s.path[:len(s.path)-1]
			return nil
		default:
			s.bad = true
			return nil
		}
	}
}

// decodeKey returns a key's text from its source between the quotes.
func decodeKey(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw)
	}
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	var k string
	if err := json.Unmarshal(quoted, &k); err != nil {
		return string(raw)
	}
	return k
}

// stringRule returns why a string breaks the rules, or "". raw is its
// source text between the quotes.
func stringRule(raw []byte) string {
	if !utf8.Valid(raw) || unpairedSurrogate(raw) {
		return "must be valid UTF-8"
	}
	// A raw NUL byte is a syntax error the decoder reports; the escape
	// is the way a NUL reaches a decoded string.
	if bytes.Contains(raw, []byte(`\u0000`)) && hasNULEscape(raw) {
		return "must not contain a NUL character (\\u0000)"
	}
	return ""
}

// hasNULEscape reports a \u0000 escape in raw, telling it from an
// escaped backslash followed by "u0000" (the text \u0000).
func hasNULEscape(raw []byte) bool {
	for i := 0; i < len(raw)-1; i++ {
		if raw[i] != '\\' {
			continue
		}
		if raw[i+1] == 'u' && i+5 < len(raw) && string(raw[i+2:i+6]) == "0000" {
			return true
		}
		i++ // skip the escaped character
	}
	return false
}

// unpairedSurrogate reports a \uD800–\uDFFF escape that is not a high
// surrogate followed by a low one; encoding/json turns those into U+FFFD.
func unpairedSurrogate(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // skip the escaped character (it may be a backslash)
			continue
		}
		r, ok := hex4(raw[i+2:])
		if !ok {
			return false // a syntax error, reported by the decoder
		}
		i += 5
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			if i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return true
			}
			lo, ok := hex4(raw[i+3:])
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 6
		}
	}
	return false
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n), err == nil
}

var (
	unmarshaler = reflect.TypeFor[json.Unmarshaler]()
	shapes      sync.Map // reflect.Type → map[string]reflect.Type
)

// concrete strips pointers and returns nil for types whose keys this
// package cannot know: interfaces and types that decode themselves.
func concrete(t reflect.Type) reflect.Type {
	for t != nil {
		if t.Kind() == reflect.Interface || t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) {
			return nil
		}
		if t.Kind() != reflect.Pointer {
			return t
		}
		t = t.Elem()
	}
	return nil
}

// shape returns a struct's fields by exact JSON name, or, for a map, its
// value type.
func shape(t reflect.Type) (map[string]reflect.Type, reflect.Type) {
	if t == nil {
		return nil, nil
	}
	switch t.Kind() {
	case reflect.Map:
		return nil, t.Elem()
	case reflect.Struct:
		if m, ok := shapes.Load(t); ok {
			return m.(map[string]reflect.Type), nil
		}
		m := map[string]reflect.Type{}
		addFields(m, t, 0)
		shapes.Store(t, m)
		return m, nil
	}
	return nil, nil
}

// addFields follows encoding/json's naming: the tag's name or the field's
// name; embedded structs without a tag name lend their fields (a shallower
// field wins).
func addFields(m map[string]reflect.Type, t reflect.Type, depth int) {
	if depth > 8 {
		return
	}
	var embedded []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, f)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := m[name]; !ok {
			m[name] = f.Type
		}
	}
	for _, f := range embedded {
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		addFields(m, ft, depth+1)
	}
}
