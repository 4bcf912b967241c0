package account

import (
	"context"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
)

// YourAccount is what an account's export holds of the account itself:
// the profile as its owner sees it, the roles it holds, its standing, its
// live sessions and every acceptance of the terms. The password hash and
// session tokens are secrets and are never part of it.
type YourAccount struct {
	ID           plaza.ID   `json:"id"`
	Handle       string     `json:"handle"`
	DisplayName  string     `json:"display_name"`
	BirthDate    string     `json:"birth_date"`
	Roles        []Role     `json:"roles"`
	Status       Status     `json:"status"`
	StatusReason string     `json:"status_reason,omitempty"`
	StatusUntil  *time.Time `json:"status_until,omitempty"`
	// StatusDecisionID names the moderation decision behind a suspension
	// or closure, when one was behind it.
	StatusDecisionID plaza.ID      `json:"status_decision_id,omitempty"`
	CreatedAt        time.Time     `json:"created_at"`
	Sessions         []YourSession `json:"sessions"`
	Consents         []YourConsent `json:"consents"`
	// Language, Privacy, the profile photo's media item (in the media
	// export) and the working invite links, without their tokens.
	Language      Language `json:"language"`
	Privacy       Privacy  `json:"privacy"`
	AvatarMediaID plaza.ID `json:"avatar_media_id,omitempty"`
	Invites       []Invite `json:"invites"`
}

// YourSession is a live session, without its token.
type YourSession struct {
	ID         plaza.ID  `json:"id"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// YourConsent is one acceptance of a version of the terms.
type YourConsent struct {
	Version    int64     `json:"terms_version"`
	AcceptedAt time.Time `json:"accepted_at"`
}

// YourAccount returns the account id's own data for its export. Sessions
// are capped per account and consents are one per terms version, so both
// are small.
func (s *Service) YourAccount(ctx context.Context, id plaza.ID) (YourAccount, error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return YourAccount{}, err
	}
	out := YourAccount{
		ID: a.ID, Handle: a.Handle, DisplayName: a.DisplayName, BirthDate: a.BirthDate, Roles: a.Roles,
		Status: a.Status, StatusReason: a.StatusReason, StatusDecisionID: a.StatusDecision, CreatedAt: a.CreatedAt,
		Sessions: []YourSession{}, Consents: []YourConsent{}, Language: a.Language,
	}
	if out.Privacy, err = s.Privacy(ctx, id); err != nil && plaza.ErrorCode(err) != plaza.ENotFound {
		return YourAccount{}, fmt.Errorf("your account: %w", err)
	}
	if m, _, err := s.Avatar(ctx, id); err == nil {
		out.AvatarMediaID = m
	} else if plaza.ErrorCode(err) != plaza.ENotFound {
		return YourAccount{}, fmt.Errorf("your account: %w", err)
	}
	if out.Invites, err = s.Invites(ctx, id); err != nil {
		return YourAccount{}, fmt.Errorf("your account: %w", err)
	}
	if out.Roles == nil {
		out.Roles = []Role{}
	}
	if !a.StatusUntil.IsZero() {
		u := a.StatusUntil
		out.StatusUntil = &u
	}
	sessions, err := s.Sessions(ctx, id)
	if err != nil {
		return YourAccount{}, fmt.Errorf("your account: %w", err)
	}
	for _, se := range sessions {
		out.Sessions = append(out.Sessions, YourSession{ID: se.ID, UserAgent: se.UserAgent, CreatedAt: se.CreatedAt, LastUsedAt: se.LastUsedAt, ExpiresAt: se.ExpiresAt})
	}
	consents, err := s.Consents(ctx, id)
	if err != nil {
		return YourAccount{}, fmt.Errorf("your account: %w", err)
	}
	for _, c := range consents {
		out.Consents = append(out.Consents, YourConsent(c))
	}
	return out, nil
}
