package plaza_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The allowed import graph, in the spirit of tailscale's deptest: every
// package of the module has a layer, and each layer may depend only on
// the ones below it. A new package fails TestImportGraph until it is given
// a layer here.
const module = "github.com/plaza-im/plaza"

// layers maps each package directory (relative to the module root, "."
// for the root package) to its layer.
var layers = map[string]string{
	".": "root",
	// Domain packages hold the business rules.
	"internal/account":    "domain",
	"internal/audit":      "domain",
	"internal/identity":   "domain",
	"internal/chat":       "domain",
	"internal/media":      "domain",
	"internal/channel":    "domain",
	"internal/events":     "domain",
	"internal/microblog":  "domain",
	"internal/moderation": "domain",
	"internal/export":     "domain",
	// Infrastructure is named by what it provides and knows no domain.
	"internal/sqldb":      "infra",
	"internal/bus":        "infra",
	"internal/blob":       "infra",
	"internal/ratelimit":  "infra",
	"internal/sms":        "infra",
	"internal/hmacsig":    "infra",
	"internal/strictjson": "infra",
	"internal/jsonappend": "infra",
	"internal/textcheck":  "infra",
	"internal/textindex":  "infra",
	"internal/webui":      "infra",
	"internal/bench":      "infra",
	"internal/jobs":       "infra",
	"internal/heapfloor":  "infra",
	// The edge speaks HTTP and WebSocket to clients.
	"internal/httpapi":  "edge",
	"internal/realtime": "edge",
	"internal/push":     "edge",
	// Test support is imported by tests only.
	"internal/sqldb/sqldbtest": "testsupport",
	"internal/plazatest":       "testsupport",
	// Commands wire everything together.
	"cmd/plaza": "cmd",
}

// forbiddenInDomain are the non-module imports a domain package must not
// make directly: it knows neither HTTP nor the scale-out engines' client
// libraries. (Infrastructure it uses may: blob speaks S3.)
var forbiddenInDomain = []string{"net/http", "github.com/nats-io/", "github.com/aws/", "github.com/coder/websocket", "github.com/tus/"}

// importGraph returns, for each package directory, the module packages
// (as directories) and the other packages its non-test files import.
func importGraph(t *testing.T) (local, other map[string][]string) {
	t.Helper()
	local, other = map[string][]string{}, map[string][]string{}
	for dir, files := range packages(t) {
		dir = filepath.ToSlash(dir)
		for _, f := range files {
			pf, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range pf.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				switch {
				case path == module:
					local[dir] = appendNew(local[dir], ".")
				case strings.HasPrefix(path, module+"/"):
					local[dir] = appendNew(local[dir], strings.TrimPrefix(path, module+"/"))
				default:
					other[dir] = appendNew(other[dir], path)
				}
			}
		}
		if _, ok := local[dir]; !ok {
			local[dir] = nil
		}
	}
	return local, other
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// reachable returns the module packages dir depends on, directly or not.
func reachable(local map[string][]string, dir string) []string {
	var out []string
	seen := map[string]bool{dir: true}
	queue := slices.Clone(local[dir])
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
		queue = append(queue, local[d]...)
	}
	slices.Sort(out)
	return out
}

func layerOf(dir string) string {
	if strings.HasPrefix(dir, "cmd/") {
		return "cmd"
	}
	return layers[dir]
}

func TestImportGraph(t *testing.T) {
	local, other := importGraph(t)
	dirs := make([]string, 0, len(local))
	for d := range local {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)

	t.Run("every package has a layer", func(t *testing.T) {
		for _, d := range dirs {
			if layerOf(d) == "" {
				t.Errorf("package %s has no layer: add it to layers in importgraph_test.go", d)
			}
		}
	})

	t.Run("nothing imports cmd", func(t *testing.T) {
		for _, d := range dirs {
			for _, imp := range local[d] {
				if layerOf(imp) == "cmd" {
					t.Errorf("%s imports %s: nothing may import a command", d, imp)
				}
			}
		}
	})

	t.Run("only cmd imports httpapi", func(t *testing.T) {
		for _, d := range dirs {
			if layerOf(d) != "cmd" && slices.Contains(local[d], "internal/httpapi") {
				t.Errorf("%s imports internal/httpapi: only commands may", d)
			}
		}
	})

	t.Run("test support only in tests", func(t *testing.T) {
		for _, d := range dirs {
			if layerOf(d) == "testsupport" {
				continue
			}
			for _, imp := range local[d] {
				if layerOf(imp) == "testsupport" {
					t.Errorf("%s imports %s outside a _test.go file: it is for tests only", d, imp)
				}
			}
		}
	})

	t.Run("domain knows no HTTP, realtime or engines", func(t *testing.T) {
		for _, d := range dirs {
			if layerOf(d) != "domain" {
				continue
			}
			for _, dep := range reachable(local, d) {
				if l := layerOf(dep); l == "edge" || l == "cmd" {
					t.Errorf("%s depends on %s (%s): domain packages must not know the HTTP edge", d, dep, l)
				}
			}
			for _, path := range other[d] {
				for _, bad := range forbiddenInDomain {
					if path == bad || strings.HasSuffix(bad, "/") && strings.HasPrefix(path, bad) {
						t.Errorf("%s imports %s: domain packages must not know HTTP, NATS or S3", d, path)
					}
				}
			}
		}
	})

	t.Run("infrastructure knows no domain", func(t *testing.T) {
		for _, d := range dirs {
			if layerOf(d) != "infra" {
				continue
			}
			for _, dep := range reachable(local, d) {
				if l := layerOf(dep); l != "infra" && l != "root" {
					t.Errorf("%s depends on %s (%s): infrastructure may depend only on infrastructure and the root package", d, dep, l)
				}
			}
		}
	})

	t.Run("the root package imports no module package", func(t *testing.T) {
		if deps := local["."]; len(deps) > 0 {
			t.Errorf("the root package imports %v: it holds what every package shares and depends on none", deps)
		}
	})

	t.Run("realtime depends on events alone among domain packages", func(t *testing.T) {
		for _, dep := range reachable(local, "internal/realtime") {
			if layerOf(dep) == "domain" && dep != "internal/events" {
				t.Errorf("internal/realtime depends on %s: realtime may import events, bus, the root package and infrastructure; the rest is passed in at wiring time", dep)
			}
		}
	})
}
