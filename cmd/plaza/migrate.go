package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/plaza-im/plaza/internal/sqldb"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := "up"
	if len(args) > 0 && (args[0] == "up" || args[0] == "status") {
		sub, args = args[0], args[1:]
	}
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("plaza migrate "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.dataFlags(fs)
	if err := parse(fs, args); err != nil {
		return usageError("%w", err)
	}
	if fs.NArg() > 0 {
		return usageError("plaza migrate takes up or status, got %q", fs.Args())
	}
	if err := cfg.ValidateData(); err != nil {
		return usageError("invalid configuration:\n%w", err)
	}
	db, err := sqldb.Open(ctx, cfg.DatabaseURL(), sqldb.Options{SQLiteSynchronous: cfg.SQLiteSync})
	if err != nil {
		return err
	}
	defer db.Close()
	if sub == "up" {
		applied, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "database is up to date")
		} else {
			fmt.Fprintf(stdout, "applied migrations %v\n", applied)
		}
	}
	cur, latest, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s database %s: schema version %d (this binary knows up to %d)\n", db.Engine, db.URL(), cur, latest)
	return nil
}
