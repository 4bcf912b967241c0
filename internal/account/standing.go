package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
)

// Standing returns nil when the account may act: it is not suspended or
// closed and, when consent is true, it has accepted the terms in force.
// Otherwise it returns the error to show, the same for every way in (a
// request, a stream frame, a stream being re-checked).
func (a *Auth) Standing(consent bool) error {
	switch acct := a.Account; acct.Status {
	case Suspended:
		details := map[string]any{"reason": acct.StatusReason}
		msg := "your account is suspended: " + acct.StatusReason
		if !acct.StatusUntil.IsZero() {
			details["until"] = acct.StatusUntil.Format(time.RFC3339)
			msg += " (until " + acct.StatusUntil.Format(time.RFC3339) + ")"
		}
		if acct.StatusDecision != 0 {
			details["decision_id"] = acct.StatusDecision.String()
			msg += "; read the decision and appeal it at GET /api/v1/me/decisions"
		}
		return plaza.Errorf(plaza.EAccountSuspended, "%s", msg).WithDetails(details)
	case Closed:
		details := map[string]any{"reason": acct.StatusReason}
		msg := "your account is closed: " + acct.StatusReason
		if acct.StatusDecision != 0 {
			details["decision_id"] = acct.StatusDecision.String()
			msg += "; read the decision and appeal it at GET /api/v1/me/decisions"
		}
		return plaza.Errorf(plaza.EAccountClosed, "%s", msg).WithDetails(details)
	case Deleted, Memorialised:
		return errSessionEnded
	}
	if consent && a.NeedsConsent() {
		return plaza.Errorf(plaza.ETermsAcceptanceRequired,
			"the terms have changed: read GET /api/v1/terms and accept version %d with POST /api/v1/me/consents", a.CurrentTerms).
			WithDetails(map[string]any{"version": a.CurrentTerms})
	}
	return nil
}

var errSessionEnded = plaza.Errorf(plaza.EUnauthenticated, "the session has expired or was signed out")

// SessionStanding re-checks a session that was authenticated earlier (an
// open stream's): it fails with unauthenticated once the session has
// ended, and otherwise returns the session's Auth, whose Standing says
// whether the account may still act.
func (s *Service) SessionStanding(ctx context.Context, accountID, sessionID plaza.ID) (Auth, error) {
	now := s.now()
	row, err := lookupSessionByID(ctx, s.db.Read(), accountID, sessionID, now)
	if errors.Is(err, sql.ErrNoRows) || err == nil && row.account.gone() {
		return Auth{}, errSessionEnded
	}
	if err != nil {
		return Auth{}, fmt.Errorf("session standing: %w", err)
	}
	row.account.effectiveStatus(now)
	return Auth{Account: row.account, SessionID: row.session.ID, AcceptedTerms: row.acceptedTerms, RequiredTerms: row.requiredTerms, CurrentTerms: row.currentTerms}, nil
}

// StreamRef names an open stream by its account and session.
type StreamRef struct{ Account, Session plaza.ID }

// maxStandingBatch is how many sessions StreamsStanding looks up in one
// statement: a long IN list stays well under both engines' limits on
// parameters, and one statement still serves a ping tick's streams.
const maxStandingBatch = 256

// StreamsStanding re-checks many open streams at once, as SessionStanding
// followed by Auth.Standing(true) would one by one: errs[i] is nil while
// refs[i]'s session is live and its account may act, and otherwise the
// API's error saying why not. The sessions are looked up maxStandingBatch
// at a time, so re-checking every stream of a node at its pings costs a
// statement per tick rather than one per stream. err is the look-up's own
// failure (the database is unreachable), for which nothing is judged.
func (s *Service) StreamsStanding(ctx context.Context, refs []StreamRef) (errs []error, err error) {
	now := s.now()
	errs = make([]error, len(refs))
	for lo := 0; lo < len(refs); lo += maxStandingBatch {
		part := refs[lo:min(lo+maxStandingBatch, len(refs))]
		found, err := lookupStandings(ctx, s.db, part, now)
		if err != nil {
			return nil, fmt.Errorf("sessions standing: %w", err)
		}
		for i, r := range part {
			auth, ok := found[r.Session]
			if !ok || auth.Account.ID != r.Account || auth.Account.gone() {
				errs[lo+i] = errSessionEnded
				continue
			}
			auth.Account.effectiveStatus(now)
			errs[lo+i] = auth.Standing(true)
		}
	}
	return errs, nil
}

