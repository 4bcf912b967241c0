package httpapi

import (
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/microblog"
)

// meOf returns a's owner view with its verification state.
func (s *Server) meOf(r *http.Request, a account.Account) (meJSON, error) {
	v, err := s.identity.Status(r.Context(), a.ID)
	if err != nil {
		return meJSON{}, err
	}
	return toMeJSON(a, v), nil
}

// Wire shapes of the account endpoints.

type termsJSON struct {
	Version           int64     `json:"version"`
	Title             string    `json:"title"`
	Body              string    `json:"body"`
	RequiresReconsent bool      `json:"requires_reconsent"`
	PublishedAt       time.Time `json:"published_at"`
}

func toTermsJSON(t account.Terms) termsJSON {
	return termsJSON{Version: t.Version, Title: t.Title, Body: t.Body, RequiresReconsent: t.RequiresReconsent, PublishedAt: t.PublishedAt}
}

type termsStateJSON struct {
	AcceptedVersion   int64 `json:"accepted_version"`
	CurrentVersion    int64 `json:"current_version"`
	ReconsentRequired bool  `json:"reconsent_required"`
}

// meJSON is an account as its owner sees it.
type meJSON struct {
	ID           plaza.ID         `json:"id"`
	Handle       string           `json:"handle"`
	DisplayName  string           `json:"display_name"`
	BirthDate    string           `json:"birth_date"`
	Roles        []account.Role   `json:"roles"`
	Verification verificationJSON `json:"verification"`
	Status       account.Status   `json:"status"`
	StatusReason string           `json:"status_reason,omitempty"`
	StatusUntil  *time.Time       `json:"status_until,omitempty"`
	// StatusDecisionID names the moderation decision that suspended or
	// closed the account: its statement of reasons.
	StatusDecisionID plaza.ID        `json:"status_decision_id,omitempty"`
	Terms            *termsStateJSON `json:"terms,omitempty"`
	CreatedAt        time.Time       `json:"created_at"`
	// DeletionScheduledAt is when the deletion the owner asked for takes
	// effect; absent when none is scheduled.
	DeletionScheduledAt *time.Time `json:"deletion_scheduled_at,omitempty"`
	// Language is what the server writes to the account in: en or zh-CN.
	Language account.Language `json:"language"`
	// AvatarURL is the profile photo's versioned URL; null when none.
	AvatarURL *string `json:"avatar_url"`
}

func toMeJSON(a account.Account, v identity.Status) meJSON {
	m := meJSON{
		ID: a.ID, Handle: a.Handle, DisplayName: a.DisplayName, BirthDate: a.BirthDate, Roles: a.Roles,
		Verification: toVerificationJSON(v),
		Status:       a.Status, StatusReason: a.StatusReason, CreatedAt: a.CreatedAt,
		StatusDecisionID: a.StatusDecision,
		Language:         a.Language,
		AvatarURL:        avatarURL(a.ID, a.AvatarVersion),
	}
	if m.Language == "" {
		m.Language = account.English
	}
	if m.Roles == nil {
		m.Roles = []account.Role{}
	}
	if !a.StatusUntil.IsZero() {
		u := a.StatusUntil
		m.StatusUntil = &u
	}
	if !a.DeletionScheduledAt.IsZero() {
		d := a.DeletionScheduledAt
		m.DeletionScheduledAt = &d
	}
	return m
}

type profileJSON struct {
	ID          plaza.ID       `json:"id"`
	Handle      string         `json:"handle"`
	DisplayName string         `json:"display_name"`
	Verified    bool           `json:"verified"`
	Status      account.Status `json:"status"`
	// Memorialised marks an account kept in memory of a person who has
	// died: read-only, nobody signs in to it or messages it.
	Memorialised bool `json:"memorialised"`
	// AvatarURL is the profile photo's versioned URL; null when none.
	AvatarURL *string `json:"avatar_url"`
	// The microblog's counts, and whether the caller follows the account.
	microblog.Counts
}

