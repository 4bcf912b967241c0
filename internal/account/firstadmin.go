package account

import (
	"context"
	"database/sql"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// FirstRun is the audit actor of the first administrator's registration
// through the one-time setup link.
var FirstRun = audit.Actor{Name: "first-run setup"}

// HasAdmin reports whether any account holds the admin role.
func (s *Service) HasAdmin(ctx context.Context) (bool, error) {
	var n int
	err := s.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM account_roles WHERE role = $1`, string(Admin)).Scan(&n)
	return n > 0, err
}

// RegisterFirstAdmin registers an account, as Register does, and makes it
// an administrator, in one transaction that refuses (conflict, nothing
// stored) once any account is an administrator: of two people racing
// through the setup link, on one node or several, one gets it.
func (s *Service) RegisterFirstAdmin(ctx context.Context, r Registration) (Account, string, error) {
	return s.register(ctx, r, func(tx *sql.Tx, a *Account) error {
		if s.db.Engine == sqldb.Postgres {
			// Serialises the check below with every other grant, so two
			// first administrators cannot both see none.
			if _, err := tx.ExecContext(ctx, `LOCK TABLE account_roles IN SHARE ROW EXCLUSIVE MODE`); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM account_roles WHERE role = $1`, string(Admin)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return plaza.Errorf(plaza.EConflict, "this server has an administrator already: the setup link no longer works")
		}
		if _, err := insertRole(ctx, tx, a.ID, Admin, s.now()); err != nil {
			return err
		}
		a.Roles = append(a.Roles, Admin)
		if s.audit == nil {
			return nil
		}
		_, err := s.audit.Append(ctx, tx, audit.Record{
			Actor: FirstRun, Action: "role.grant", TargetType: "account", TargetID: a.ID.String(),
			Details: map[string]any{"role": string(Admin), "handle": a.Handle},
		})
		return err
	})
}
