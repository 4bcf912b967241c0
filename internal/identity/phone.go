package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sms"
	"github.com/plaza-im/plaza/internal/sqldb"
)

const phoneRule = "must be a valid phone number in international form, such as +8613800138000"

// NormalizePhone returns raw in E.164 form ("+8613800138000"), or an
// invalid_request error naming the field. The error never repeats the
// number. region is the default region for numbers typed without "+".
func NormalizePhone(raw, region string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 32 {
		return "", plaza.Invalid("phone", phoneRule)
	}
	if region == "" && !strings.HasPrefix(raw, "+") {
		return "", plaza.Invalid("phone", phoneRule)
	}
	region = strings.ToUpper(region)
	if region == "" {
		region = "ZZ"
	}
	n, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", plaza.Invalid("phone", phoneRule)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// Challenge describes a code that was sent.
type Challenge struct {
	ExpiresAt   time.Time
	ResendAfter time.Time
}

func newCode() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return fmt.Sprintf("%06d", binary.BigEndian.Uint64(b[:])%1_000_000)
}

// codeHash binds a code to the account and number it was sent for. Codes
// are short-lived and attempts are capped, so a plain hash is enough to
// keep them out of a database copy's plain sight.
func codeHash(accountID plaza.ID, phone, code string) []byte {
	h := sha256.Sum256([]byte(accountID.String() + "|" + phone + "|" + code))
	return h[:]
}

// StartPhone sends a verification code to raw for accountID. A new code
// may be sent no sooner than ResendAfter after the previous one.
func (s *Service) StartPhone(ctx context.Context, accountID plaza.ID, raw string) (Challenge, error) {
	phone, err := NormalizePhone(raw, s.cfg.DefaultRegion)
	if err != nil {
		return Challenge{}, err
	}
	now := s.now()
	if err := s.checkPhoneFree(ctx, s.db.Read(), accountID, phone); err != nil {
		return Challenge{}, err
	}
	if cur, err := phoneOf(ctx, s.db.Read(), accountID); err == nil && cur == phone {
		return Challenge{}, plaza.Errorf(plaza.EConflict, "this number is already verified on your account")
	}
	code := newCode()
	ch := Challenge{ExpiresAt: now.Add(s.cfg.CodeTTL), ResendAfter: now.Add(s.cfg.ResendAfter)}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		prev, err := getChallenge(ctx, tx, accountID)
		if err == nil && now.Before(prev.sentAt.Add(s.cfg.ResendAfter)) {
			wait := prev.sentAt.Add(s.cfg.ResendAfter).Sub(now)
			secs := int(math.Ceil(wait.Seconds()))
			return plaza.Errorf(plaza.ERateLimited, "a code was sent less than %s ago; try again in %d seconds", s.cfg.ResendAfter, secs).
				WithDetails(map[string]any{"retry_after_seconds": secs})
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return putChallenge(ctx, tx, accountID, challengeRow{phone: phone, codeHash: codeHash(accountID, phone, code), sentAt: now, expiresAt: ch.ExpiresAt})
	})
	if err != nil {
		return Challenge{}, fmt.Errorf("send phone code: %w", err)
	}
	lang, err := languageOf(ctx, s.db.Read(), accountID)
	if err != nil {
		_ = deleteChallenge(ctx, s.db.Write(), accountID)
		return Challenge{}, fmt.Errorf("send phone code: %w", err)
	}
	msg := sms.Message{To: phone, Code: code, Body: sms.VerificationText(lang, s.cfg.ServiceName, code, s.cfg.CodeTTL)}
	if err := s.sms.Send(ctx, msg); err != nil {
		// Let the person ask again at once: the code never arrived.
		_ = deleteChallenge(ctx, s.db.Write(), accountID)
		return Challenge{}, fmt.Errorf("send phone code: %w", err)
	}
	return ch, nil
}

