package main

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestMigrate runs `plaza migrate` and `plaza migrate status` on a fresh
// database of each engine.
func TestMigrate(t *testing.T) {
	engines := []struct {
		engine sqldb.Engine
		args   func(t *testing.T) []string
	}{
		{sqldb.SQLite, func(t *testing.T) []string { return []string{"--data", t.TempDir()} }},
		{sqldb.Postgres, func(t *testing.T) []string { return []string{"--db", sqldbtest.URL(t, sqldb.Postgres)} }},
	}
	for _, e := range engines {
		t.Run(string(e.engine), func(t *testing.T) {
			clearPlazaEnv(t)
			versions := migrationVersions(t, e.engine)
			latest := versions[len(versions)-1]
			args := e.args(t)
			status := func(cur int64) string {
				return fmt.Sprintf("schema version %d (this binary knows up to %d)", cur, latest)
			}

			steps := []struct {
				args       []string
				wantStdout []string
				notStdout  []string
			}{
				{[]string{"migrate", "status"}, []string{string(e.engine) + " database", status(0)}, []string{"applied"}},
				{[]string{"migrate"}, []string{fmt.Sprintf("applied migrations %v\n", versions), status(latest)}, nil},
				{[]string{"migrate", "up"}, []string{"database is up to date\n", status(latest)}, []string{"applied"}},
				{[]string{"migrate", "status"}, []string{status(latest)}, []string{"applied", "up to date"}},
			}
			for _, s := range steps {
				res := runInProcess(t, append(s.args, args...)...)
				if res.code != 0 {
					t.Fatalf("plaza %s: got exit %d, want 0; stderr %q", strings.Join(s.args, " "), res.code, res.stderr)
				}
				for _, want := range s.wantStdout {
					if !strings.Contains(res.stdout, want) {
						t.Errorf("plaza %s: got stdout %q, want it to contain %q", strings.Join(s.args, " "), res.stdout, want)
					}
				}
				for _, not := range s.notStdout {
					if strings.Contains(res.stdout, not) {
						t.Errorf("plaza %s: got stdout %q, want it not to contain %q", strings.Join(s.args, " "), res.stdout, not)
					}
				}
			}
		})
	}
}

// migrationVersions returns the versions of the engine's embedded
// migrations in order, read from their file names (00001_accounts.sql).
func migrationVersions(tb testing.TB, e sqldb.Engine) []int64 {
	tb.Helper()
	fsys, err := sqldb.MigrationsFS(e)
	if err != nil {
		tb.Fatalf("migrations of %s: %v", e, err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil || len(names) == 0 {
		tb.Fatalf("migrations of %s: got %d files (%v), want some", e, len(names), err)
	}
	var versions []int64
	for _, name := range names {
		prefix, _, _ := strings.Cut(name, "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			tb.Fatalf("migration file %s: no version number", name)
		}
		versions = append(versions, v)
	}
	return versions
}