type sessionJSON struct {
	ID         plaza.ID  `json:"id"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Current    bool      `json:"current"`
}

type signedInJSON struct {
	Account meJSON `json:"account"`
	Token   string `json:"token"`
}

// list is the shape of every list response.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func (s *Server) getTerms(w http.ResponseWriter, r *http.Request) error {
	t, err := s.accounts.CurrentTerms(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toTermsJSON(t))
}

// registrationJSON is the body of a registration.
type registrationJSON struct {
	Handle               string `json:"handle"`
	Password             string `json:"password"`
	DisplayName          string `json:"display_name"`
	BirthDate            string `json:"birth_date"`
	AcceptedTermsVersion int64  `json:"accepted_terms_version"`
	// Language is the account's language (en or zh-CN); default en.
	Language string `json:"language"`
}

func (j registrationJSON) registration(r *http.Request) account.Registration {
	return account.Registration{
		Handle: j.Handle, Password: j.Password, DisplayName: j.DisplayName,
		BirthDate: j.BirthDate, AcceptedTermsVersion: j.AcceptedTermsVersion, UserAgent: r.UserAgent(),
		Language: j.Language,
	}
}

// writeRegistered answers a registration: 201 with the new account and
// its session's token.
func (s *Server) writeRegistered(w http.ResponseWriter, r *http.Request, a account.Account, token string) error {
	infoOf(r).accountID = a.ID
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/api/v1/accounts/"+a.ID.String())
	return writeJSON(w, http.StatusCreated, signedInJSON{Account: toMeJSON(a, identity.Status{Identity: identity.StatusNone}), Token: token})
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	if ok, retry := s.registerIP.Allow(s.clientIP(r).String()); !ok {
		return rateLimited("registrations from your address", int64(retry))
	}
	var req registrationJSON
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	a, token, err := s.accounts.Register(r.Context(), req.registration(r))
	if err != nil {
		return err
	}
	return s.writeRegistered(w, r, a, token)
}

// setup registers the first administrator through the one-time link the
// server logged at start. A wrong token is not_found, as is any token on
// a server that logged none, so the endpoint says nothing to a stranger;
// once an administrator exists it is a conflict, on every node (the
// check is in the registration's transaction).
func (s *Server) setup(w http.ResponseWriter, r *http.Request) error {
	if ok, retry := s.registerIP.Allow(s.clientIP(r).String()); !ok {
		return rateLimited("registrations from your address", int64(retry))
	}
	var req struct {
		Token string `json:"token"`
		registrationJSON
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	want := s.cfg.SetupToken
	if want == "" || subtle.ConstantTimeCompare([]byte(req.Token), []byte(want)) != 1 {
		return plaza.Errorf(plaza.ENotFound, "this setup link is not valid: use the one the server logged at its start")
	}
	a, token, err := s.accounts.RegisterFirstAdmin(r.Context(), req.registration(r))
	if err != nil {
		return err
	}
	s.log.Info("first administrator registered through the setup link", "account_id", a.ID.String())
	return s.writeRegistered(w, r, a, token)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Handle   string `json:"handle"`
		Password string `json:"password"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	ip := s.clientIP(r).String()
	if ok, retry := s.loginIP.Allow(ip); !ok {
		return rateLimited("sign-in attempts from your address", int64(retry))
	}
	// Keyed by the handle as typed (normalised), so guessing at one
	// account is slowed whether or not it exists. The tight limit is per
	// (account, address): guesses from one place must not lock the owner
	// out from another. The per-account ceiling is far higher and only
	// stops guessing spread over many addresses.
	handle := normalizeKey(req.Handle)
	if ok, retry := s.loginAccountIP.Allow(handle + "\x00" + ip); !ok {
		return rateLimited("sign-in attempts for this account from your address", int64(retry))
	}
	if ok, retry := s.loginAccount.Allow(handle); !ok {
		return rateLimited("sign-in attempts for this account", int64(retry))
	}
	a, token, err := s.accounts.Login(r.Context(), req.Handle, req.Password, r.UserAgent())
	if err != nil {
		return err
	}
	infoOf(r).accountID = a.ID
	w.Header().Set("Cache-Control", "no-store")
	me, err := s.meOf(r, a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, signedInJSON{Account: me, Token: token})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	a := authOf(r)
	if err := s.accounts.RevokeSession(r.Context(), a.Account.ID, a.SessionID); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request) error {
	a := authOf(r)
	m, err := s.meOf(r, a.Account)
	if err != nil {
		return err
	}
	m.Terms = &termsStateJSON{AcceptedVersion: a.AcceptedTerms, CurrentVersion: a.CurrentTerms, ReconsentRequired: a.NeedsConsent()}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) patchMe(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		DisplayName *string `json:"display_name"`
		Language    *string `json:"language"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	a := authOf(r)
	acct := a.Account
	// The language is checked first, so a bad one changes nothing.
	if req.Language != nil {
		if _, err := account.ParseLanguage(*req.Language); err != nil {
			return err
		}
	}
	if req.DisplayName != nil {
		var err error
		if acct, err = s.accounts.SetDisplayName(r.Context(), acct.ID, *req.DisplayName); err != nil {
			return err
		}
	}
	if req.Language != nil {
		var err error
		if acct, err = s.accounts.SetLanguage(r.Context(), acct.ID, *req.Language); err != nil {
			return err
		}
	}
	me, err := s.meOf(r, acct)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, me)
}

func (s *Server) deleteMe(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Password string `json:"password"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Password == "" {
		return plaza.Invalid("password", "is required to delete the account")
	}
	at, err := s.accounts.ScheduleDeletion(r.Context(), authOf(r).Account.ID, req.Password)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"deletion_scheduled_at": at})
}

