package sqldb

import (
	"database/sql"
	"errors"
	"fmt"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/plaza-im/plaza"
)

// ErrDiskFull is the error a full disk becomes: insufficient_storage (507),
// the server's condition and not the client's fault.
var ErrDiskFull = plaza.Errorf(plaza.EInsufficientStorage, "the server is out of storage space; try again later")

// MapError turns the engine's errors into Plaza's codes: no rows becomes
// not_found and a unique violation becomes conflict, each with a message
// built from what ("account", "handle"). Other errors are wrapped with what
// as context and stay internal.
func MapError(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return plaza.Errorf(plaza.ENotFound, "%s not found", what)
	case IsUniqueViolation(err):
		return plaza.Errorf(plaza.EConflict, "%s already exists", what)
	case IsDiskFull(err):
		return fmt.Errorf("%s: %w: %w", what, ErrDiskFull, err)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

// IsUniqueViolation reports whether err is a unique or primary key
// violation on either engine.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsDiskFull reports whether err says the disk (or the database's space)
// is full: SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100), or
// ENOSPC/EDQUOT from the file system, however deeply wrapped.
func IsDiskFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "53100"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		// The primary code is the low byte of an extended one.
		return sqErr.Code()&0xff == sqlite3.SQLITE_FULL
	}
	return false
}
