package push

import (
	"context"
	"crypto/ecdh"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Subscription is a browser's push subscription, as its owner sees it.
// Its keys are never shown again.
type Subscription struct {
	ID        plaza.ID  `json:"id"`
	Endpoint  string    `json:"endpoint"`
	CreatedAt time.Time `json:"created_at"`
}

// SubscriptionInput is what a browser's PushSubscription.toJSON() gives:
// the endpoint and its keys, base64url.
type SubscriptionInput struct {
	Endpoint string
	P256dh   string
	Auth     string
}

// Limits on what a subscription may hold.
const (
	maxEndpoint = 2048
	maxKeyText  = 200
)

// checked is a validated SubscriptionInput.
type checked struct {
	endpoint     string
	p256dh, auth []byte
}

// check validates in, naming each field that breaks a rule.
func (s *Service) check(in SubscriptionInput) (checked, error) {
	var p plaza.Problems
	var c checked
	if rule := s.checkEndpoint(in.Endpoint); rule != "" {
		p.Add("endpoint", rule)
	}
	c.endpoint = in.Endpoint
	if b, err := decodeKey(in.P256dh); err != nil || len(b) != 65 || b[0] != 4 {
		p.Add("keys.p256dh", "must be the base64url uncompressed P-256 public key (65 bytes) of the subscription")
	} else if _, err := ecdh.P256().NewPublicKey(b); err != nil {
		p.Add("keys.p256dh", "must be a point on the P-256 curve")
	} else {
		c.p256dh = b
	}
	if b, err := decodeKey(in.Auth); err != nil || len(b) != 16 {
		p.Add("keys.auth", "must be the base64url 16-byte authentication secret of the subscription")
	} else {
		c.auth = b
	}
	return c, p.Err()
}

// checkEndpoint returns the rule endpoint breaks, or "".
func (s *Service) checkEndpoint(endpoint string) string {
	const rule = "must be the https URL of a push service (at most 2048 characters)"
	if endpoint == "" || len(endpoint) > maxEndpoint {
		return rule
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return rule
	}
	host := u.Hostname()
	loopback := host == "localhost" || strings.HasSuffix(host, ".localhost")
	if ip := net.ParseIP(host); ip != nil {
		loopback = ip.IsLoopback()
		if !loopback && !publicIP(ip) {
			return "must not name a private, link-local or unspecified address"
		}
	}
	switch {
	case loopback && !s.cfg.AllowLoopback:
		return "must not name this machine (loopback endpoints are for tests: see --push-allow-loopback)"
	case !loopback && !knownService(host, s.cfg.Services):
		return "must be on a known push service (" + strings.Join(s.cfg.Services, ", ") + "; the operator may add one with --push-services)"
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback:
	default:
		return rule
	}
	return ""
}

// decodeKey decodes a subscription key in base64url (what browsers give)
// or standard base64, padded or not.
func decodeKey(s string) ([]byte, error) {
	if s == "" || len(s) > maxKeyText {
		return nil, errors.New("bad length")
	}
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// Subscribe stores a subscription for account, bound to session: when the
// session ends, the subscription goes. created is false when the endpoint
// was already subscribed: its keys and session are replaced, and if
// another account had it, it moves to this one (a browser has one
// endpoint, used by whoever signed in last). An account keeps at most
// MaxSubscriptions; a new one beyond that replaces its oldest.
func (s *Service) Subscribe(ctx context.Context, account, session plaza.ID, in SubscriptionInput) (Subscription, bool, error) {
	c, err := s.check(in)
	if err != nil {
		return Subscription{}, false, err
	}
	var out Subscription
	var created bool
	now := time.Now().UTC().Truncate(time.Microsecond)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var owner, id plaza.ID
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT account_id, id, created_at FROM push_subscriptions WHERE endpoint = $1`, c.endpoint).Scan(&owner, &id, &at)
		switch {
		case err == nil && owner == account:
			_, err := tx.ExecContext(ctx, `UPDATE push_subscriptions SET session_id = $1, p256dh = $2, auth = $3 WHERE account_id = $4 AND id = $5`,
				session, c.p256dh, c.auth, account, id)
			out = Subscription{ID: id, Endpoint: c.endpoint, CreatedAt: time.UnixMicro(at).UTC()}
			return err
		case err == nil:
			// Another account's: it moves here, under a new id.
			if _, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE account_id = $1 AND id = $2`, owner, id); err != nil {
				return err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return err
		default:
			created = true
		}
		// Keep room for the new one: the oldest go.
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE account_id = $1 AND id NOT IN
			(SELECT id FROM push_subscriptions WHERE account_id = $1 ORDER BY id DESC LIMIT $2)`, account, MaxSubscriptions-1); err != nil {
			return err
		}
		out = Subscription{ID: plaza.NewID(), Endpoint: c.endpoint, CreatedAt: now}
		_, err = tx.ExecContext(ctx, `INSERT INTO push_subscriptions (account_id, id, session_id, endpoint, p256dh, auth, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			account, out.ID, session, c.endpoint, c.p256dh, c.auth, now.UnixMicro())
		return err
	})
	if err != nil {
		if plaza.ErrorCode(sqldb.MapError(err, "push subscription")) == plaza.EConflict {
			return Subscription{}, false, plaza.Errorf(plaza.EConflict, "the endpoint is being subscribed by another request: try again")
		}
		if plaza.ErrorCode(err) != "" {
			return Subscription{}, false, err
		}
		return Subscription{}, false, fmt.Errorf("subscribe to push: %w", err)
	}
	return out, created, nil
}

// Subscriptions lists account's subscriptions, newest first.
func (s *Service) Subscriptions(ctx context.Context, account plaza.ID) ([]Subscription, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, endpoint, created_at FROM push_subscriptions WHERE account_id = $1 ORDER BY id DESC`, account)
	if err != nil {
		return nil, fmt.Errorf("push subscriptions: %w", err)
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		var sub Subscription
		var at int64
		if err := rows.Scan(&sub.ID, &sub.Endpoint, &at); err != nil {
			return nil, fmt.Errorf("push subscriptions: %w", err)
		}
		sub.CreatedAt = time.UnixMicro(at).UTC()
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Unsubscribe deletes one of account's subscriptions; another account's
// is not found.
func (s *Service) Unsubscribe(ctx context.Context, account, id plaza.ID) error {
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM push_subscriptions WHERE account_id = $1 AND id = $2`, account, id)
	if err != nil {
		return fmt.Errorf("delete push subscription: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return plaza.Errorf(plaza.ENotFound, "push subscription not found")
	}
	return nil
}
