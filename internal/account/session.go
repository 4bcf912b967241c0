package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/textcheck"
)

// Session is a signed-in device. Its token is shown once, at creation;
// only a SHA-256 of it is stored, so a copy of the database cannot be used
// to sign in.
type Session struct {
	ID         plaza.ID
	AccountID  plaza.ID
	UserAgent  string
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
}

// tokenPrefix marks Plaza session tokens so secret scanners can find leaked
// ones.
const tokenPrefix = "plz_"

const userAgentMax = 256

func newToken() (string, []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return tok, hashToken(tok)
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

func clipUserAgent(ua string) string {
	ua = strings.ToValidUTF8(ua, "")
	for len(ua) > userAgentMax {
		_, size := utf8.DecodeLastRuneInString(ua)
		ua = ua[:len(ua)-size]
	}
	return ua
}

// Registration is what a person gives to open an account.
type Registration struct {
	Handle               string
	Password             string
	DisplayName          string
	BirthDate            string
	AcceptedTermsVersion int64
	UserAgent            string
	// Language is the account's language; "" is English.
	Language string
}

// Register opens an account, records the terms acceptance and signs the
// new account in. Nothing is stored unless every check passes: in
// particular someone under the minimum age leaves no trace at all.
func (s *Service) Register(ctx context.Context, r Registration) (Account, string, error) {
	return s.register(ctx, r, nil)
}

// register is Register, with also, when set, run in the transaction that
// stores the account.
func (s *Service) register(ctx context.Context, r Registration, also func(tx *sql.Tx, a *Account) error) (Account, string, error) {
	now := s.now()
	var p plaza.Problems
	handle := normalizeHandle(r.Handle)
	if rule := handleRule(handle); rule != "" {
		p.Add("handle", rule)
	}
	if rule := passwordRule(r.Password); rule != "" {
		p.Add("password", rule)
	}
	name, rule := cleanDisplayName(r.DisplayName)
	if rule != "" {
		p.Add("display_name", rule)
	}
	today := now.In(s.cfg.Location)
	birth, rule := parseBirthDate(r.BirthDate, today)
	if rule != "" {
		p.Add("birth_date", rule)
	}
	lang, rule := parseLanguage(r.Language)
	if rule != "" {
		p.Add("language", rule)
	}
	if err := p.Err(); err != nil {
		return Account{}, "", err
	}

	terms, err := currentTerms(ctx, s.db.Read())
	if err != nil {
		return Account{}, "", fmt.Errorf("register: %w", err)
	}
	if r.AcceptedTermsVersion != terms.Version {
		return Account{}, "", termsRequired(terms.Version)
	}
	if age(birth, today) < s.cfg.MinAge {
		return Account{}, "", plaza.Errorf(plaza.EAgeRequirement,
			"you must be at least %d years old to use this service", s.cfg.MinAge).
			WithDetails(map[string]any{"minimum_age": s.cfg.MinAge})
	}
	// Fail fast on a taken handle before spending a password hash on it;
	// the unique index still settles a race.
	if taken, err := handleExists(ctx, s.db.Read(), handle); err != nil {
		return Account{}, "", fmt.Errorf("register: %w", err)
	} else if taken {
		return Account{}, "", plaza.Errorf(plaza.EConflict, "handle %q is taken", handle).WithDetails(map[string]any{"field": "handle"})
	}
	hash, err := s.hasher.Hash(ctx, r.Password)
	if err != nil {
		return Account{}, "", fmt.Errorf("register: %w", err)
	}

	a := Account{ID: plaza.NewID(), Handle: handle, DisplayName: name, BirthDate: r.BirthDate, Status: Active, Roles: []Role{}, CreatedAt: now, Language: lang}
	var token string
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := insertAccount(ctx, tx, a, hash); err != nil {
			return err
		}
		if err := insertConsent(ctx, tx, a.ID, terms.Version, now); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx, &a); err != nil {
				return err
			}
		}
		token, err = s.createSession(ctx, tx, a.ID, r.UserAgent, now)
		return err
	})
	if err != nil {
		if plaza.AsError(err) != nil {
			return Account{}, "", err
		}
		return Account{}, "", fmt.Errorf("register: %w", err)
	}
	return a, token, nil
}

