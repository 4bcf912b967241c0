// Package audit keeps the append-only, hash-chained log of privileged
// actions: role changes, suspensions, closures, terms publication and later
// every moderation and identity decision. Each row's hash covers the row and
// the previous row's hash, so altering, removing or reordering any row is
// detected by Verify.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// Log reads and verifies the audit log. Appending happens through Append,
// inside the transaction of the action it records.
type Log struct {
	db *sqldb.DB
}

// New returns a Log on db.
func New(db *sqldb.DB) *Log { return &Log{db: db} }

// Append adds r to the chain within tx, so that the action and its record
// commit or roll back together.
func Append(ctx context.Context, tx *sql.Tx, r Record) (Entry, error) {
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
		At:         time.Now().UTC().Truncate(time.Microsecond),
		ActorID:    r.Actor.ID,
		Actor:      r.Actor.Name,
		Action:     r.Action,
		TargetType: r.TargetType,
		TargetID:   r.TargetID,
		Reason:     r.Reason,
		Details:    r.Details,
		PrevHash:   prev,
	}
	details, err := encodeDetails(e.Details)
	if err != nil {
		return Entry{}, err
	}
	e.Hash = hashEntry(e, details)
	var actorID any
	if e.ActorID != 0 {
		actorID = int64(e.ActorID)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log
		(seq, at, actor_id, actor, action, target_type, target_id, reason, details, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.Seq, e.At.UnixMicro(), actorID, e.Actor, e.Action, e.TargetType, e.TargetID, e.Reason, details, e.PrevHash, e.Hash)
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

// hashEntry returns the hex SHA-256 of the entry's fields and the previous
// hash, encoded as a JSON array so no two different rows share an input.
func hashEntry(e Entry, details string) string {
	b, _ := json.Marshal([]any{
		e.PrevHash, e.Seq, e.At.UnixMicro(), int64(e.ActorID), e.Actor, e.Action,
		e.TargetType, e.TargetID, e.Reason, details,
	})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

const selectEntry = `SELECT seq, at, actor_id, actor, action, target_type, target_id, reason, details, prev_hash, hash FROM audit_log`

func scanEntry(rows *sql.Rows) (Entry, string, error) {
	var e Entry
	var at int64
	var actorID sql.NullInt64
	var details string
	if err := rows.Scan(&e.Seq, &at, &actorID, &e.Actor, &e.Action, &e.TargetType, &e.TargetID, &e.Reason, &details, &e.PrevHash, &e.Hash); err != nil {
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

// Report is the outcome of Verify.
type Report struct {
	OK bool `json:"ok"`
	// Rows is how many rows were checked.
	Rows int64 `json:"rows"`
	// FirstBroken is the seq of the first row that fails, 0 when OK.
	FirstBroken int64 `json:"first_broken_seq,omitempty"`
	// Problem says what is wrong with that row.
	Problem string `json:"problem,omitempty"`
}

// Verify walks the whole chain in order and reports the first row whose
// sequence, link or hash is wrong, or a tail that was cut off.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	const page = 1000
	var rep Report
	var prevHash string
	var next int64 = 1
	for {
		rows, err := l.db.Read().QueryContext(ctx, selectEntry+` WHERE seq >= $1 ORDER BY seq LIMIT $2`, next, page)
		if err != nil {
			return rep, fmt.Errorf("verify audit log: %w", err)
		}
		n := 0
		for rows.Next() {
			n++
			e, details, err := scanEntry(rows)
			if err != nil {
				rows.Close()
				return rep, fmt.Errorf("verify audit log: %w", err)
			}
			problem := ""
			switch {
			case e.Seq != next:
				problem = fmt.Sprintf("expected row %d here, found row %d: rows are missing", next, e.Seq)
			case e.PrevHash != prevHash:
				problem = "its prev_hash does not match the previous row's hash"
			case hashEntry(e, details) != e.Hash:
				problem = "its contents do not match its hash: the row was altered"
			}
			if problem != "" {
				rows.Close()
				rep.FirstBroken, rep.Problem = e.Seq, problem
				if e.Seq != next {
					rep.FirstBroken = next
				}
				return rep, nil
			}
			rep.Rows++
			prevHash = e.Hash
			next++
		}
		if err := rows.Close(); err != nil {
			return rep, fmt.Errorf("verify audit log: %w", err)
		}
		if err := rows.Err(); err != nil {
			return rep, fmt.Errorf("verify audit log: %w", err)
		}
		if n < page {
			break
		}
	}
	var headSeq int64
	var headHash string
	if err := l.db.Read().QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
		return rep, fmt.Errorf("verify audit log: read head: %w", err)
	}
	if headSeq != rep.Rows || headHash != prevHash {
		rep.FirstBroken = rep.Rows + 1
		if headSeq <= rep.Rows {
			rep.FirstBroken = headSeq
		}
		rep.Problem = fmt.Sprintf("the chain's head says %d rows ending in %.12s…, the log has %d ending in %.12s…: rows were removed or added outside the log", headSeq, headHash, rep.Rows, prevHash)
		return rep, nil
	}
	rep.OK = true
	return rep, nil
}
