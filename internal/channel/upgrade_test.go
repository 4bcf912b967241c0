package channel

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestSearchAfterUpgrade stores a channel the way schema version 7 (the
// first with channels) did, upgrades to the current schema and searches:
// channels approved before the upgrade must still be found.
func TestSearchAfterUpgrade(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(string(eng), func(t *testing.T) {
			ctx := context.Background()
			url := sqldbtest.URL(t, eng)
			driver, dsn, dialect := "pgx", url, goose.DialectPostgres
			if eng == sqldb.SQLite {
				driver, dsn, dialect = "sqlite", "file:"+strings.TrimPrefix(url, "sqlite:")+"?_pragma=foreign_keys(1)", goose.DialectSQLite3
			}
			raw, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			fsys, err := sqldb.MigrationsFS(eng)
			if err != nil {
				t.Fatal(err)
			}
			p, err := goose.NewProvider(dialect, raw, fsys)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 7); err != nil {
				t.Fatalf("migrate to 7: %v", err)
			}
			owner, ch := plaza.NewID(), plaza.NewID()
			if _, err := raw.ExecContext(ctx, `INSERT INTO accounts (id, handle, display_name, password_hash, birth_date, status, status_reason, created_at, updated_at)
				VALUES ($1, 'legacy_owner', 'Legacy', 'x', '1990-01-01', 'active', '', 1, 1)`, owner); err != nil {
				t.Fatalf("insert account: %v", err)
			}
			if _, err := raw.ExecContext(ctx, `INSERT INTO channels (id, handle, name, description, kind, owner_id, status, status_reason, follower_count, approved_at, created_at)
				VALUES ($1, 'oldtimes', 'Old Times Gazette', '', 'subscription', $2, 'active', '', 0, 1, 1)`, ch, owner); err != nil {
				t.Fatalf("insert channel: %v", err)
			}
			if err := raw.Close(); err != nil {
				t.Fatal(err)
			}

			db, err := sqldb.Open(ctx, url, sqldb.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatalf("upgrade: %v", err)
			}
			e := newEnv(t, db, envOptions{})
			for _, q := range []string{"oldtimes", "gazette", "OLD TIMES"} {
				got, err := e.svc.Search(ctx, q, 0, 10)
				var ids []plaza.ID
				for _, c := range got {
					ids = append(ids, c.ID)
				}
				if err != nil || !slices.Equal(ids, []plaza.ID{ch}) {
					t.Errorf("Search(%q) after the upgrade = %v, %v, want the channel from before it [%d]", q, ids, err, ch)
				}
			}
		})
	}
}
