package export_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestDocsDescribeEveryFile checks that docs/api.md's export format
// names every file and object schema.json describes.
func TestDocsDescribeEveryFile(t *testing.T) {
	raw, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var sc schema
	if err := json.Unmarshal(raw, &sc); err != nil {
		t.Fatalf("schema.json: %v", err)
	}
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range sc.Files {
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/api.md does not name the export file %s", name)
		}
		for field := range f.Fields {
			if !strings.Contains(string(doc), "`"+field+"`") {
				t.Errorf("docs/api.md does not name %s's field %s", name, field)
			}
		}
	}
	for name, fields := range sc.Objects {
		for field := range fields {
			if !strings.Contains(string(doc), "`"+field+"`") {
				t.Errorf("docs/api.md does not name the field %s of %s", field, name)
			}
		}
	}
}