// createSession opens a session in tx; it may end the least recently used
// sessions of the account, so a caller that may have existing sessions
// tells the standing hooks after the commit.
func (s *Service) createSession(ctx context.Context, tx *sql.Tx, accountID plaza.ID, userAgent string, now time.Time) (string, error) {
	token, hash := newToken()
	sess := Session{ID: plaza.NewID(), AccountID: accountID, UserAgent: clipUserAgent(userAgent), CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := insertSession(ctx, tx, sess, hash); err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	if err := pruneSessions(ctx, tx, accountID, s.cfg.MaxSessions); err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// errBadLogin is the one answer to a failed login: it does not say whether
// the handle exists.
var errBadLogin = plaza.Errorf(plaza.EUnauthenticated, "handle or password is incorrect")

// errMemorialised refuses signing in to a memorialised account.
var errMemorialised = Refuse(ReasonMemorialised, "this account is memorialised: nobody can sign in to it any more")

// Login checks a handle and password and opens a session. An unknown
// handle and a wrong password get the same error after the same work.
func (s *Service) Login(ctx context.Context, handle, password, userAgent string) (Account, string, error) {
	now := s.now()
	if rule := textcheck.Storable(handle); rule != "" {
		return Account{}, "", plaza.Invalid("handle", rule)
	}
	a, err := getAccountByHandle(ctx, s.db.Read(), normalizeHandle(handle))
	if plaza.ErrorCode(err) == plaza.ENotFound || err == nil && a.Status == Deleted {
		s.hasher.burn(ctx, password)
		return Account{}, "", errBadLogin
	}
	if err != nil {
		return Account{}, "", fmt.Errorf("login: %w", err)
	}
	if a.Status == Memorialised {
		// Its profile says so to everyone already; the same work as a
		// wrong password keeps the answer's timing uninformative anyway.
		s.hasher.burn(ctx, password)
		return Account{}, "", errMemorialised
	}
	hash, err := passwordHashOf(ctx, s.db.Read(), a.ID)
	if err != nil {
		return Account{}, "", fmt.Errorf("login: %w", err)
	}
	ok, stale, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		return Account{}, "", fmt.Errorf("login: %w", err)
	}
	if !ok {
		return Account{}, "", errBadLogin
	}
	// Hash before taking the writer: on SQLite the transaction holds the
	// only write connection, and a hash takes tens of milliseconds.
	var fresh string
	if stale {
		if fresh, err = s.hasher.Hash(ctx, password); err != nil {
			return Account{}, "", fmt.Errorf("login: %w", err)
		}
	}
	var token string
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if fresh != "" {
			if err := setPasswordHash(ctx, tx, a.ID, fresh, now); err != nil {
				return err
			}
		}
		token, err = s.createSession(ctx, tx, a.ID, userAgent, now)
		return err
	})
	if err != nil {
		return Account{}, "", fmt.Errorf("login: %w", err)
	}
	// The new session may have pruned the least recently used one, whose
	// streams must close; a re-check costs far less than the hash above.
	s.standingChanged(ctx, a.ID)
	a.effectiveStatus(now)
	return a, token, nil
}

// Auth is an authenticated request's identity.
type Auth struct {
	Account   Account
	SessionID plaza.ID
	// AcceptedTerms is the newest terms version the account accepted;
	// RequiredTerms the newest version that demands re-consent;
	// CurrentTerms the newest version, the one to accept.
	AcceptedTerms int64
	RequiredTerms int64
	CurrentTerms  int64
}

// NeedsConsent reports whether the account must accept newer terms before
// doing anything but reading them, reading its own account, leaving or
// signing out.
func (a *Auth) NeedsConsent() bool { return a.AcceptedTerms < a.RequiredTerms }

// touchEvery is how stale last_used_at may get before a request refreshes
// it: writing on every request would put the single SQLite writer on the
// read path.
const touchEvery = time.Hour

// Authenticate resolves a session token. It reads the roles fresh each
// time, so `plaza admin grant` takes effect on the next request.
func (s *Service) Authenticate(ctx context.Context, token string) (Auth, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) != len(tokenPrefix)+43 {
		return Auth{}, plaza.Errorf(plaza.EUnauthenticated, "the session token is malformed")
	}
	now := s.now()
	row, err := lookupSession(ctx, s.db.Read(), hashToken(token), now)
	if errors.Is(err, sql.ErrNoRows) || err == nil && row.account.gone() {
		return Auth{}, plaza.Errorf(plaza.EUnauthenticated, "the session has expired or was signed out")
	}
	if err != nil {
		return Auth{}, fmt.Errorf("authenticate: %w", err)
	}
	if row.account.Roles, err = listRoles(ctx, s.db.Read(), row.account.ID); err != nil {
		return Auth{}, fmt.Errorf("authenticate: %w", err)
	}
	row.account.effectiveStatus(now)
	if now.Sub(row.session.LastUsedAt) > touchEvery {
		if err := touchSession(ctx, s.db.Write(), row.account.ID, row.session.ID, now, now.Add(s.cfg.SessionTTL)); err != nil {
			return Auth{}, fmt.Errorf("authenticate: %w", err)
		}
	}
	return Auth{Account: row.account, SessionID: row.session.ID, AcceptedTerms: row.acceptedTerms, RequiredTerms: row.requiredTerms, CurrentTerms: row.currentTerms}, nil
}

// Sessions lists the live sessions of an account, most recently used first.
func (s *Service) Sessions(ctx context.Context, accountID plaza.ID) ([]Session, error) {
	return listSessions(ctx, s.db.Read(), accountID, s.now())
}

// RevokeSession ends one of the account's sessions, and its streams.
// Another account's session is not found.
func (s *Service) RevokeSession(ctx context.Context, accountID, sessionID plaza.ID) error {
	ok, err := deleteSession(ctx, s.db.Write(), accountID, sessionID)
	if err != nil {
		return err
	}
	if !ok {
		return plaza.Errorf(plaza.ENotFound, "session not found")
	}
	s.standingChanged(ctx, accountID)
	return nil
}
