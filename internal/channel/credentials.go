package channel

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// A CredentialTable keeps the credentials of one kind of holder: channels
// (for channel posts) or accounts (for microblog posts). The rules are
// the same for both — granted by an admin for a category whose policy is
// credential, until it expires or is revoked, every change audited — and
// so is the table's shape but for its holder column.
type CredentialTable struct {
	table, holder, target string
}

// ChannelCredentials and AccountCredentials are the two credential tables.
var (
	ChannelCredentials = CredentialTable{table: "channel_credentials", holder: "channel_id", target: "channel"}
	AccountCredentials = CredentialTable{table: "account_credentials", holder: "account_id", target: "account"}
)

// A HeldCredential is one row of a CredentialTable. Holder is the channel
// or account; the API names it in a field of its own (channel_id,
// account_id), so it has no JSON name here.
type HeldCredential struct {
	ID        plaza.ID   `json:"id"`
	Holder    plaza.ID   `json:"-"`
	Category  string     `json:"category"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// Grant lets holder publish in a credential category until expires,
// audited in log. exists, run inside the transaction, answers not_found
// for a holder that does not exist.
func (t CredentialTable) Grant(ctx context.Context, db *sqldb.DB, log *audit.Log, actor audit.Actor, holder plaza.ID, category string,
	expires, now time.Time, exists func(context.Context, *sql.Tx) error) (HeldCredential, error) {
	if !expires.After(now) {
		return HeldCredential{}, plaza.Invalid("expires_at", "must be in the future")
	}
	cat, err := LookupCategory(ctx, db.Read(), strings.ToLower(strings.TrimSpace(category)))
	if err != nil {
		return HeldCredential{}, err
	}
	if cat.Policy != PolicyCredential {
		return HeldCredential{}, plaza.Invalid("category", "must be a category whose policy is credential")
	}
	cr := HeldCredential{ID: plaza.NewID(), Holder: holder, Category: cat.Name, ExpiresAt: expires.UTC().Truncate(time.Microsecond), CreatedAt: now}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+t.table+` (`+t.holder+`, id, category, expires_at, granted_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			holder, cr.ID, cr.Category, cr.ExpiresAt.UnixMicro(), actor.Name, now.UnixMicro()); err != nil {
			return err
		}
		_, err := log.Append(ctx, tx, audit.Record{Actor: actor, Action: "credential.grant", TargetType: t.target, TargetID: holder.String(),
			Details: map[string]any{"category": cr.Category, "expires_at": cr.ExpiresAt.Format(time.RFC3339), "credential_id": cr.ID.String()}})
		return err
	})
	if err != nil {
		return HeldCredential{}, fmt.Errorf("grant credential: %w", err)
	}
	return cr, nil
}

// Revoke ends holder's credential id at now, audited in log.
func (t CredentialTable) Revoke(ctx context.Context, db *sqldb.DB, log *audit.Log, actor audit.Actor, holder, id plaza.ID, reason string, now time.Time) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE `+t.table+` SET revoked_at = $1 WHERE `+t.holder+` = $2 AND id = $3 AND revoked_at IS NULL`,
			now.UnixMicro(), holder, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return plaza.Errorf(plaza.ENotFound, "credential not found")
		}
		_, err = log.Append(ctx, tx, audit.Record{Actor: actor, Action: "credential.revoke", TargetType: t.target, TargetID: holder.String(),
			Reason: strings.TrimSpace(reason), Details: map[string]any{"credential_id": id.String()}})
		return err
	})
}

// List returns holder's credentials, newest first (at most 500).
func (t CredentialTable) List(ctx context.Context, q sqldb.Queryer, holder plaza.ID) ([]HeldCredential, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, `+t.holder+`, category, expires_at, revoked_at, created_at FROM `+t.table+`
		WHERE `+t.holder+` = $1 ORDER BY id DESC LIMIT 500`, holder)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []HeldCredential{}
	for rows.Next() {
		var c HeldCredential
		var exp, created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&c.ID, &c.Holder, &c.Category, &exp, &revoked, &created); err != nil {
			return nil, err
		}
		c.ExpiresAt, c.CreatedAt = micro(exp), micro(created)
		if revoked.Valid {
			t := micro(revoked.Int64)
			c.RevokedAt = &t
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Holds reports whether holder has a live credential for category at now.
func (t CredentialTable) Holds(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, holder plaza.ID, category string, now time.Time) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t.table+` WHERE `+t.holder+` = $1 AND category = $2 AND revoked_at IS NULL AND expires_at > $3`,
		holder, category, now.UnixMicro()).Scan(&n)
	return n > 0, err
}