type sessionKey struct{}

// WithSession returns ctx carrying the session an action is taken under,
// so that CheckStanding also checks that the session is still live: an
// open stream's frames are refused from the moment its session ends, even
// before the stream is closed.
func WithSession(ctx context.Context, sessionID plaza.ID) context.Context {
	return context.WithValue(ctx, sessionKey{}, sessionID)
}

// CheckStanding returns nil when id may act now: it exists, is neither
// suspended, closed nor deleted, and has accepted the terms in force; if
// ctx carries a session (WithSession), that session must be live too.
// Domains call it on the write paths that do not pass through the HTTP
// layer's checks, such as sending a message over the stream. A good
// answer is remembered for a while (see standingCache): changes made on
// this node are seen at once, other nodes' when the bus brings them.
func (s *Service) CheckStanding(ctx context.Context, id plaza.ID) error {
	sid, withSession := ctx.Value(sessionKey{}).(plaza.ID)
	key := standingKey{account: id, session: sid}
	now := s.now()
	if s.standing.ok(key, now) {
		return nil
	}
	epoch := s.standing.epoch.Load()
	if withSession {
		a, err := s.SessionStanding(ctx, id, sid)
		if err != nil {
			return err
		}
		if err := a.Standing(true); err != nil {
			return err
		}
		s.standing.remember(key, epoch, now)
		return nil
	}
	row, err := standingOf(ctx, s.db.Read(), id)
	if err != nil {
		if plaza.ErrorCode(err) == plaza.ENotFound {
			return errSessionEnded
		}
		return fmt.Errorf("check standing: %w", err)
	}
	row.account.effectiveStatus(now)
	a := Auth{Account: row.account, AcceptedTerms: row.acceptedTerms, RequiredTerms: row.requiredTerms, CurrentTerms: row.currentTerms}
	if err := a.Standing(true); err != nil {
		return err
	}
	s.standing.remember(key, epoch, now)
	return nil
}

// StandingHook is told, after the change has committed, that the sessions
// or the standing of an account changed (a sign-out, a revoked session, a
// password change, a suspension, a closure, a deletion), or with account
// 0 that every account's may have (terms that require re-consent). The
// realtime layer uses it to re-check, and close, the open streams.
type StandingHook func(ctx context.Context, account plaza.ID)

// OnStandingChange registers h. Call it while wiring, before serving.
func (s *Service) OnStandingChange(h StandingHook) { s.onStanding = append(s.onStanding, h) }

func (s *Service) standingChanged(ctx context.Context, account plaza.ID) {
	s.standing.forget(account)
	for _, h := range s.onStanding {
		h(ctx, account)
	}
}

// Reachable returns nil when id may still be messaged, and a gone error
// when it is closed, deleted or memorialised: nobody will ever read what
// is sent to it. A suspension is temporary, so a suspended account stays
// reachable.
func (s *Service) Reachable(ctx context.Context, id plaza.ID) error {
	key := standingKey{account: id, reach: true}
	now := s.now()
	if s.standing.ok(key, now) {
		return nil
	}
	epoch := s.standing.epoch.Load()
	var st Status
	err := s.db.Read().QueryRowContext(ctx, `SELECT status FROM accounts WHERE id = $1`, id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) || st == Deleted {
		return errDeletedAccount(id)
	}
	if err != nil {
		return fmt.Errorf("reachable: %w", err)
	}
	switch st {
	case Closed:
		return plaza.Errorf(plaza.EGone, "this account is closed").WithDetails(map[string]any{"account_id": id.String(), "status": string(Closed)})
	case Memorialised:
		return plaza.Errorf(plaza.EGone, "this account is memorialised: it is kept in memory of its owner and receives no messages").
			WithDetails(map[string]any{"account_id": id.String(), "status": string(Memorialised)})
	}
	s.standing.remember(key, epoch, now)
	return nil
}

// errDeletedAccount is the answer about an account that was deleted: gone,
// so that clients show "deleted account" beside what it left behind.
func errDeletedAccount(id plaza.ID) error {
	return plaza.Errorf(plaza.EGone, "this account was deleted").WithDetails(map[string]any{"account_id": id.String(), "status": string(Deleted)})
}

// gone reports whether nobody may act as a any more: it was deleted or
// memorialised.
func (a *Account) gone() bool { return a.Status == Deleted || a.Status == Memorialised }
