package chat

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/textcheck"
)

const noteMax = 200

// RequestContact asks `to` to become a contact of `from`, with a note. If
// `to` already asked `from`, the two become contacts at once.
func (s *Service) RequestContact(ctx context.Context, from, to plaza.ID, note string) (ContactRequest, error) {
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > noteMax || !utf8.ValidString(note) {
		return ContactRequest{}, plaza.Invalid("note", "must be at most 200 characters")
	}
	if rule := textcheck.PlainLine(note); rule != "" {
		return ContactRequest{}, plaza.Invalid("note", rule)
	}
	if from == to {
		return ContactRequest{}, plaza.Invalid("account_id", "must be someone else")
	}
	// Charged before any lookup, so refused requests count too: probing
	// who exists or who blocks whom is as limited as asking.
	if err := s.limits.contactRequests.Take(ctx, from.String(), 1); err != nil {
		return ContactRequest{}, err
	}
	if err := s.identity.Require(ctx, from, identity.ContactRequest); err != nil {
		return ContactRequest{}, err
	}
	if err := s.checkAccount(ctx, to); err != nil {
		return ContactRequest{}, err
	}
	if b, err := blocked(ctx, s.db.Read(), to, from); err != nil {
		return ContactRequest{}, err
	} else if b {
		return ContactRequest{}, plaza.Errorf(plaza.EBlocked, "this person does not accept contact requests from you")
	}
	if ok, err := areContacts(ctx, s.db.Read(), from, to); err != nil {
		return ContactRequest{}, err
	} else if ok {
		return ContactRequest{}, plaza.Errorf(plaza.EConflict, "you are already contacts")
	}
	// Their pending request to me: accept it instead.
	var theirs plaza.ID
	err := s.db.Read().QueryRowContext(ctx, `SELECT id FROM contact_requests WHERE from_id = $1 AND to_id = $2 AND status = 'pending'`, to, from).Scan(&theirs)
	if err == nil {
		return s.AcceptContact(ctx, from, theirs)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return ContactRequest{}, err
	}
	var mine plaza.ID
	if err := s.db.Read().QueryRowContext(ctx, `SELECT id FROM contact_requests WHERE from_id = $1 AND to_id = $2 AND status = 'pending'`, from, to).Scan(&mine); err == nil {
		return ContactRequest{}, plaza.Errorf(plaza.EConflict, "you already asked; the request is waiting").WithDetails(map[string]any{"id": mine})
	}
	now := s.now()
	req := ContactRequest{ID: plaza.NewID(), FromID: from, ToID: to, Note: note, Status: RequestPending, CreatedAt: now}
	var evs []events.Pending
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO contact_requests (to_id, id, from_id, note, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			to, req.ID, from, note, RequestPending, now.UnixMicro()); err != nil {
			if sqldb.IsUniqueViolation(err) {
				// contact_requests_pending: a double tap, or both at once.
				return plaza.Errorf(plaza.EConflict, "you already asked; the request is waiting")
			}
			return err
		}
		data, _ := json.Marshal(req)
		var err error
		evs, err = s.appendEvents(ctx, tx, []plaza.ID{to}, events.ContactRequest, 0, req.ID, data, data)
		return err
	})
	if err != nil {
		return ContactRequest{}, fmt.Errorf("contact request: %w", err)
	}
	s.publish(ctx, evs)
	return req, nil
}

func scanRequest(row interface{ Scan(...any) error }) (ContactRequest, error) {
	var r ContactRequest
	err := row.Scan(&r.ID, &r.FromID, &r.ToID, &r.Note, &r.Status, (*microTime)(&r.CreatedAt))
	return r, err
}

// Requests lists pending requests to (incoming) or from (outgoing) the
// account, newest first.
func (s *Service) Requests(ctx context.Context, account plaza.ID, outgoing bool) ([]ContactRequest, error) {
	col := "to_id"
	if outgoing {
		col = "from_id"
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, from_id, to_id, note, status, created_at FROM contact_requests
		WHERE `+col+` = $1 AND status = 'pending' ORDER BY id DESC LIMIT 500`, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ContactRequest{}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AcceptContact accepts a pending request addressed to me; both become
// each other's contacts and both get contact.accepted.
func (s *Service) AcceptContact(ctx context.Context, me, requestID plaza.ID) (ContactRequest, error) {
	return s.decide(ctx, me, requestID, RequestAccepted)
}

// DeclineContact declines a pending request addressed to me. The sender is
// not told.
func (s *Service) DeclineContact(ctx context.Context, me, requestID plaza.ID) (ContactRequest, error) {
	return s.decide(ctx, me, requestID, RequestDeclined)
}

func (s *Service) decide(ctx context.Context, me, requestID plaza.ID, to string) (ContactRequest, error) {
	now := s.now()
	var req ContactRequest
	var evs []events.Pending
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		evs = evs[:0]
		r, err := scanRequest(tx.QueryRowContext(ctx, `SELECT id, from_id, to_id, note, status, created_at FROM contact_requests WHERE to_id = $1 AND id = $2`, me, requestID))
		if errors.Is(err, sql.ErrNoRows) {
			return plaza.Errorf(plaza.ENotFound, "contact request not found")
		}
		if err != nil {
			return err
		}
		if r.Status != RequestPending {
			return plaza.Errorf(plaza.EConflict, "this request was already %s", r.Status)
		}
		if to == RequestAccepted {
			for _, pair := range [][2]plaza.ID{{r.FromID, r.ToID}, {r.ToID, r.FromID}} {
				if b, err := blocked(ctx, tx, pair[0], pair[1]); err != nil {
					return err
				} else if b {
					return plaza.Errorf(plaza.EBlocked, "one of you has blocked the other")
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contact_requests SET status = $1, decided_at = $2 WHERE to_id = $3 AND id = $4`, to, now.UnixMicro(), me, requestID); err != nil {
			return err
		}
		r.Status = to
		req = r
		if to != RequestAccepted {
			return nil
		}
		for _, pair := range [][2]plaza.ID{{r.FromID, r.ToID}, {r.ToID, r.FromID}} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO contacts (account_id, contact_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, pair[0], pair[1], now.UnixMicro()); err != nil {
				return err
			}
		}
		data, _ := json.Marshal(r)
		evs, err = s.appendEvents(ctx, tx, []plaza.ID{r.FromID, r.ToID}, events.ContactAccepted, 0, r.ID, data, data)
		return err
	})
	if err != nil {
		return ContactRequest{}, err
	}
	s.publish(ctx, evs)
	return req, nil
}

