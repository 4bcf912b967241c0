package audit

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Report is the outcome of Verify.
type Report struct {
	OK bool `json:"ok"`
	// Rows is how many rows were checked.
	Rows int64 `json:"rows"`
	// FirstBroken is the seq of the first row that fails, 0 when OK.
	FirstBroken int64 `json:"first_broken_seq,omitempty"`
	// Problem says what is wrong with that row.
	Problem string `json:"problem,omitempty"`
	// Head is the chain's tip when OK: record it elsewhere as an anchor.
	Head Anchor `json:"head"`
}

// Anchor is a row number and that row's hash, recorded outside the
// database ("1234:9f2c…") so that a chain rewritten even by someone holding
// the key is caught: the row's hash would differ.
type Anchor struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// String formats a as ParseAnchor reads it.
func (a Anchor) String() string { return fmt.Sprintf("%d:%s", a.Seq, a.Hash) }

// ParseAnchor reads "ROW:HASH" as printed by `plaza admin audit anchor`.
func ParseAnchor(s string) (Anchor, error) {
	n, h, ok := strings.Cut(strings.TrimSpace(s), ":")
	seq, err := strconv.ParseInt(n, 10, 64)
	if _, herr := hex.DecodeString(h); !ok || err != nil || seq < 1 || herr != nil || len(h) != 64 {
		return Anchor{}, fmt.Errorf("anchor %q: want ROW:HASH, such as 1234:9f2c… (64 hex digits)", s)
	}
	return Anchor{Seq: seq, Hash: strings.ToLower(h)}, nil
}

// Verify walks the whole chain in order and reports the first row whose
// sequence, link or hash is wrong, or a tail that was cut off. With keys,
// rows past the legacy prefix recorded in the key file must carry an HMAC
// under a known key: a plain SHA-256 row there was written or rewritten
// without the key. Each anchor given must match the chain.
func (l *Log) Verify(ctx context.Context, anchors ...Anchor) (Report, error) {
	const page = 1000
	var rep Report
	legacy, keys := int64(-1), map[string][]byte(nil)
	if l.keys != nil {
		var err error
		if legacy, keys, err = l.keys.snapshot(); err != nil {
			return rep, fmt.Errorf("verify audit log: %w", err)
		}
	}
	want := map[int64]string{}
	for _, a := range anchors {
		want[a.Seq] = a.Hash
	}
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
			key, known := keys[e.KeyID]
			switch {
			case e.Seq != next:
				problem = fmt.Sprintf("expected row %d here, found row %d: rows are missing", next, e.Seq)
			case e.PrevHash != prevHash:
				problem = "its prev_hash does not match the previous row's hash"
			case e.KeyID == "" && keys != nil && e.Seq > legacy:
				problem = fmt.Sprintf("it is not signed, but every row after row %d must be: it was written or rewritten without the audit key", legacy)
			case e.KeyID != "" && keys == nil:
				problem = fmt.Sprintf("it is signed with audit key %s, and no audit key was given to check it", e.KeyID)
			case e.KeyID != "" && !known:
				problem = fmt.Sprintf("it is signed with audit key %s, which the key file does not hold", e.KeyID)
			case e.KeyID != "" && e.Seq <= legacy:
				problem = fmt.Sprintf("it is signed, but rows up to %d predate the audit key", legacy)
			case !hmacEqual(hashEntry(e, details, key), e.Hash):
				problem = "its contents do not match its hash: the row was altered"
			case want[e.Seq] != "" && !hmacEqual(want[e.Seq], e.Hash):
				problem = fmt.Sprintf("its hash differs from the anchor recorded for it (%.12s…): the chain was rewritten", want[e.Seq])
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
	for _, a := range anchors {
		if a.Seq > rep.Rows {
			rep.FirstBroken = rep.Rows + 1
			rep.Problem = fmt.Sprintf("an anchor was recorded at row %d, but the log has only %d rows: rows were removed", a.Seq, rep.Rows)
			return rep, nil
		}
	}
	rep.OK = true
	rep.Head = Anchor{Seq: rep.Rows, Hash: prevHash}
	return rep, nil
}

func hmacEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
