package account

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// This file holds the account domain's SQL. Every statement runs unchanged
// on SQLite and PostgreSQL.

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

const accountColumns = `id, handle, display_name, birth_date, status, status_reason, status_until, status_decision, created_at, deletion_scheduled_at, language,
	CASE WHEN avatar_media_id IS NULL THEN 0 ELSE avatar_version END`

// avatarVersionColumn is an account's photo version, 0 while it has no
// photo (the count goes on across removals, so URLs are never reused).
const avatarVersionColumn = `CASE WHEN a.avatar_media_id IS NULL THEN 0 ELSE a.avatar_version END`

// scanAccount scans accountColumns, then extra.
func scanAccount(row interface{ Scan(...any) error }, extra ...any) (Account, error) {
	var a Account
	var until, decision, deletion sql.NullInt64
	var created int64
	dest := append([]any{&a.ID, &a.Handle, &a.DisplayName, &a.BirthDate, &a.Status, &a.StatusReason, &until, &decision, &created, &deletion,
		&a.Language, &a.AvatarVersion}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Account{}, err
	}
	if until.Valid {
		a.StatusUntil = fromMicros(until.Int64)
	}
	if deletion.Valid {
		a.DeletionScheduledAt = fromMicros(deletion.Int64)
	}
	a.StatusDecision = plaza.ID(decision.Int64)
	a.CreatedAt = fromMicros(created)
	return a, nil
}

func getAccount(ctx context.Context, q sqldb.Queryer, id plaza.ID) (Account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	if err != nil {
		return Account{}, sqldb.MapError(err, "account")
	}
	if a.Roles, err = listRoles(ctx, q, id); err != nil {
		return Account{}, err
	}
	return a, nil
}

func getAccountByHandle(ctx context.Context, q sqldb.Queryer, handle string) (Account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE handle = $1`, handle))
	if err != nil {
		return Account{}, sqldb.MapError(err, "account")
	}
	if a.Roles, err = listRoles(ctx, q, a.ID); err != nil {
		return Account{}, err
	}
	return a, nil
}

func handleExists(ctx context.Context, q sqldb.Queryer, handle string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE handle = $1`, handle).Scan(&n)
	return n > 0, err
}