// Contacts lists the account's contacts.
func (s *Service) Contacts(ctx context.Context, account plaza.ID) ([]Contact, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT a.id, a.handle, a.display_name, c.created_at,
			CASE WHEN a.avatar_media_id IS NULL THEN 0 ELSE a.avatar_version END FROM contacts c
		JOIN accounts a ON a.id = c.contact_id WHERE c.account_id = $1 AND a.status <> 'deleted' ORDER BY a.handle LIMIT 5000`, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Contact{}
	for rows.Next() {
		var c Contact
		if err := rows.Scan(&c.AccountID, &c.Handle, &c.DisplayName, (*microTime)(&c.Since), &c.AvatarVersion); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RemoveContact ends a contact relation, both ways.
func (s *Service) RemoveContact(ctx context.Context, me, other plaza.ID) error {
	var n int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// A send checked before this change is checked again (see number).
		if err := bumpDirectVersion(ctx, tx, me, other); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE (account_id = $1 AND contact_id = $2) OR (account_id = $2 AND contact_id = $1)`, me, other)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return plaza.Errorf(plaza.ENotFound, "not a contact")
	}
	return nil
}

// Block stops `who` from sending me contact requests, direct messages and
// group invitations. Blocking also ends a contact relation, and whatever
// the hooks registered with OnBlock end.
func (s *Service) Block(ctx context.Context, me, who plaza.ID) error {
	if me == who {
		return plaza.Invalid("account_id", "must be someone else")
	}
	if err := s.checkAccount(ctx, who); err != nil && plaza.ErrorCode(err) == plaza.ENotFound {
		return err
	}
	var after []func(context.Context)
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		after = after[:0]
		// A send checked before this block is checked again (see number).
		if err := bumpDirectVersion(ctx, tx, me, who); err != nil {
			return err
		}
		for _, h := range s.onBlock {
			f, err := h(ctx, tx, me, who)
			if err != nil {
				return err
			}
			if f != nil {
				after = append(after, f)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO blocks (account_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, me, who, s.now().UnixMicro()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE (account_id = $1 AND contact_id = $2) OR (account_id = $2 AND contact_id = $1)`, me, who); err != nil {
			return err
		}
		// Pending requests either way are declined: the blocked person must
		// not become a contact by accepting one the blocker sent earlier.
		_, err := tx.ExecContext(ctx, `UPDATE contact_requests SET status = 'declined', decided_at = $3
			WHERE status = 'pending' AND ((to_id = $1 AND from_id = $2) OR (to_id = $2 AND from_id = $1))`, me, who, s.now().UnixMicro())
		return err
	})
	if err != nil {
		return err
	}
	for _, f := range after {
		f(ctx)
	}
	return nil
}

// BlockHook removes what another domain keeps between two people when
// blocker blocks blocked (follows, say), inside the block's transaction.
// The function it returns, if any, runs after the commit (to tell
// connected devices).
type BlockHook func(ctx context.Context, tx *sql.Tx, blocker, blocked plaza.ID) (after func(context.Context), err error)

// OnBlock registers a hook that runs when someone blocks someone. Call it
// while wiring the program, before serving.
func (s *Service) OnBlock(h BlockHook) { s.onBlock = append(s.onBlock, h) }

// Unblock lifts a block.
func (s *Service) Unblock(ctx context.Context, me, who plaza.ID) error {
	res, err := s.db.Write().ExecContext(ctx, `DELETE FROM blocks WHERE account_id = $1 AND blocked_id = $2`, me, who)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return plaza.Errorf(plaza.ENotFound, "not blocked")
	}
	return nil
}

// Blocks lists whom the account blocked.
func (s *Service) Blocks(ctx context.Context, account plaza.ID) ([]plaza.ID, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT blocked_id FROM blocks WHERE account_id = $1 ORDER BY created_at DESC LIMIT 5000`, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []plaza.ID{}
	for rows.Next() {
		var id plaza.ID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Blocked reports whether blocker has blocked who: lookups, invite links
// and profile photos treat who as unable to see blocker.
func (s *Service) Blocked(ctx context.Context, blocker, who plaza.ID) (bool, error) {
	return blocked(ctx, s.db.Read(), blocker, who)
}
