// Package audit keeps the append-only, hash-chained log of privileged
// actions: role changes, suspensions, closures, terms publication and later
// every moderation and identity decision. Each row's hash covers the row and
// the previous row's hash, so altering, removing or reordering any row is
// detected by Verify. With Keys the hash is an HMAC under a key kept outside
// the database, so write access to the database is not enough to rewrite
// history and recompute the chain; an anchor recorded elsewhere also
// catches someone who holds the key.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Actor is who performed an action: an account, or the operator at the
// command line (ID zero).
type Actor struct {
	ID   plaza.ID
	Name string
}

// CLI is the actor for actions taken with `plaza admin` on the server.
var CLI = Actor{Name: "operator (plaza admin)"}

// Entry is one row of the log.
type Entry struct {
	Seq        int64          `json:"seq"`
	At         time.Time      `json:"at"`
	ActorID    plaza.ID       `json:"actor_id,omitempty"`
	Actor      string         `json:"actor"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	Reason     string         `json:"reason"`
	Details    map[string]any `json:"details,omitempty"`
	PrevHash   string         `json:"prev_hash"`
	Hash       string         `json:"hash"`
	// KeyID names the key whose HMAC Hash is; empty for a plain SHA-256
	// row from before the log was keyed.
	KeyID string `json:"key_id,omitempty"`
}

// Record describes an action to append.
type Record struct {
	Actor      Actor
	Action     string // e.g. "role.grant", "account.suspend"
	TargetType string // e.g. "account"
	TargetID   string
	Reason     string
	Details    map[string]any
}

// Log appends to, reads and verifies the audit log.
type Log struct {
	db   *sqldb.DB
	keys *Keys
	now  func() time.Time
}

// New returns a Log on db without keys: it appends plain SHA-256 rows and
// can verify only those. Servers use NewKeyed.
func New(db *sqldb.DB) *Log { return &Log{db: db} }

// NewKeyed returns a Log on db that signs new rows with keys and verifies
// the chain against them.
func NewKeyed(db *sqldb.DB, keys *Keys) *Log { return &Log{db: db, keys: keys} }

// UseClock makes the log stamp new rows with now instead of the real
// time: tests that run a domain on a fixed clock keep its rows in step.
func (l *Log) UseClock(now func() time.Time) { l.now = now }

func (l *Log) clock() time.Time {
	if l == nil || l.now == nil {
		return time.Now()
	}
	return l.now()
}

// Append adds r to the chain within tx, so that the action and its record
// commit or roll back together. A nil Log, or one without keys, appends a
// plain row (tests that do not care for keys).
func (l *Log) Append(ctx context.Context, tx *sql.Tx, r Record) (Entry, error) {
	var keyID string
	var key []byte
	if l != nil && l.keys != nil {
		var err error
		if keyID, key, err = l.keys.signer(); err != nil {
			return Entry{}, fmt.Errorf("audit append: %w", err)
		}
	}
	var prev string
	var seq int64
	// Bumping the head first takes its row lock on PostgreSQL, so concurrent
	// appenders queue here instead of forking the chain.
	err := tx.QueryRowContext(ctx,
		`UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).Scan(&seq, &prev)
	if err != nil {
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	e := Entry{
		Seq:        seq,
		At:         l.clock().UTC().Truncate(time.Microsecond),
		ActorID:    r.Actor.ID,
		Actor:      r.Actor.Name,
		Action:     r.Action,
		TargetType: r.TargetType,
		TargetID:   r.TargetID,
		Reason:     r.Reason,
		Details:    r.Details,
		PrevHash:   prev,
		KeyID:      keyID,
	}
	details, err := encodeDetails(e.Details)
	if err != nil {
		return Entry{}, err
	}
	e.Hash = hashEntry(e, details, key)
	var actorID any
	if e.ActorID != 0 {
		actorID = int64(e.ActorID)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log
		(seq, at, actor_id, actor, action, target_type, target_id, reason, details, prev_hash, hash, key_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.Seq, e.At.UnixMicro(), actorID, e.Actor, e.Action, e.TargetType, e.TargetID, e.Reason, details, e.PrevHash, e.Hash, e.KeyID)
	if err != nil {
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, e.Hash); err != nil {
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	return e, nil
}

func encodeDetails(d map[string]any) (string, error) {
	if len(d) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(d) // map keys are sorted: the text is canonical
	if err != nil {
		return "", fmt.Errorf("audit details: %w", err)
	}
	return string(b), nil
}

// hashEntry returns the entry's hash in hex: over its fields and the
// previous hash, encoded as a JSON array so no two different rows share an
// input. With a key it is HMAC-SHA256 and covers the key's ID too; without
// one it is the plain SHA-256 of rows from before keying.
func hashEntry(e Entry, details string, key []byte) string {
	fields := []any{
		e.PrevHash, e.Seq, e.At.UnixMicro(), int64(e.ActorID), e.Actor, e.Action,
		e.TargetType, e.TargetID, e.Reason, details,
	}
	if key == nil {
		b, _ := json.Marshal(fields)
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:])
	}
	b, _ := json.Marshal(append(fields, e.KeyID))
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

const selectEntry = `SELECT seq, at, actor_id, actor, action, target_type, target_id, reason, details, prev_hash, hash, key_id FROM audit_log`

func scanEntry(rows *sql.Rows) (Entry, string, error) {
	var e Entry
	var at int64
	var actorID sql.NullInt64
	var details string
	if err := rows.Scan(&e.Seq, &at, &actorID, &e.Actor, &e.Action, &e.TargetType, &e.TargetID, &e.Reason, &details, &e.PrevHash, &e.Hash, &e.KeyID); err != nil {
		return Entry{}, "", err
	}
	e.At = time.UnixMicro(at).UTC()
	e.ActorID = plaza.ID(actorID.Int64)
	if details != "{}" {
		// A row whose details are not JSON still lists; Verify reports it.
		_ = json.Unmarshal([]byte(details), &e.Details)
	}
	return e, details, nil
}

// List returns up to limit entries, newest first, with seq below beforeSeq
// (0 means from the newest).
func (l *Log) List(ctx context.Context, beforeSeq int64, limit int) ([]Entry, error) {
	if beforeSeq <= 0 {
		beforeSeq = 1<<63 - 1
	}
	rows, err := l.db.Read().QueryContext(ctx, selectEntry+` WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, beforeSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		e, _, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("list audit log: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Each calls fn with every entry whose action is one of actions and whose
// time is in [from, to), oldest first. The transparency report counts
// what happened this way, from the tamper-evident record itself.
func (l *Log) Each(ctx context.Context, from, to time.Time, actions []string, fn func(Entry) error) error {
	if len(actions) == 0 {
		return nil
	}
	args := []any{from.UnixMicro(), to.UnixMicro()}
	marks := make([]string, len(actions))
	for i, a := range actions {
		args = append(args, a)
		marks[i] = fmt.Sprintf("$%d", i+3)
	}
	rows, err := l.db.Read().QueryContext(ctx, selectEntry+` WHERE action IN (`+strings.Join(marks, ", ")+`) AND at >= $1 AND at < $2 ORDER BY seq`, args...)
	if err != nil {
		return fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, _, err := scanEntry(rows)
		if err != nil {
			return fmt.Errorf("read audit log: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}
