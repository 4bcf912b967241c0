package export_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// schema is schema.json's shape.
type schema struct {
	Files map[string]struct {
		Description string            `json:"description"`
		Fields      map[string]string `json:"fields"`
	} `json:"files"`
	Objects map[string]map[string]string `json:"objects"`
}

// idPart turns the IDs in a file name into the schema's "ID".
var idPart = regexp.MustCompile(`(^|/)[0-9]+(/|\.json$)`)

// ref is a field's object type: "{name}" or "[name]" at the start of its
// description.
var ref = regexp.MustCompile(`^[\[{]([a-z_]+)[\]}]`)

// checkSchema checks that schema.json describes every JSON file of an
// export and every field found in them, at any depth.
func checkSchema(tb testing.TB, files unzipped) {
	tb.Helper()
	var sc schema
	files.json(tb, "schema.json", &sc)
	var walk func(where, object string, v any)
	walk = func(where, object string, v any) {
		switch v := v.(type) {
		case []any:
			for _, el := range v {
				walk(where, object, el)
			}
		case map[string]any:
			fields, ok := sc.Objects[object]
			if !ok {
				tb.Errorf("schema.json has no object %q (used at %s)", object, where)
				return
			}
			for k, fv := range v {
				desc, ok := fields[k]
				if !ok {
					tb.Errorf("schema.json: object %q has no field %q (found at %s)", object, k, where)
					continue
				}
				if m := ref.FindStringSubmatch(desc); m != nil {
					walk(where+"."+k, m[1], fv)
				}
			}
		}
	}
	for name, b := range files {
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		pattern := idPart.ReplaceAllString(name, "${1}ID${2}")
		f, ok := sc.Files[pattern]
		if !ok {
			tb.Errorf("schema.json does not describe %s (as %s)", name, pattern)
			continue
		}
		var top map[string]any
		if err := json.Unmarshal(b, &top); err != nil {
			tb.Errorf("%s: %v", name, err)
			continue
		}
		for k, v := range top {
			desc, ok := f.Fields[k]
			if !ok {
				tb.Errorf("schema.json: %s has no field %q", pattern, k)
				continue
			}
			if m := ref.FindStringSubmatch(desc); m != nil {
				walk(name+":"+k, m[1], v)
			}
		}
	}
}
