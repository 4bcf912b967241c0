package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Invite links (/add/TOKEN) let someone open a contact request to their
// owner from a link or a QR code. The token is 144 random bits; only its
// SHA-256 is stored, so a copy of the database cannot be used to forge
// links, and the owner sees only a short prefix of each.

// Invite limits.
const (
	// InviteTTL is how long an invite link works.
	InviteTTL = 7 * 24 * time.Hour
	// MaxLiveInvites bounds the links one account has working at once.
	MaxLiveInvites = 20
	// invitePrefixLen is how much of a token its owner sees again.
	invitePrefixLen = 4
	// inviteTokenLen is the length of a token: 18 bytes in base64url.
	inviteTokenLen = 24
)

// Invite is an invite link as its owner sees it: without its token.
type Invite struct {
	ID        plaza.ID  `json:"id"`
	AccountID plaza.ID  `json:"account_id"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func inviteHash(token string) []byte {
	h := sha256.Sum256([]byte("plaza-invite\x00" + token))
	return h[:]
}

// CreateInvite makes a new invite link for owner and returns it with its
// token, which is never shown again. An owner with MaxLiveInvites working
// links must revoke one first (conflict).
func (s *Service) CreateInvite(ctx context.Context, owner plaza.ID) (Invite, string, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return Invite{}, "", fmt.Errorf("create invite: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now()
	inv := Invite{ID: plaza.NewID(), AccountID: owner, Prefix: token[:invitePrefixLen], CreatedAt: now, ExpiresAt: now.Add(InviteTTL)}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// The owner's row is the lock that keeps two creations from both
		// passing the count.
		if _, err := lockAvatar(ctx, tx, s.db, owner); err != nil {
			return err
		}
		// Links that no longer work are of no use to anyone: drop them.
		if _, err := tx.ExecContext(ctx, `DELETE FROM invites WHERE account_id = $1 AND (revoked_at IS NOT NULL OR expires_at <= $2)`, owner, micros(now)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM invites WHERE account_id = $1`, owner).Scan(&n); err != nil {
			return err
		}
		if n >= MaxLiveInvites {
			return plaza.Errorf(plaza.EConflict, "you have %d working invite links, the most allowed: revoke one first", n).
				WithDetails(map[string]any{"limit": MaxLiveInvites})
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO invites (account_id, id, token_hash, prefix, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			owner, inv.ID, inviteHash(token), inv.Prefix, micros(inv.CreatedAt), micros(inv.ExpiresAt))
		return err
	})
	if err != nil {
		if plaza.AsError(err) != nil {
			return Invite{}, "", err
		}
		return Invite{}, "", fmt.Errorf("create invite: %w", err)
	}
	return inv, token, nil
}

// Invites lists owner's working invite links, newest first.
func (s *Service) Invites(ctx context.Context, owner plaza.ID) ([]Invite, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, prefix, created_at, expires_at FROM invites
		WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY id DESC LIMIT $3`, owner, micros(s.now()), MaxLiveInvites)
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	defer rows.Close()
	out := []Invite{}
	for rows.Next() {
		inv := Invite{AccountID: owner}
		var c, e int64
		if err := rows.Scan(&inv.ID, &inv.Prefix, &c, &e); err != nil {
			return nil, fmt.Errorf("list invites: %w", err)
		}
		inv.CreatedAt, inv.ExpiresAt = fromMicros(c), fromMicros(e)
		out = append(out, inv)
	}
	return out, rows.Err()
}

// RevokeInvite stops owner's invite link id from working. A link that is
// someone else's, already revoked or expired is not_found.
func (s *Service) RevokeInvite(ctx context.Context, owner, id plaza.ID) error {
	now := micros(s.now())
	res, err := s.db.Write().ExecContext(ctx, `UPDATE invites SET revoked_at = $1 WHERE account_id = $2 AND id = $3 AND revoked_at IS NULL AND expires_at > $1`, now, owner, id)
	if err != nil {
		return fmt.Errorf("revoke invite: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke invite: %w", err)
	} else if n == 0 {
		return plaza.Errorf(plaza.ENotFound, "invite not found")
	}
	return nil
}

// errInviteNotFound is the one answer for a token that does not work:
// unknown, expired, revoked, or its owner can no longer be added.
var errInviteNotFound = plaza.Errorf(plaza.ENotFound, "this invite link does not work: it may have expired or been revoked")

// InviteNotFound returns the one answer for an invite link that does not
// work.
func InviteNotFound() error { return errInviteNotFound }

// ResolveInvite returns the working invite link with token and its
// owner's profile. Unknown, expired and revoked links, and those of an
// owner who is not active (suspended, closed, memorialised or deleted),
// are the same not_found.
func (s *Service) ResolveInvite(ctx context.Context, token string) (Invite, Profile, error) {
	if len(token) != inviteTokenLen {
		return Invite{}, Profile{}, errInviteNotFound
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return Invite{}, Profile{}, errInviteNotFound
	}
	var inv Invite
	var c, e int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT account_id, id, prefix, created_at, expires_at FROM invites
		WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2`, inviteHash(token), micros(s.now())).
		Scan(&inv.AccountID, &inv.ID, &inv.Prefix, &c, &e)
	if errors.Is(err, sql.ErrNoRows) {
		return Invite{}, Profile{}, errInviteNotFound
	}
	if err != nil {
		return Invite{}, Profile{}, fmt.Errorf("resolve invite: %w", sqldb.MapError(err, "invite"))
	}
	inv.CreatedAt, inv.ExpiresAt = fromMicros(c), fromMicros(e)
	a, err := s.Get(ctx, inv.AccountID)
	if err != nil {
		return Invite{}, Profile{}, fmt.Errorf("resolve invite: %w", err)
	}
	if a.Status != Active {
		return Invite{}, Profile{}, errInviteNotFound
	}
	return inv, profileOf(a), nil
}
