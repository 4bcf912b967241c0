package plaza_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// packages returns every package directory of the module with its non-test
// Go files parsed (imports and comments only).
func packages(t *testing.T) map[string][]string {
	t.Helper()
	dirs := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			dirs[filepath.Dir(path)] = append(dirs[filepath.Dir(path)], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// TestEveryPackageIsDocumented requires a package doc comment in each
// package.
func TestEveryPackageIsDocumented(t *testing.T) {
	for dir, files := range packages(t) {
		documented := false
		for _, f := range files {
			pf, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if pf.Doc != nil && strings.TrimSpace(pf.Doc.Text()) != "" {
				documented = true
			}
		}
		if !documented {
			t.Errorf("package %s has no package doc comment", dir)
		}
	}
}

// domainPackages hold business rules and must stay independent of HTTP and
// of the scale-out engines' client libraries.
var domainPackages = []string{"account", "audit", "identity", "chat", "media", "channel", "microblog", "moderation"}

var forbiddenInDomain = []string{"net/http", "github.com/nats-io/", "github.com/aws/", "github.com/coder/websocket"}

func TestDomainPackagesStayPure(t *testing.T) {
	dirs := packages(t)
	for _, name := range domainPackages {
		dir := filepath.Join("internal", name)
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		for _, f := range dirs[dir] {
			pf, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range pf.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range forbiddenInDomain {
					if path == bad || strings.HasSuffix(bad, "/") && strings.HasPrefix(path, bad) {
						t.Errorf("%s imports %s: domain packages must not know HTTP, NATS or S3", f, path)
					}
				}
			}
		}
	}
}
