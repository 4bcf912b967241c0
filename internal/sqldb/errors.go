package sqldb

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/plaza-im/plaza"
)

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
