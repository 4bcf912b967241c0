package channel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/textcheck"
)

// Application asks for a public account.
type Application struct {
	ID          plaza.ID   `json:"id"`
	ApplicantID plaza.ID   `json:"applicant_id"`
	Handle      string     `json:"handle"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Kind        string     `json:"kind"`
	Status      string     `json:"status"`
	Reason      string     `json:"reason,omitempty"`
	ChannelID   *plaza.ID  `json:"channel_id,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
}

// ApplicationInput is what an applicant sends.
type ApplicationInput struct {
	Handle, Name, Description, Kind string
}

func checkProfile(p *plaza.Problems, handle, name, description string) {
	if n := len(handle); n < 3 || n > 30 || strings.Trim(handle, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		p.Add("handle", "must be 3–30 characters of a-z, 0-9 and _")
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > 64 {
		p.Add("name", "must be 1–64 characters")
	}
	if utf8.RuneCountInString(description) > 1000 {
		p.Add("description", "must be at most 1000 characters")
	}
	if rule := textcheck.Visible(name); rule != "" {
		p.Add("name", rule)
	}
	if rule := textcheck.Storable(description); rule != "" {
		p.Add("description", rule)
	}
}

// Apply files an application. It needs the verification level the policy
// sets for channel.apply (a verified identity by default).
func (s *Service) Apply(ctx context.Context, applicant plaza.ID, in ApplicationInput) (Application, error) {
	in.Handle = strings.ToLower(strings.TrimSpace(in.Handle))
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	var p plaza.Problems
	checkProfile(&p, in.Handle, in.Name, in.Description)
	if in.Kind != Subscription && in.Kind != ServiceKind {
		p.Add("kind", "must be subscription or service")
	}
	if err := p.Err(); err != nil {
		return Application{}, err
	}
	if err := s.identity.Require(ctx, applicant, identity.ChannelApply); err != nil {
		return Application{}, err
	}
	a := Application{ID: plaza.NewID(), ApplicantID: applicant, Handle: in.Handle, Name: in.Name, Description: in.Description,
		Kind: in.Kind, Status: StatusPending, CreatedAt: s.now()}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM channels WHERE handle = $1`, a.Handle).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return plaza.Errorf(plaza.EConflict, "the handle %q is taken", a.Handle).WithDetails(map[string]any{"field": "handle"})
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO channel_applications (applicant_id, id, handle, name, description, kind, status, reason, decided_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, 'pending', '', '', $7)`, applicant, a.ID, a.Handle, a.Name, a.Description, a.Kind, a.CreatedAt.UnixMicro())
		if sqldb.IsUniqueViolation(err) {
			return plaza.Errorf(plaza.EConflict, "an application for %q is already waiting", a.Handle).WithDetails(map[string]any{"field": "handle"})
		}
		return err
	})
	if err != nil {
		return Application{}, err
	}
	return a, nil
}

const applicationColumns = `id, applicant_id, handle, name, description, kind, status, reason, channel_id, created_at, decided_at`

func scanApplication(row interface{ Scan(...any) error }) (Application, error) {
	var a Application
	var ch, decided sql.NullInt64
	var created int64
	if err := row.Scan(&a.ID, &a.ApplicantID, &a.Handle, &a.Name, &a.Description, &a.Kind, &a.Status, &a.Reason, &ch, &created, &decided); err != nil {
		return Application{}, err
	}
	a.CreatedAt = micro(created)
	if ch.Valid {
		id := plaza.ID(ch.Int64)
		a.ChannelID = &id
	}
	if decided.Valid {
		t := micro(decided.Int64)
		a.DecidedAt = &t
	}
	return a, nil
}

// Applications lists applications with a status, oldest first, after a
// cursor; with applicant set, only theirs.
func (s *Service) Applications(ctx context.Context, status string, applicant plaza.ID, after plaza.ID, limit int) ([]Application, error) {
	if status != "" && status != StatusPending && status != StatusApproved && status != StatusRejected {
		return nil, plaza.Invalid("status", "must be pending, approved or rejected")
	}
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+applicationColumns+` FROM channel_applications
		WHERE ($1 = '' OR status = $1) AND (CAST($2 AS BIGINT) = 0 OR applicant_id = $2) AND id > $3 ORDER BY id LIMIT $4`, status, applicant, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	defer rows.Close()
	out := []Application{}
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			return nil, fmt.Errorf("list applications: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DecideApplication approves (creating the channel, owned by the
// applicant) or rejects (with a reason the applicant sees) a pending
// application, and records it in the audit log. Nobody decides their own.
func (s *Service) DecideApplication(ctx context.Context, actor audit.Actor, id plaza.ID, approve bool, reason string) (Application, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); !approve && n == 0 || n > 1000 {
		return Application{}, plaza.Invalid("reason", "must be 1–1000 characters (a rejection must say why)")
	}
	now := s.now()
	var out Application
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Lock the row before reading it: two reviewers deciding at once
		// must not both pass the "still pending" check (PostgreSQL).
		if _, err := tx.ExecContext(ctx, `UPDATE channel_applications SET status = status WHERE id = $1`, id); err != nil {
			return err
		}
		a, err := scanApplication(tx.QueryRowContext(ctx, `SELECT `+applicationColumns+` FROM channel_applications WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return plaza.Errorf(plaza.ENotFound, "application not found")
		}
		if err != nil {
			return err
		}
		if a.Status != StatusPending {
			return plaza.Errorf(plaza.EConflict, "this application was already %s", a.Status)
		}
		if err := account.RefuseOwn(actor, "a channel application", a.ApplicantID); err != nil {
			return err
		}
		a.Status, a.Reason, a.DecidedAt = StatusRejected, reason, &now
		action := "channel.reject"
		var chID any
		if approve {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM channels WHERE handle = $1`, a.Handle).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return plaza.Errorf(plaza.EConflict, "the handle %q was taken meanwhile", a.Handle)
			}
			cid := plaza.NewID()
			if _, err := tx.ExecContext(ctx, `INSERT INTO channels (id, handle, name, description, kind, owner_id, status, status_reason, follower_count, approved_at, created_at, search_key)
				VALUES ($1, $2, $3, $4, $5, $6, 'active', '', 0, $7, $7, $8)`, cid, a.Handle, a.Name, a.Description, a.Kind, a.ApplicantID, now.UnixMicro(), searchKey(a.Handle, a.Name)); err != nil {
				return err
			}
			a.Status, a.ChannelID, action, chID = StatusApproved, &cid, "channel.approve", cid
		}
		if _, err := tx.ExecContext(ctx, `UPDATE channel_applications SET status = $1, reason = $2, decided_by = $3, decided_at = $4, channel_id = $5 WHERE id = $6`,
			a.Status, reason, actor.Name, now.UnixMicro(), chID, id); err != nil {
			return err
		}
		out = a
		_, err = s.audit.Append(ctx, tx, audit.Record{Actor: actor, Action: action, TargetType: "channel_application", TargetID: id.String(),
			Reason: reason, Details: map[string]any{"handle": a.Handle, "kind": a.Kind, "applicant_id": a.ApplicantID.String()}})
		return err
	})
	if err != nil {
		return Application{}, fmt.Errorf("decide application: %w", err)
	}
	return out, nil
}

func micro(us int64) time.Time { return time.UnixMicro(us).UTC() }
