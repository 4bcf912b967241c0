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
	"errors"
	"fmt"
	"io"
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
func Check(data []byte, v any) error { return check(data, v, true) }

// check is Check; skipRaw lets it pass over json.RawMessage values that
// hold no escape, NUL or invalid UTF-8 (they are checked in full when
// decoded themselves); one that does is walked, to name the field.
func check(data []byte, v any, skipRaw bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	var prev int64
	// next is the path and type of the value the next token starts.
	next := frame{typ: reflect.TypeOf(v)}
	for {
		if skipRaw && next.typ == rawMessage && len(stack) > 0 && stack[len(stack)-1].object && !stack[len(stack)-1].wantKey {
			// A json.RawMessage is decoded by its own Decode call later,
			// which checks its keys with exact paths (data.text); here it
			// is skipped whole rather than walked twice, unless it holds
			// something a string rule may refuse.
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil // a syntax error left to the decoder
			}
			if !utf8.Valid(skip) || bytes.IndexByte(skip, 0) >= 0 || bytes.Contains(skip, []byte(`\u`)) {
				return check(data, v, false)
			}
			prev = dec.InputOffset()
			stack[len(stack)-1].wantKey = true
			next = frame{}
			continue
		}
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF, or a syntax error left to the decoder
		}
		raw := data[prev:dec.InputOffset()]
		prev = dec.InputOffset()
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			key, _ := tok.(string)
			field := join(top.path, key)
			if rule := stringRule(raw, key); rule != "" {
				return plaza.Invalid(field, "names a field with "+rule)
			}
			if _, dup := top.keys[key]; dup {
				return plaza.Invalid(field, "appears twice in one object")
			}
			top.keys[key] = struct{}{}
			typ, known := top.child(key)
			if !known {
				return plaza.Invalid(field, "is not a known field (field names are case-sensitive)")
			}
			top.wantKey = false
			next = frame{path: field, typ: typ}
			continue
		}
		if top != nil && !top.object {
			if d, ok := tok.(json.Delim); ok && d == ']' {
				stack = stack[:len(stack)-1]
				continue
			}
			next = frame{path: top.path + "[" + strconv.Itoa(top.index) + "]", typ: top.elem}
			top.index++
		}
		if top != nil && top.object {
			top.wantKey = true // this token is the value; a key comes next
		}
		switch t := tok.(type) {
		case json.Delim:
			f := &frame{path: next.path, object: t == '{', wantKey: t == '{'}
			typ := concrete(next.typ)
			if f.object {
				f.keys = map[string]struct{}{}
				f.fields, f.values = shape(typ)
			} else if typ != nil && (typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array) {
				f.elem = typ.Elem()
			}
			if len(stack) >= MaxDepth {
				// Paths grow with depth: without a bound, a body of nested
				// brackets costs time quadratic in its size.
				return plaza.Invalid(fieldName(next.path), fmt.Sprintf("nests objects and arrays deeper than %d levels", MaxDepth))
			}
			stack = append(stack, f)
		case string:
			if rule := stringRule(raw, t); rule != "" {
				return plaza.Invalid(fieldName(next.path), rule)
			}
		}
	}
}

// MaxDepth bounds how deeply objects and arrays may nest; Plaza's
// requests need a handful of levels.
const MaxDepth = 32

// rawMessage is the type of a value Check leaves for a later Decode.
var rawMessage = reflect.TypeOf(json.RawMessage(nil))

// Decode checks data with Check and decodes it into v, refusing unknown
// fields and anything after the first value.
func Decode(data []byte, v any) error {
	if err := Check(data, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return plaza.Invalid("body", "must hold a single JSON value")
	}
	return nil
}

// frame is an open object or array.
type frame struct {
	path    string
	typ     reflect.Type
	object  bool
	wantKey bool
	keys    map[string]struct{}
	index   int
	// fields maps the exact names of a struct's fields to their types;
	// nil when the keys are free (a map, any, a custom unmarshaler).
	fields map[string]reflect.Type
	values reflect.Type // a map's value type
	elem   reflect.Type // an array's element type
}

func (f *frame) child(key string) (reflect.Type, bool) {
	if f.fields == nil {
		return f.values, true
	}
	t, ok := f.fields[key]
	return t, ok
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func fieldName(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// stringRule returns why a string token breaks the rules, or "". raw is
// the token's source text (with separators around it), s its decoded
// value.
func stringRule(raw []byte, s string) string {
	if !utf8.Valid(raw) || unpairedSurrogate(raw) {
		return "must be valid UTF-8"
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "must not contain a NUL character (\\u0000)"
	}
	return ""
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
