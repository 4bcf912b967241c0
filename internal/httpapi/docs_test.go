package httpapi

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docEndpoint matches an endpoint a document names: one or more methods
// joined by "|", then a path under /api/v1/ in which "[/{id}]" marks an
// optional part.
var docEndpoint = regexp.MustCompile(`\b((?:GET|POST|PUT|PATCH|DELETE|HEAD)(?:\|(?:GET|POST|PUT|PATCH|DELETE|HEAD))*)\s+(/api/v1/[A-Za-z0-9_{}/.\[\]-]*)`)

// pathParam is a path parameter, whatever a document or route names it.
var pathParam = regexp.MustCompile(`\{[a-z_]*\}`)

// TestDocsNameOnlyRoutes fails when README.md or a page in docs/ names a
// "METHOD /api/v1/..." endpoint that routes.go does not serve, so the
// docs cannot describe an API that does not exist.
func TestDocsNameOnlyRoutes(t *testing.T) {
	e := newEnv(t)
	served := map[string]bool{}
	for _, r := range e.api.routes {
		served[pathParam.ReplaceAllString(r.pattern, "{}")] = true
	}
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../README.md")
	checked := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range docEndpoint.FindAllStringSubmatch(string(raw), -1) {
			path := strings.TrimRight(m[2], ".")
			// "/uploads[/{id}]" names /uploads and /uploads/{id}.
			variants := []string{path}
			if i := strings.Index(path, "["); i >= 0 {
				variants = []string{path[:i], strings.NewReplacer("[", "", "]", "").Replace(path)}
			}
			for _, method := range strings.Split(m[1], "|") {
				checked++
				found := false
				for _, v := range variants {
					found = found || served[method+" "+pathParam.ReplaceAllString(v, "{}")]
				}
				if !found {
					t.Errorf("%s names %s %s, which routes.go does not serve", filepath.Base(f), method, path)
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked only %d endpoints named in the docs; is the pattern still right?", checked)
	}
}
