package sqldb

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds one folder per engine with the same version numbers: the
// engines differ in types (SQLite STRICT tables take INTEGER, TEXT, BLOB;
// PostgreSQL BIGINT, BOOLEAN, BYTEA), so each version is written twice and a
// test checks that both produce the same tables and columns.
//
//go:embed migrations
var migrations embed.FS

// MigrationsFS returns the migration files for an engine.
func MigrationsFS(e Engine) (fs.FS, error) {
	return fs.Sub(migrations, "migrations/"+string(e))
}

func (db *DB) provider() (*goose.Provider, error) {
	fsys, err := MigrationsFS(db.Engine)
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.Engine == Postgres {
		dialect = goose.DialectPostgres
		// Several nodes may start at once: an advisory lock makes one of
		// them migrate while the others wait.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, db.writer, fsys, opts...)
}

// Migrate applies every pending migration and returns the versions it
// applied.
func (db *DB) Migrate(ctx context.Context) ([]int64, error) {
	p, err := db.provider()
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied := make([]int64, len(res))
	for i, r := range res {
		applied[i] = r.Source.Version
	}
	return applied, nil
}

// MigrationStatus reports the database's schema version and the newest
// version this binary knows.
func (db *DB) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: %w", err)
	}
	return p.GetVersions(ctx)
}
