package account

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/plaza-im/plaza"
)

// Bulk is an account made by CreateBulk, with a session token.
type Bulk struct {
	ID     plaza.ID
	Handle string
	Token  string
}

// CreateBulk creates n accounts named prefix0, prefix1, … that share one
// password, each accepting the current terms and signed in once. It is the
// operator's fast path for load testing (`plaza bench`): one password hash
// instead of n, and batched transactions. It needs direct access to the
// database, never an API caller's.
func (s *Service) CreateBulk(ctx context.Context, prefix string, n int, password string) ([]Bulk, error) {
	if rule := handleRule(normalizeHandle(prefix + fmt.Sprint(n))); rule != "" {
		return nil, plaza.Invalid("prefix", rule)
	}
	if rule := passwordRule(password); rule != "" {
		return nil, plaza.Invalid("password", rule)
	}
	terms, err := currentTerms(ctx, s.db.Read())
	if err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	out := make([]Bulk, 0, n)
	now := s.now()
	for start := 0; start < n; start += 500 {
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			for i := start; i < min(n, start+500); i++ {
				a := Account{ID: plaza.NewID(), Handle: normalizeHandle(fmt.Sprintf("%s%d", prefix, i)), DisplayName: fmt.Sprintf("%s %d", prefix, i),
					BirthDate: "1990-01-01", Status: Active, CreatedAt: now}
				if err := insertAccount(ctx, tx, a, hash); err != nil {
					return err
				}
				if err := insertConsent(ctx, tx, a.ID, terms.Version, now); err != nil {
					return err
				}
				tok, err := s.createSession(ctx, tx, a.ID, "plaza bench", now)
				if err != nil {
					return err
				}
				out = append(out, Bulk{ID: a.ID, Handle: a.Handle, Token: tok})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("create accounts: %w", err)
		}
	}
	return out, nil
}
