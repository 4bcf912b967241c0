package events

import (
	"os"
	"strings"
	"testing"
)

// TestEveryFrameTypeIsInTheAPIDocs checks docs/api.md's section on the
// stream against Types: a frame type added in code but not documented,
// or documented with the wrong direction or sync log column, fails. The OpenAPI document
// lists Types itself (x-plaza-frames on the stream), checked in httpapi.
func TestEveryFrameTypeIsInTheAPIDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "### Sync and the stream")
	if start < 0 {
		t.Fatal(`docs/api.md has no "### Sync and the stream" section`)
	}
	section := doc[start:]
	if end := strings.Index(section[1:], "\n## "); end >= 0 {
		section = section[:end+1]
	}
	for _, ft := range Types {
		row := "| `" + ft.Name + "` | " + string(ft.Direction) + " | " + map[bool]string{true: "yes", false: "no"}[ft.Stored] + " |"
		if !strings.Contains(section, row) {
			t.Errorf("docs/api.md's stream section has no frame table row starting %q", row)
		}
	}
	// And no row for a type the code does not have.
	known := map[string]bool{}
	for _, ft := range Types {
		known["| `"+ft.Name+"` | "+string(ft.Direction)+" |"] = true
	}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		parts := strings.SplitN(line, "|", 4)
		if len(parts) < 4 {
			continue
		}
		head := "|" + parts[1] + "|" + parts[2] + "|"
		if !known[head] {
			t.Errorf("docs/api.md documents a frame type the code does not have: %q", head)
		}
	}
}

// TestTypesAreListedOnce keeps the list free of duplicates per
// direction and of undocumented entries.
func TestTypesAreListedOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, ft := range Types {
		k := ft.Name + " " + string(ft.Direction)
		if seen[k] {
			t.Errorf("frame type %s listed twice", k)
		}
		seen[k] = true
		if ft.Name == "" || ft.Description == "" || ft.Direction == "" {
			t.Errorf("frame type %+v lacks a name, direction or description", ft)
		}
	}
}
