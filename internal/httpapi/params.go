package httpapi

import (
	"net/http"
	"regexp"
	"sort"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/textcheck"
)

var wildcardRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(?:\.\.\.)?\}`)

// wildcards returns the names of a route pattern's path wildcards.
func wildcards(pattern string) []string {
	var names []string
	for _, m := range wildcardRE.FindAllStringSubmatch(pattern, -1) {
		names = append(names, m[1])
	}
	return names
}

// checkParams refuses path values and query parameters that no store can
// hold (a NUL, invalid UTF-8) before any handler sees them, naming the
// parameter: PostgreSQL would otherwise fail the query with a 500.
func checkParams(r *http.Request, names []string) error {
	var p plaza.Problems
	for _, name := range names {
		if rule := textcheck.Storable(r.PathValue(name)); rule != "" {
			p.Add(name, rule)
		}
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if rule := textcheck.Storable(k); rule != "" {
			p.Add("query", "parameter names "+rule)
			continue
		}
		for _, v := range q[k] {
			if rule := textcheck.Storable(v); rule != "" {
				p.Add(k, rule)
				break
			}
		}
	}
	return p.Err()
}
