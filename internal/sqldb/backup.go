package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ErrBackupPostgres is returned by Backup for a PostgreSQL URL: its own
// tools (pg_dump, pg_basebackup with WAL archiving) back it up without
// stopping writers, and do it better than a copy made through the driver.
var ErrBackupPostgres = errors.New("plaza admin backup copies SQLite databases only: back up PostgreSQL with pg_dump -Fc, or with pg_basebackup and WAL archiving for point-in-time recovery (see \"Backups and restore\" in docs/operations.md)")

// Snapshot describes a database copy made by Backup.
type Snapshot struct {
	Path          string // the new file
	Size          int64  // its size in bytes
	SchemaVersion int64  // the newest migration applied in the copy
}

// Backup writes a consistent copy of the SQLite database named by rawURL
// to dest, a file that must not exist yet, while servers keep reading
// and writing it.
//
// It opens its own plain connection rather than using Open: Open's
// readers are query_only, which refuses VACUUM INTO, and a backup must
// never migrate, since it may run beside an older server. VACUUM INTO
// copies what one read transaction sees, so the copy holds every commit
// made before it began and none made after, and it waits for the writer
// no longer than any reader does (WAL lets both run at once). The copy is
// then opened read-only and checked with quick_check before Backup
// returns.
func Backup(ctx context.Context, rawURL, dest string) (Snapshot, error) {
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return Snapshot{}, ErrBackupPostgres
	case !strings.HasPrefix(rawURL, "sqlite:"):
		return Snapshot{}, fmt.Errorf("database URL must start with sqlite: or postgres:// (got %q)", Redact(rawURL))
	}
	path := strings.TrimPrefix(rawURL, "sqlite:")
	syncWithFdatasync()
	if path == "" {
		return Snapshot{}, errors.New("sqlite: URL needs a file path")
	}
	// Opening a missing file would create an empty database and back
	// that up: a wrong --data must fail instead.
	if fi, err := os.Stat(path); err != nil {
		return Snapshot{}, fmt.Errorf("database: %w", err)
	} else if !fi.Mode().IsRegular() {
		return Snapshot{}, fmt.Errorf("database %s is not a file", path)
	}
	if _, err := os.Lstat(dest); err == nil {
		return Snapshot{}, fmt.Errorf("backup file %s already exists", dest)
	}
	conn, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return Snapshot{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		_ = os.Remove(dest)
		return Snapshot{}, fmt.Errorf("copy the database with VACUUM INTO: %w", err)
	}
	snap, err := CheckSnapshot(ctx, dest)
	if err != nil {
		return Snapshot{}, err
	}
	// VACUUM INTO does not fsync the new file.
	if err := syncFile(dest); err != nil {
		return Snapshot{}, err
	}
	return snap, nil
}

// OpenSnapshot opens a database file written by Backup read-only, for
// checks that must not change it (no WAL, no journal-mode switch).
func OpenSnapshot(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("database snapshot: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&immutable=1")
	if err != nil {
		return nil, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	return db, nil
}

// CheckSnapshot runs quick_check on a database file written by Backup
// and describes it.
func CheckSnapshot(ctx context.Context, path string) (Snapshot, error) {
	db, err := OpenSnapshot(path)
	if err != nil {
		return Snapshot{}, err
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
		return Snapshot{}, fmt.Errorf("check %s: %w", path, err)
	}
	if check != "ok" {
		return Snapshot{}, fmt.Errorf("check %s: the copy is damaged: %s", path, check)
	}
	snap := Snapshot{Path: path}
	// goose's table; a database no migration has touched has none.
	err = db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&snap.SchemaVersion)
	if err != nil && !strings.Contains(err.Error(), "no such table") {
		return Snapshot{}, fmt.Errorf("read the schema version of %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Snapshot{}, err
	}
	snap.Size = fi.Size()
	return snap, nil
}

// syncFile flushes a file and its directory entry to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Dir(path), err)
	}
	return nil
}
