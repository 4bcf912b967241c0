package identity

import (
	"context"
	"database/sql"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// This file holds the identity domain's SQL, one text for both engines.

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func status(ctx context.Context, q sqldb.Queryer, accountID plaza.ID) (Status, error) {
	var st Status
	var phones int
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM phones WHERE account_id = $1),
		COALESCE((SELECT status FROM identities WHERE account_id = $1 ORDER BY id DESC LIMIT 1), 'none'),
		COALESCE((SELECT reason FROM identities WHERE account_id = $1 ORDER BY id DESC LIMIT 1), '')`,
		accountID).Scan(&phones, &st.Identity, &st.Reason)
	st.Phone = phones > 0
	return st, err
}

func phoneOf(ctx context.Context, q sqldb.Queryer, accountID plaza.ID) (string, error) {
	var p string
	err := q.QueryRowContext(ctx, `SELECT phone FROM phones WHERE account_id = $1`, accountID).Scan(&p)
	return p, err
}

func putPhone(ctx context.Context, q sqldb.Queryer, accountID plaza.ID, phone string, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO phones (account_id, phone, verified_at) VALUES ($1, $2, $3)
		ON CONFLICT (account_id) DO UPDATE SET phone = excluded.phone, verified_at = excluded.verified_at`,
		accountID, phone, micros(now))
	return err
}

// lockPhone serialises verifications of one number: the upsert takes the
// row's lock on PostgreSQL until the transaction ends (SQLite has one
// writer anyway).
func lockPhone(ctx context.Context, q sqldb.Queryer, phone string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO phone_locks (phone) VALUES ($1) ON CONFLICT (phone) DO UPDATE SET phone = excluded.phone`, phone)
	return err
}

type challengeRow struct {
	phone     string
	codeHash  []byte
	sentAt    time.Time
	expiresAt time.Time
	attempts  int
}

func getChallenge(ctx context.Context, q sqldb.Queryer, accountID plaza.ID) (challengeRow, error) {
	var c challengeRow
	var sent, exp int64
	err := q.QueryRowContext(ctx, `SELECT phone, code_hash, sent_at, expires_at, attempts FROM phone_challenges WHERE account_id = $1`, accountID).
		Scan(&c.phone, &c.codeHash, &sent, &exp, &c.attempts)
	c.sentAt, c.expiresAt = fromMicros(sent), fromMicros(exp)
	return c, err
}

// lockChallenge reads accountID's challenge and holds its row until the
// transaction ends. The no-op UPDATE takes PostgreSQL's row lock (and
// returns the newest committed row once a competing transaction is done),
// so concurrent guesses are checked one at a time and the attempt cap
// holds; SQLite's single writer already serialises them. One statement
// serves both engines, which SELECT ... FOR UPDATE would not.
func lockChallenge(ctx context.Context, q sqldb.Queryer, accountID plaza.ID) (challengeRow, error) {
	var c challengeRow
	var sent, exp int64
	err := q.QueryRowContext(ctx, `UPDATE phone_challenges SET attempts = attempts WHERE account_id = $1
		RETURNING phone, code_hash, sent_at, expires_at, attempts`, accountID).
		Scan(&c.phone, &c.codeHash, &sent, &exp, &c.attempts)
	c.sentAt, c.expiresAt = fromMicros(sent), fromMicros(exp)
	return c, err
}

func putChallenge(ctx context.Context, q sqldb.Queryer, accountID plaza.ID, c challengeRow) error {
	_, err := q.ExecContext(ctx, `INSERT INTO phone_challenges (account_id, phone, code_hash, sent_at, expires_at, attempts)
		VALUES ($1, $2, $3, $4, $5, 0)
		ON CONFLICT (account_id) DO UPDATE SET phone = excluded.phone, code_hash = excluded.code_hash,
			sent_at = excluded.sent_at, expires_at = excluded.expires_at, attempts = 0`,
		accountID, c.phone, c.codeHash, micros(c.sentAt), micros(c.expiresAt))
	return err
}

func bumpAttempts(ctx context.Context, q sqldb.Queryer, accountID plaza.ID) error {
	_, err := q.ExecContext(ctx, `UPDATE phone_challenges SET attempts = attempts + 1 WHERE account_id = $1`, accountID)
	return err
}

func deleteChallenge(ctx context.Context, q sqldb.Queryer, accountID plaza.ID) error {
	_, err := q.ExecContext(ctx, `DELETE FROM phone_challenges WHERE account_id = $1`, accountID)
	return err
}

// identityRow is a stored submission, still sealed.
type identityRow struct {
	Identity
	legalName      []byte
	documentNumber []byte
	keyID          string
	decidedBy      string
}

const identityColumns = `id, account_id, status, document_type, document_country, legal_name, document_number, key_id, submitted_at, decided_at, decided_by, reason`

func scanIdentity(row interface{ Scan(...any) error }) (identityRow, error) {
	var r identityRow
	var submitted int64
	var decided sql.NullInt64
	err := row.Scan(&r.ID, &r.AccountID, &r.Status, &r.DocumentType, &r.DocumentCountry, &r.legalName, &r.documentNumber,
		&r.keyID, &submitted, &decided, &r.decidedBy, &r.Reason)
	r.SubmittedAt = fromMicros(submitted)
	if decided.Valid {
		r.DecidedAt = fromMicros(decided.Int64)
	}
	return r, err
}

func insertIdentity(ctx context.Context, q sqldb.Queryer, id Identity, name, number []byte, keyID string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO identities (`+identityColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, '', '')`,
		id.ID, id.AccountID, id.Status, id.DocumentType, id.DocumentCountry, name, number, keyID, micros(id.SubmittedAt))
	return err
}

func getIdentity(ctx context.Context, q sqldb.Queryer, id plaza.ID) (identityRow, error) {
	r, err := scanIdentity(q.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE id = $1`, id))
	return r, sqldb.MapError(err, "identity")
}

func latestIdentity(ctx context.Context, q sqldb.Queryer, accountID plaza.ID) (identityRow, error) {
	r, err := scanIdentity(q.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE account_id = $1 ORDER BY id DESC LIMIT 1`, accountID))
	return r, sqldb.MapError(err, "identity")
}

func listIdentities(ctx context.Context, q sqldb.Queryer, status string, after plaza.ID, limit int) ([]identityRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3`, status, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identityRow
	for rows.Next() {
		r, err := scanIdentity(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func decideIdentity(ctx context.Context, q sqldb.Queryer, id plaza.ID, status, by, reason string, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE identities SET status = $1, decided_by = $2, reason = $3, decided_at = $4 WHERE id = $5`,
		status, by, reason, micros(now), id)
	return err
}

// resealBatch returns up to limit identities not sealed with keyID.
func resealBatch(ctx context.Context, q sqldb.Queryer, keyID string, limit int) ([]identityRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE key_id <> $1 ORDER BY id LIMIT $2`, keyID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []identityRow
	for rows.Next() {
		r, err := scanIdentity(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func updateSealed(ctx context.Context, q sqldb.Queryer, id plaza.ID, name, number []byte, keyID string) error {
	_, err := q.ExecContext(ctx, `UPDATE identities SET legal_name = $1, document_number = $2, key_id = $3 WHERE id = $4`, name, number, keyID, id)
	return err
}
