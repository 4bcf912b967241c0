package account

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
)

// Terms is one published version of the terms of service.
type Terms struct {
	Version           int64
	Title             string
	Body              string
	RequiresReconsent bool
	PublishedAt       time.Time
}

// Consent records that an account accepted a terms version.
type Consent struct {
	Version    int64
	AcceptedAt time.Time
}

//go:embed default_terms.md
var defaultTermsBody string

const (
	termsTitleMax = 200
	termsBodyMax  = 200_000
)

func termsRequired(version int64) error {
	return plaza.Errorf(plaza.ETermsAcceptanceRequired,
		"you must accept version %d of the terms (GET /api/v1/terms)", version).
		WithDetails(map[string]any{"version": version})
}

// SeedTerms publishes the default terms as version 1 when none exist, so a
// fresh server can take registrations at once. The operator replaces them
// with POST /api/v1/admin/terms.
func (s *Service) SeedTerms(ctx context.Context) error {
	_, err := currentTerms(ctx, s.db.Read())
	if plaza.ErrorCode(err) != plaza.ENotFound {
		return err
	}
	err = insertTerms(ctx, s.db.Write(), Terms{Version: 1, Title: "Terms of Service", Body: defaultTermsBody, PublishedAt: s.now()})
	if plaza.ErrorCode(err) == plaza.EConflict {
		return nil // another node seeded them first
	}
	return err
}

// CurrentTerms returns the newest terms.
func (s *Service) CurrentTerms(ctx context.Context) (Terms, error) {
	return currentTerms(ctx, s.db.Read())
}

// TermsVersion returns one version of the terms.
func (s *Service) TermsVersion(ctx context.Context, version int64) (Terms, error) {
	return getTerms(ctx, s.db.Read(), version)
}

// PublishTerms publishes the next terms version. With requiresReconsent,
// every account must accept it before doing anything else.
func (s *Service) PublishTerms(ctx context.Context, actor audit.Actor, title, body string, requiresReconsent bool) (Terms, error) {
	title, body = strings.TrimSpace(title), strings.TrimSpace(body)
	var p plaza.Problems
	if n := utf8.RuneCountInString(title); n < 1 || n > termsTitleMax {
		p.Add("title", "must be 1–200 characters")
	}
	if n := len(body); n < 1 || n > termsBodyMax {
		p.Add("body", "must be 1–200000 bytes")
	}
	if !utf8.ValidString(title + body) {
		p.Add("body", "must be valid UTF-8")
	}
	if err := p.Err(); err != nil {
		return Terms{}, err
	}
	var t Terms
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := currentTerms(ctx, tx)
		if err != nil && plaza.ErrorCode(err) != plaza.ENotFound {
			return err
		}
		t = Terms{Version: cur.Version + 1, Title: title, Body: body, RequiresReconsent: requiresReconsent, PublishedAt: s.now()}
		if err := insertTerms(ctx, tx, t); err != nil {
			return err
		}
		_, err = s.audit.Append(ctx, tx, audit.Record{
			Actor: actor, Action: "terms.publish", TargetType: "terms", TargetID: fmt.Sprint(t.Version),
			Details: map[string]any{"title": title, "requires_reconsent": requiresReconsent},
		})
		return err
	})
	if err != nil {
		return Terms{}, fmt.Errorf("publish terms: %w", err)
	}
	if requiresReconsent {
		s.standingChanged(ctx, 0) // every account's streams are re-checked
	}
	return t, nil
}

// Accept records that accountID accepts version, which must be the current
// one: accepting an outdated version would not lift the gate.
func (s *Service) Accept(ctx context.Context, accountID plaza.ID, version int64) error {
	cur, err := currentTerms(ctx, s.db.Read())
	if err != nil {
		return fmt.Errorf("accept terms: %w", err)
	}
	if version != cur.Version {
		return plaza.Errorf(plaza.EInvalid, "version: must be the current terms version, %d", cur.Version).
			WithDetails(map[string]any{"field": "version", "version": cur.Version})
	}
	return insertConsent(ctx, s.db.Write(), accountID, version, s.now())
}

// Consents lists the terms versions an account accepted.
func (s *Service) Consents(ctx context.Context, accountID plaza.ID) ([]Consent, error) {
	return listConsents(ctx, s.db.Read(), accountID)
}
