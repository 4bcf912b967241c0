package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
)

// LegacyContact is the person who looks after an account once it is
// memorialised: one of the owner's contacts, chosen by the owner, who may
// also be allowed to download the account's data.
type LegacyContact struct {
	AccountID   plaza.ID // whose legacy contact it is
	ContactID   plaza.ID
	Handle      string // the contact's
	DisplayName string
	MayDownload bool
	UpdatedAt   time.Time
}

// SetLegacyContact makes contact the legacy contact of id, replacing any
// earlier one. The contact must be someone else, an active account and
// one of id's contacts.
func (s *Service) SetLegacyContact(ctx context.Context, id, contact plaza.ID, mayDownload bool) (LegacyContact, error) {
	if contact == id {
		return LegacyContact{}, plaza.Invalid("account_id", "must be someone else")
	}
	c, err := getAccount(ctx, s.db.Read(), contact)
	if plaza.ErrorCode(err) == plaza.ENotFound || err == nil && c.Status != Active {
		return LegacyContact{}, plaza.Invalid("account_id", "must be an active account")
	}
	if err != nil {
		return LegacyContact{}, fmt.Errorf("set legacy contact: %w", err)
	}
	now := s.now()
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		// The contacts table is chat's; it is read here, inside the
		// transaction, so that the rule holds at the moment of the write.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts WHERE account_id = $1 AND contact_id = $2`, id, contact).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return plaza.Errorf(plaza.ENotAContact, "your legacy contact must be one of your contacts").
				WithDetails(map[string]any{"field": "account_id", "account_id": contact.String()})
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO legacy_contacts (account_id, contact_id, may_download, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (account_id) DO UPDATE SET contact_id = excluded.contact_id, may_download = excluded.may_download, updated_at = excluded.updated_at`,
			id, contact, mayDownload, micros(now))
		return err
	})
	if err != nil {
		return LegacyContact{}, fmt.Errorf("set legacy contact: %w", err)
	}
	return s.LegacyContact(ctx, id)
}

// LegacyContact returns the legacy contact of id; none is not found.
func (s *Service) LegacyContact(ctx context.Context, id plaza.ID) (LegacyContact, error) {
	l := LegacyContact{AccountID: id}
	var at int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT l.contact_id, a.handle, a.display_name, l.may_download, l.updated_at
		FROM legacy_contacts l JOIN accounts a ON a.id = l.contact_id WHERE l.account_id = $1`, id).
		Scan(&l.ContactID, &l.Handle, &l.DisplayName, &l.MayDownload, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return LegacyContact{}, plaza.Errorf(plaza.ENotFound, "you have no legacy contact")
	}
	if err != nil {
		return LegacyContact{}, fmt.Errorf("legacy contact: %w", err)
	}
	l.UpdatedAt = fromMicros(at)
	return l, nil
}

// RemoveLegacyContact removes the legacy contact of id; none is not found.
func (s *Service) RemoveLegacyContact(ctx context.Context, id plaza.ID) error {
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM legacy_contacts WHERE account_id = $1`, id)
	if err != nil {
		return fmt.Errorf("remove legacy contact: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return plaza.Errorf(plaza.ENotFound, "you have no legacy contact")
	}
	return nil
}

// CheckLegacyExport returns nil when caller may download the data of the
// account subject: subject is memorialised and caller is its legacy
// contact, allowed to download. Anyone else is told the account is not
// found, so that the answer reveals nothing about who the contact is.
func (s *Service) CheckLegacyExport(ctx context.Context, subject, caller plaza.ID) error {
	var may bool
	var st Status
	err := s.db.Read().QueryRowContext(ctx, `SELECT l.may_download, a.status FROM legacy_contacts l JOIN accounts a ON a.id = l.account_id
		WHERE l.account_id = $1 AND l.contact_id = $2`, subject, caller).Scan(&may, &st)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("check legacy export: %w", err)
	}
	if err != nil || !may || st != Memorialised {
		return plaza.Errorf(plaza.ENotFound, "account not found")
	}
	return nil
}
