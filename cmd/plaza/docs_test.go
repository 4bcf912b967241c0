package main

import (
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// flagName matches a flag in the first column of operations.md's table.
var flagName = regexp.MustCompile("`--([a-z0-9-]+)`")

// TestOperationsDocListsEveryFlag keeps the flag table in
// docs/operations.md and the flags of plaza serve the same, both ways.
func TestOperationsDocListsEveryFlag(t *testing.T) {
	raw, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for line := range strings.Lines(string(raw)) {
		if !strings.HasPrefix(line, "| `--") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range flagName.FindAllStringSubmatch(first, -1) {
			documented = append(documented, m[1])
		}
	}
	if len(documented) == 0 {
		t.Fatal("found no flag table in docs/operations.md")
	}
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("plaza serve", flag.ContinueOnError)
	cfg.serveFlags(fs)
	var defined []string
	fs.VisitAll(func(f *flag.Flag) { defined = append(defined, f.Name) })
	for _, name := range defined {
		if !slices.Contains(documented, name) {
			t.Errorf("flag --%s is not in the table of docs/operations.md", name)
		}
	}
	for _, name := range documented {
		if !slices.Contains(defined, name) {
			t.Errorf("docs/operations.md lists --%s, which plaza serve does not have", name)
		}
	}
}