func insertAccount(ctx context.Context, tx *sql.Tx, a Account, passwordHash string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO accounts
		(id, handle, display_name, password_hash, birth_date, status, status_reason, created_at, updated_at, language)
		VALUES ($1, $2, $3, $4, $5, $6, '', $7, $7, $8)`,
		a.ID, a.Handle, a.DisplayName, passwordHash, a.BirthDate, a.Status, micros(a.CreatedAt), a.Language)
	if sqldb.IsUniqueViolation(err) {
		return plaza.Errorf(plaza.EConflict, "handle %q is taken", a.Handle).WithDetails(map[string]any{"field": "handle"})
	}
	return err
}

func passwordHashOf(ctx context.Context, q sqldb.Queryer, id plaza.ID) (string, error) {
	var h string
	err := q.QueryRowContext(ctx, `SELECT password_hash FROM accounts WHERE id = $1 AND status <> 'deleted'`, id).Scan(&h)
	return h, sqldb.MapError(err, "account")
}

func setPasswordHash(ctx context.Context, q sqldb.Queryer, id plaza.ID, hash string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, micros(now), id)
	return err
}

func updateDisplayName(ctx context.Context, q sqldb.Queryer, id plaza.ID, name string, now time.Time) error {
	res, err := q.ExecContext(ctx, `UPDATE accounts SET display_name = $1, updated_at = $2 WHERE id = $3 AND status <> 'deleted'`, name, micros(now), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return plaza.Errorf(plaza.ENotFound, "account not found")
	}
	return nil
}

func setStatus(ctx context.Context, q sqldb.Queryer, id plaza.ID, st Status, reason string, until time.Time, decision plaza.ID, now time.Time) error {
	var u, d any
	if !until.IsZero() {
		u = micros(until)
	}
	if decision != 0 {
		d = decision
	}
	_, err := q.ExecContext(ctx, `UPDATE accounts SET status = $1, status_reason = $2, status_until = $3, status_decision = $4, updated_at = $5 WHERE id = $6`,
		st, reason, u, d, micros(now), id)
	return err
}

// scrubAccount removes what a deleted account no longer needs: the
// password, the birth date, the display name, the profile photo, the
// privacy settings, sessions, roles, invites and legacy contacts (both
// ways). The ID and handle stay so the handle cannot be
// taken over; the consents stay as the record of what was agreed to. It
// reports false, changing nothing, when the account is already deleted.
func scrubAccount(ctx context.Context, tx *sql.Tx, id plaza.ID, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET display_name = '', password_hash = '', birth_date = '', status = 'deleted',
		status_reason = '', status_until = NULL, deletion_scheduled_at = NULL, avatar_media_id = NULL, avatar_version = 0,
		find_by_handle = FALSE, find_by_phone = FALSE, updated_at = $2 WHERE id = $1 AND status <> 'deleted'`, id, micros(now))
	if err != nil {
		return false, fmt.Errorf("scrub account: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	for _, q := range []string{
		`DELETE FROM sessions WHERE account_id = $1`,
		`DELETE FROM account_roles WHERE account_id = $1`,
		`DELETE FROM legacy_contacts WHERE account_id = $1`,
		`DELETE FROM legacy_contacts WHERE contact_id = $1`,
		`DELETE FROM invites WHERE account_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return false, fmt.Errorf("scrub account: %w", err)
		}
	}
	return true, nil
}

func listRoles(ctx context.Context, q sqldb.Queryer, id plaza.ID) ([]Role, error) {
	rows, err := q.QueryContext(ctx, `SELECT role FROM account_roles WHERE account_id = $1 ORDER BY role`, id)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	defer rows.Close()
	roles := []Role{}
	for rows.Next() {
		var r Role
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("list roles: %w", err)
		}
		roles = append(roles, r)
	}
	return roles, rows.Err()
}

func insertRole(ctx context.Context, q sqldb.Queryer, id plaza.ID, r Role, now time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO account_roles (account_id, role, granted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, id, r, micros(now))
	if err != nil {
		return false, fmt.Errorf("grant role: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func deleteRole(ctx context.Context, q sqldb.Queryer, id plaza.ID, r Role) (bool, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM account_roles WHERE account_id = $1 AND role = $2`, id, r)
	if err != nil {
		return false, fmt.Errorf("revoke role: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Sessions.

func insertSession(ctx context.Context, q sqldb.Queryer, s Session, tokenHash []byte) error {
	_, err := q.ExecContext(ctx, `INSERT INTO sessions (account_id, id, token_hash, user_agent, created_at, last_used_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $5, $6)`,
		s.AccountID, s.ID, tokenHash, s.UserAgent, micros(s.CreatedAt), micros(s.ExpiresAt))
	return err
}

// pruneSessions keeps the keep most recently used sessions of an account.
func pruneSessions(ctx context.Context, q sqldb.Queryer, accountID plaza.ID, keep int) error {
	_, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1 AND id NOT IN
		(SELECT id FROM sessions WHERE account_id = $1 ORDER BY last_used_at DESC, id DESC LIMIT $2)`, accountID, keep)
	return err
}

// deleteOtherSessions ends every session of the account but keep.
func deleteOtherSessions(ctx context.Context, q sqldb.Queryer, accountID, keep plaza.ID) error {
	_, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1 AND id <> $2`, accountID, keep)
	return err
}

// standingOf reads what decides an account's standing, without a session:
// its status and the terms versions of the consent gate.
func standingOf(ctx context.Context, q sqldb.Queryer, id plaza.ID) (sessionRow, error) {
	var r sessionRow
	var until, decision sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT a.id, a.handle, a.status, a.status_reason, a.status_until, a.status_decision,
			(SELECT COALESCE(MAX(c.terms_version), 0) FROM consents c WHERE c.account_id = a.id),
			(SELECT COALESCE(MAX(t.version), 0) FROM terms t WHERE t.requires_reconsent),
			(SELECT COALESCE(MAX(t.version), 0) FROM terms t)
		FROM accounts a WHERE a.id = $1`, id).Scan(
		&r.account.ID, &r.account.Handle, &r.account.Status, &r.account.StatusReason, &until, &decision,
		&r.acceptedTerms, &r.requiredTerms, &r.currentTerms)
	if err != nil {
		return r, sqldb.MapError(err, "account")
	}
	r.account.StatusDecision = plaza.ID(decision.Int64)
	if until.Valid {
		r.account.StatusUntil = fromMicros(until.Int64)
	}
	return r, nil
}

// sessionRow is what authentication reads in one query: the session, its
// account and the two terms versions that decide the consent gate.
type sessionRow struct {
	session       Session
	account       Account
	acceptedTerms int64
	requiredTerms int64
	currentTerms  int64
}

func lookupSession(ctx context.Context, q sqldb.Queryer, tokenHash []byte, now time.Time) (sessionRow, error) {
	return scanSessionRow(q.QueryRowContext(ctx, sessionRowQuery+`s.token_hash = $1 AND s.expires_at > $2`, tokenHash, micros(now)))
}

// lookupSessionByID is lookupSession for a session already authenticated
// once, such as an open stream's: it finds the session by its ID.
func lookupSessionByID(ctx context.Context, q sqldb.Queryer, accountID, sessionID plaza.ID, now time.Time) (sessionRow, error) {
	return scanSessionRow(q.QueryRowContext(ctx, sessionRowQuery+`s.account_id = $1 AND s.id = $2 AND s.expires_at > $3`, accountID, sessionID, micros(now)))
}

const sessionRowQuery = `SELECT
			s.id, s.user_agent, s.created_at, s.last_used_at, s.expires_at,
			a.id, a.handle, a.display_name, a.birth_date, a.status, a.status_reason, a.status_until, a.status_decision, a.created_at, a.deletion_scheduled_at,
			a.language, ` + avatarVersionColumn + `, ` + termVersionColumns + `
		FROM sessions s JOIN accounts a ON a.id = s.account_id
		WHERE `

// termVersionColumns are the versions of the terms an account (a) accepted
// last, of those that require consent, and of the current ones.
const termVersionColumns = `(SELECT COALESCE(MAX(c.terms_version), 0) FROM consents c WHERE c.account_id = a.id),
			(SELECT COALESCE(MAX(t.version), 0) FROM terms t WHERE t.requires_reconsent),
			(SELECT COALESCE(MAX(t.version), 0) FROM terms t)`

// lookupStandings reads, for the sessions of many streams in one
// statement (at most maxStandingBatch), what Auth.Standing needs of each
// live one and its account: fewer columns than a sessionRow, since a node
// re-checks every open stream this way. Keyed by session ID, whatever
// account a session belongs to; the caller matches the account.
func lookupStandings(ctx context.Context, db *sqldb.DB, refs []StreamRef, now time.Time) (map[plaza.ID]Auth, error) {
	sessions := make([]any, len(refs))
	for i, r := range refs {
		sessions[i] = r.Session
	}
	list, args := db.InList(2, sessions)
	rows, err := db.Read().QueryContext(ctx, `SELECT s.id, a.id, a.status, a.status_reason, a.status_until, a.status_decision, `+termVersionColumns+`
		FROM sessions s JOIN accounts a ON a.id = s.account_id
		WHERE s.expires_at > `+db.Param(1)+` AND s.id IN (`+list+`)`, append([]any{micros(now)}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[plaza.ID]Auth, len(refs))
	for rows.Next() {
		var a Auth
		var until, decision sql.NullInt64
		if err := rows.Scan(&a.SessionID, &a.Account.ID, &a.Account.Status, &a.Account.StatusReason, &until, &decision,
			&a.AcceptedTerms, &a.RequiredTerms, &a.CurrentTerms); err != nil {
			return nil, err
		}
		if until.Valid {
			a.Account.StatusUntil = fromMicros(until.Int64)
		}
		a.Account.StatusDecision = plaza.ID(decision.Int64)
		out[a.SessionID] = a
	}
	return out, rows.Err()
}

func scanSessionRow(row *sql.Row) (sessionRow, error) {
	var r sessionRow
	var until, decision, deletion sql.NullInt64
	var created, sCreated, sUsed, sExpires int64
	err := row.Scan(
		&r.session.ID, &r.session.UserAgent, &sCreated, &sUsed, &sExpires,
		&r.account.ID, &r.account.Handle, &r.account.DisplayName, &r.account.BirthDate, &r.account.Status,
		&r.account.StatusReason, &until, &decision, &created, &deletion,
		&r.account.Language, &r.account.AvatarVersion,
		&r.acceptedTerms, &r.requiredTerms, &r.currentTerms)
	if err != nil {
		return r, err
	}
	if deletion.Valid {
		r.account.DeletionScheduledAt = fromMicros(deletion.Int64)
	}
	r.session.AccountID = r.account.ID
	r.session.CreatedAt, r.session.LastUsedAt, r.session.ExpiresAt = fromMicros(sCreated), fromMicros(sUsed), fromMicros(sExpires)
	if until.Valid {
		r.account.StatusUntil = fromMicros(until.Int64)
	}
	r.account.StatusDecision = plaza.ID(decision.Int64)
	r.account.CreatedAt = fromMicros(created)
	return r, nil
}

func touchSession(ctx context.Context, q sqldb.Queryer, accountID, id plaza.ID, now, expires time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE sessions SET last_used_at = $1, expires_at = $2 WHERE account_id = $3 AND id = $4`,
		micros(now), micros(expires), accountID, id)
	return err
}

func listSessions(ctx context.Context, q sqldb.Queryer, accountID plaza.ID, now time.Time) ([]Session, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, user_agent, created_at, last_used_at, expires_at FROM sessions
		WHERE account_id = $1 AND expires_at > $2 ORDER BY last_used_at DESC, id DESC`, accountID, micros(now))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	out := []Session{}
	for rows.Next() {
		s := Session{AccountID: accountID}
		var c, u, e int64
		if err := rows.Scan(&s.ID, &s.UserAgent, &c, &u, &e); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		s.CreatedAt, s.LastUsedAt, s.ExpiresAt = fromMicros(c), fromMicros(u), fromMicros(e)
		out = append(out, s)
	}
	return out, rows.Err()
}

func deleteSession(ctx context.Context, q sqldb.Queryer, accountID, id plaza.ID) (bool, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1 AND id = $2`, accountID, id)
	if err != nil {
		return false, fmt.Errorf("revoke session: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Terms and consents.

const termsColumns = `version, title, body, requires_reconsent, published_at`

func scanTerms(row interface{ Scan(...any) error }) (Terms, error) {
	var t Terms
	var at int64
	if err := row.Scan(&t.Version, &t.Title, &t.Body, &t.RequiresReconsent, &at); err != nil {
		return Terms{}, err
	}
	t.PublishedAt = fromMicros(at)
	return t, nil
}

func currentTerms(ctx context.Context, q sqldb.Queryer) (Terms, error) {
	t, err := scanTerms(q.QueryRowContext(ctx, `SELECT `+termsColumns+` FROM terms ORDER BY version DESC LIMIT 1`))
	return t, sqldb.MapError(err, "terms")
}

func getTerms(ctx context.Context, q sqldb.Queryer, version int64) (Terms, error) {
	t, err := scanTerms(q.QueryRowContext(ctx, `SELECT `+termsColumns+` FROM terms WHERE version = $1`, version))
	return t, sqldb.MapError(err, fmt.Sprintf("terms version %d", version))
}

func insertTerms(ctx context.Context, q sqldb.Queryer, t Terms) error {
	_, err := q.ExecContext(ctx, `INSERT INTO terms (`+termsColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		t.Version, t.Title, t.Body, t.RequiresReconsent, micros(t.PublishedAt))
	return sqldb.MapError(err, fmt.Sprintf("terms version %d", t.Version))
}

func insertConsent(ctx context.Context, q sqldb.Queryer, accountID plaza.ID, version int64, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO consents (account_id, terms_version, accepted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		accountID, version, micros(now))
	if err != nil {
		return fmt.Errorf("record consent: %w", err)
	}
	return nil
}

func listConsents(ctx context.Context, q sqldb.Queryer, accountID plaza.ID) ([]Consent, error) {
	rows, err := q.QueryContext(ctx, `SELECT terms_version, accepted_at FROM consents WHERE account_id = $1 ORDER BY terms_version`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list consents: %w", err)
	}
	defer rows.Close()
	out := []Consent{}
	for rows.Next() {
		var c Consent
		var at int64
		if err := rows.Scan(&c.Version, &at); err != nil {
			return nil, fmt.Errorf("list consents: %w", err)
		}
		c.AcceptedAt = fromMicros(at)
		out = append(out, c)
	}
	return out, rows.Err()
}