func (s *Server) cancelDeletion(w http.ResponseWriter, r *http.Request) error {
	a, err := s.accounts.CancelDeletion(r.Context(), authOf(r).Account.ID)
	if err != nil {
		return err
	}
	me, err := s.meOf(r, a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, me)
}

func toSessionJSON(se account.Session, current plaza.ID) sessionJSON {
	return sessionJSON{ID: se.ID, UserAgent: se.UserAgent, CreatedAt: se.CreatedAt, LastUsedAt: se.LastUsedAt, ExpiresAt: se.ExpiresAt, Current: se.ID == current}
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	a := authOf(r)
	sessions, err := s.accounts.Sessions(r.Context(), a.Account.ID)
	if err != nil {
		return err
	}
	out := list[sessionJSON]{Items: make([]sessionJSON, 0, len(sessions))}
	for _, se := range sessions {
		out.Items = append(out.Items, toSessionJSON(se, a.SessionID))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "session not found")
	}
	if err := s.accounts.RevokeSession(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) consent(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Version int64 `json:"version"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := s.accounts.Accept(r.Context(), authOf(r).Account.ID, req.Version); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "account not found")
	}
	p, err := s.accounts.Profile(r.Context(), id)
	if err != nil {
		return err
	}
	out, err := s.profileOf(r, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// profileOf returns p as the caller sees it: with the verified badge, the
// profile photo's URL and the microblog's counts.
func (s *Server) profileOf(r *http.Request, p account.Profile) (profileJSON, error) {
	v, err := s.identity.Status(r.Context(), p.ID)
	if err != nil {
		return profileJSON{}, err
	}
	out := profileJSON{ID: p.ID, Handle: p.Handle, DisplayName: p.DisplayName, Status: p.Status, Verified: v.Identity == identity.StatusVerified,
		Memorialised: p.Memorialised(), AvatarURL: avatarURL(p.ID, p.AvatarVersion)}
	if s.microblog != nil {
		if out.Counts, err = s.microblog.Counts(r.Context(), authOf(r).Account.ID, p.ID); err != nil {
			return profileJSON{}, err
		}
	}
	return out, nil
}
