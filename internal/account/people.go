package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Language is the language the server writes to an account in.
type Language string

// The languages an account may choose. English is the default.
const (
	English           Language = "en"
	SimplifiedChinese Language = "zh-CN"
)

// parseLanguage returns the language s names ("" is English), or the rule
// it breaks.
func parseLanguage(s string) (Language, string) {
	switch Language(s) {
	case "", English:
		return English, ""
	case SimplifiedChinese:
		return SimplifiedChinese, ""
	}
	return "", "must be en or zh-CN"
}

// ParseLanguage returns the language s names, or invalid_request on the
// field language.
func ParseLanguage(s string) (Language, error) {
	l, rule := parseLanguage(s)
	if rule != "" || s == "" {
		return "", plaza.Invalid("language", "must be en or zh-CN")
	}
	return l, nil
}

// SetLanguage changes the language of id.
func (s *Service) SetLanguage(ctx context.Context, id plaza.ID, lang string) (Account, error) {
	l, err := ParseLanguage(lang)
	if err != nil {
		return Account{}, err
	}
	res, err := s.db.Write().ExecContext(ctx, `UPDATE accounts SET language = $1, updated_at = $2 WHERE id = $3 AND status <> 'deleted'`, l, micros(s.now()), id)
	if err != nil {
		return Account{}, fmt.Errorf("set language: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return Account{}, plaza.Errorf(plaza.ENotFound, "account not found")
	}
	return s.Get(ctx, id)
}

// Privacy is who may find an account: by its exact handle, and by the
// phone number it verified.
type Privacy struct {
	FindByHandle bool `json:"find_by_handle"`
	FindByPhone  bool `json:"find_by_phone"`
}

// Privacy returns the privacy settings of id. New accounts may be found
// by handle and not by phone.
func (s *Service) Privacy(ctx context.Context, id plaza.ID) (Privacy, error) {
	var p Privacy
	err := s.db.Read().QueryRowContext(ctx, `SELECT find_by_handle, find_by_phone FROM accounts WHERE id = $1 AND status <> 'deleted'`, id).
		Scan(&p.FindByHandle, &p.FindByPhone)
	if err != nil {
		return Privacy{}, sqldb.MapError(err, "account")
	}
	return p, nil
}

// SetPrivacy changes the settings that are not nil and returns them all.
func (s *Service) SetPrivacy(ctx context.Context, id plaza.ID, byHandle, byPhone *bool) (Privacy, error) {
	if byHandle == nil && byPhone == nil {
		return Privacy{}, plaza.Invalid("find_by_handle", "set find_by_handle or find_by_phone (or both)")
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := lockPrivacy(ctx, tx, s.db, id)
		if err != nil {
			return err
		}
		if byHandle != nil {
			cur.FindByHandle = *byHandle
		}
		if byPhone != nil {
			cur.FindByPhone = *byPhone
		}
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET find_by_handle = $1, find_by_phone = $2, updated_at = $3 WHERE id = $4`,
			cur.FindByHandle, cur.FindByPhone, micros(s.now()), id)
		return err
	})
	if err != nil {
		if plaza.AsError(err) != nil {
			return Privacy{}, err
		}
		return Privacy{}, fmt.Errorf("set privacy: %w", err)
	}
	return s.Privacy(ctx, id)
}

func lockPrivacy(ctx context.Context, tx *sql.Tx, db *sqldb.DB, id plaza.ID) (Privacy, error) {
	q := `SELECT find_by_handle, find_by_phone FROM accounts WHERE id = $1 AND status <> 'deleted'`
	if db.Engine == sqldb.Postgres {
		q += ` FOR UPDATE`
	}
	var p Privacy
	err := tx.QueryRowContext(ctx, q, id).Scan(&p.FindByHandle, &p.FindByPhone)
	return p, sqldb.MapError(err, "account")
}

// errNobodyFound is the one answer of a lookup that finds nobody, whether
// nobody has the handle or number, or its owner keeps it hidden.
var errNobodyFound = plaza.Errorf(plaza.ENotFound, "nobody found")

// NobodyFound returns the one answer of a lookup that finds nobody.
func NobodyFound() error { return errNobodyFound }

// findable reports whether a lookup may return an account in this status:
// deleted and closed accounts are not found.
func findable(st Status) bool { return st != Deleted && st != Closed }

func profileOf(a Account) Profile {
	return Profile{ID: a.ID, Handle: a.Handle, DisplayName: a.DisplayName, Status: a.Status, AvatarVersion: a.AvatarVersion}
}

// FindByHandle returns the profile whose handle is exactly handle (after
// the usual normalisation), if its owner lets people find it by handle.
// Whether nobody has the handle or its owner hides it, the answer is the
// same not_found. A malformed handle is invalid_request.
func (s *Service) FindByHandle(ctx context.Context, handle string) (Profile, error) {
	h := normalizeHandle(handle)
	if rule := handleRule(h); rule != "" {
		return Profile{}, plaza.Invalid("handle", rule)
	}
	var byHandle bool
	a, err := scanAccount(s.db.Read().QueryRowContext(ctx, `SELECT `+accountColumns+`, find_by_handle FROM accounts WHERE handle = $1`, h), &byHandle)
	if errors.Is(err, sql.ErrNoRows) {
		return Profile{}, errNobodyFound
	}
	if err != nil {
		return Profile{}, fmt.Errorf("find by handle: %w", err)
	}
	a.effectiveStatus(s.now())
	if !byHandle || !findable(a.Status) {
		return Profile{}, errNobodyFound
	}
	return profileOf(a), nil
}

// FindableByPhone returns the profile of id if its owner lets people find
// it by phone number; otherwise the same not_found as FindByHandle. The
// caller has established that id verified the number.
func (s *Service) FindableByPhone(ctx context.Context, id plaza.ID) (Profile, error) {
	var byPhone bool
	a, err := scanAccount(s.db.Read().QueryRowContext(ctx, `SELECT `+accountColumns+`, find_by_phone FROM accounts WHERE id = $1`, id), &byPhone)
	if errors.Is(err, sql.ErrNoRows) {
		return Profile{}, errNobodyFound
	}
	if err != nil {
		return Profile{}, fmt.Errorf("find by phone: %w", err)
	}
	a.effectiveStatus(s.now())
	if !byPhone || !findable(a.Status) {
		return Profile{}, errNobodyFound
	}
	return profileOf(a), nil
}

// Avatar returns the media item holding id's profile photo and its
// version; not_found when it has none (a deleted account has none).
func (s *Service) Avatar(ctx context.Context, id plaza.ID) (plaza.ID, int64, error) {
	var media sql.NullInt64
	var version int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT avatar_media_id, avatar_version FROM accounts WHERE id = $1 AND status <> 'deleted'`, id).Scan(&media, &version)
	if err != nil {
		return 0, 0, sqldb.MapError(err, "account")
	}
	if !media.Valid {
		return 0, 0, plaza.Errorf(plaza.ENotFound, "this account has no profile photo")
	}
	return plaza.ID(media.Int64), version, nil
}

// SetAvatar makes media (an item id owns, checked by the caller) id's
// profile photo and returns the item it replaces (0 if none), which the
// caller deletes.
func (s *Service) SetAvatar(ctx context.Context, id, media plaza.ID) (old plaza.ID, err error) {
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		old, err = lockAvatar(ctx, tx, s.db, id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET avatar_media_id = $1, avatar_version = avatar_version + 1, updated_at = $2 WHERE id = $3`,
			media, micros(s.now()), id)
		return err
	})
	if err != nil {
		if plaza.AsError(err) != nil {
			return 0, err
		}
		return 0, fmt.Errorf("set profile photo: %w", err)
	}
	return old, nil
}

// ClearAvatar removes id's profile photo and returns the item that held
// it (0 if there was none), which the caller deletes. The version keeps
// counting, so a later photo gets a URL never used before.
func (s *Service) ClearAvatar(ctx context.Context, id plaza.ID) (old plaza.ID, err error) {
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		old, err = lockAvatar(ctx, tx, s.db, id)
		if err != nil || old == 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE accounts SET avatar_media_id = NULL, updated_at = $1 WHERE id = $2`, micros(s.now()), id)
		return err
	})
	if err != nil {
		if plaza.AsError(err) != nil {
			return 0, err
		}
		return 0, fmt.Errorf("remove profile photo: %w", err)
	}
	return old, nil
}

func lockAvatar(ctx context.Context, tx *sql.Tx, db *sqldb.DB, id plaza.ID) (plaza.ID, error) {
	q := `SELECT avatar_media_id FROM accounts WHERE id = $1 AND status <> 'deleted'`
	if db.Engine == sqldb.Postgres {
		q += ` FOR UPDATE`
	}
	var media sql.NullInt64
	if err := tx.QueryRowContext(ctx, q, id).Scan(&media); err != nil {
		return 0, sqldb.MapError(err, "account")
	}
	return plaza.ID(media.Int64), nil
}