// languageOf returns the language the account chose for what the server
// writes to it; an unknown account gets English.
func languageOf(ctx context.Context, q sqldb.Queryer, accountID plaza.ID) (string, error) {
	var lang string
	err := q.QueryRowContext(ctx, `SELECT language FROM accounts WHERE id = $1`, accountID).Scan(&lang)
	if errors.Is(err, sql.ErrNoRows) {
		return "en", nil
	}
	return lang, err
}

// AccountsWithPhone returns the accounts that verified the number raw
// (normalised as StartPhone does; an invalid number is invalid_request),
// most recently verified first. It says nothing about whether they may be
// found by it: the caller asks each account's privacy settings.
func (s *Service) AccountsWithPhone(ctx context.Context, raw string) ([]plaza.ID, error) {
	phone, err := NormalizePhone(raw, s.cfg.DefaultRegion)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT account_id FROM phones WHERE phone = $1 ORDER BY verified_at DESC, account_id LIMIT 20`, phone)
	if err != nil {
		return nil, fmt.Errorf("find by phone: %w", err)
	}
	defer rows.Close()
	out := []plaza.ID{}
	for rows.Next() {
		var id plaza.ID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find by phone: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// checkPhoneFree refuses a number verified on another account when the
// operator allows one account per number.
func (s *Service) checkPhoneFree(ctx context.Context, q sqldb.Queryer, accountID plaza.ID, phone string) error {
	if !s.cfg.OneAccountPerPhone {
		return nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM phones WHERE phone = $1 AND account_id <> $2`, phone, accountID).Scan(&n); err != nil {
		return fmt.Errorf("check phone: %w", err)
	}
	if n > 0 {
		return plaza.Errorf(plaza.EConflict, "this number is already verified on another account").WithDetails(map[string]any{"field": "phone"})
	}
	return nil
}

// VerifyPhone checks a code. A wrong code uses up one of MaxAttempts; when
// none are left, or the code expired, the person must ask for a new one.
func (s *Service) VerifyPhone(ctx context.Context, accountID plaza.ID, code string) error {
	code = strings.TrimSpace(code)
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return plaza.Invalid("code", "must be the 6 digits sent by SMS")
	}
	now := s.now()
	var refusal error
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		ch, err := lockChallenge(ctx, tx, accountID)
		if errors.Is(err, sql.ErrNoRows) {
			refusal = plaza.Invalid("code", "no code is waiting: request one with POST /api/v1/me/phone")
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case !now.Before(ch.expiresAt):
			refusal = plaza.Invalid("code", "has expired: request a new one")
			return deleteChallenge(ctx, tx, accountID)
		case ch.attempts >= s.cfg.MaxAttempts:
			// The used-up challenge stays until a new code replaces it, so
			// the resend wait still counts from when this one was sent:
			// wrong guesses must not buy text messages.
			refusal = plaza.Invalid("code", "too many wrong attempts: request a new code")
			return nil
		case subtle.ConstantTimeCompare(codeHash(accountID, ch.phone, code), ch.codeHash) != 1:
			switch left := s.cfg.MaxAttempts - ch.attempts - 1; left {
			case 0:
				refusal = plaza.Invalid("code", "is incorrect, and no attempts are left: request a new code")
			case 1:
				refusal = plaza.Invalid("code", "is incorrect: 1 attempt left")
			default:
				refusal = plaza.Invalid("code", fmt.Sprintf("is incorrect: %d attempts left", left))
			}
			// Committed although the request fails: the attempt counts.
			return bumpAttempts(ctx, tx, accountID)
		}
		// Take the number's lock row first: on PostgreSQL two accounts
		// verifying one number at once would otherwise both pass the check.
		if err := lockPhone(ctx, tx, ch.phone); err != nil {
			return err
		}
		if err := s.checkPhoneFree(ctx, tx, accountID, ch.phone); err != nil {
			refusal = err
			return nil
		}
		if err := putPhone(ctx, tx, accountID, ch.phone, now); err != nil {
			return err
		}
		return deleteChallenge(ctx, tx, accountID)
	})
	if err != nil {
		return fmt.Errorf("verify phone: %w", err)
	}
	return refusal
}
