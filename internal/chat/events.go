package chat

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Event types on the stream and in the sync log.
const (
	EventMessageCreated      = "message.created"
	EventMessageRecalled     = "message.recalled"
	EventConversationRead    = "conversation.read"
	EventConversationUpdated = "conversation.updated"
	EventContactRequest      = "contact.request"
	EventContactAccepted     = "contact.accepted"
	EventTyping              = "typing"
)

// Subject is the bus subject of an account's events: each node subscribes
// to the accounts of the devices connected to it.
func Subject(accountID plaza.ID) string { return "acct." + accountID.String() }

// An envelope is what travels on the bus: the event's sequence number in
// the account's sync log (8 bytes, big-endian; 0 for ephemeral events such
// as typing, which are not stored) followed by the frame exactly as
// devices receive it, so a node forwards it without decoding.
func envelope(seq int64, frame []byte) []byte {
	b := make([]byte, 8+len(frame))
	binary.BigEndian.PutUint64(b, uint64(seq))
	copy(b[8:], frame)
	return b
}

// ControlEnvelope wraps a message for the realtime nodes themselves (not
// for devices), such as "this account now follows that channel"; its
// sequence number is -1.
func ControlEnvelope(data []byte) []byte { return envelope(-1, data) }

// ParseEnvelope splits a bus event into its sequence number and frame.
func ParseEnvelope(b []byte) (seq int64, frame []byte, err error) {
	if len(b) < 8 {
		return 0, nil, errors.New("chat: short bus envelope")
	}
	return int64(binary.BigEndian.Uint64(b)), b[8:], nil
}

// frame renders a stream frame: {"type", "cursor", "data"}; data is
// already JSON.
func frame(typ string, cursor int64, data []byte) []byte {
	b := make([]byte, 0, len(data)+64)
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	if cursor > 0 {
		b = append(b, `,"cursor":"`...)
		b = strconv.AppendInt(b, cursor, 10)
		b = append(b, '"')
	}
	b = append(b, `,"data":`...)
	b = append(b, data...)
	b = append(b, '}')
	return b
}

// pending is an event written in a transaction, published after commit.
type pending struct {
	account plaza.ID
	seq     int64
	frame   []byte
}

// eventChunk is how many accounts or rows one multi-row statement covers:
// a direct message's two events cost two statements, not four.
const eventChunk = 16

// eventRow is one row of the events table.
type eventRow struct {
	account  plaza.ID
	seq      int64
	typ      string
	conv     plaza.ID
	ref      plaza.ID
	stored   []byte
	frameFor []byte // the frame's data
}

// bumpHeads reserves counts[i] event numbers for accounts[i] and returns
// each account's new head (the last number reserved). accounts must be
// sorted ascending and distinct: every transaction locks sync heads in
// that order, so concurrent writers cannot deadlock on them.
func bumpHeads(ctx context.Context, tx *sql.Tx, st *stmts, accounts []plaza.ID, counts []int64) (map[plaza.ID]int64, error) {
	heads := make(map[plaza.ID]int64, len(accounts))
	for start := 0; start < len(accounts); start += eventChunk {
		end := min(len(accounts), start+eventChunk)
		args := make([]any, 0, 2*(end-start))
		for i := start; i < end; i++ {
			args = append(args, accounts[i], counts[i])
		}
		rows, err := tx.StmtContext(ctx, st.heads[end-start]).QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("sync log: %w", err)
		}
		for rows.Next() {
			var a plaza.ID
			var seq int64
			if err := rows.Scan(&a, &seq); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sync log: %w", err)
			}
			heads[a] = seq
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sync log: %w", err)
		}
	}
	for _, a := range accounts {
		if _, ok := heads[a]; !ok {
			return nil, fmt.Errorf("sync log: no head returned for account %s", a)
		}
	}
	return heads, nil
}

// insertEvents stores rows, a chunk per statement, and returns them as
// events to publish after commit.
func insertEvents(ctx context.Context, tx *sql.Tx, st *stmts, rows []eventRow, now time.Time) ([]pending, error) {
	out := make([]pending, 0, len(rows))
	for start := 0; start < len(rows); start += eventChunk {
		end := min(len(rows), start+eventChunk)
		args := make([]any, 0, 7*(end-start))
		for _, r := range rows[start:end] {
			var conv, ref any
			if r.conv != 0 {
				conv = r.conv
			}
			if r.ref != 0 {
				ref = r.ref
			}
			stored := r.stored
			if stored == nil {
				stored = []byte("{}")
			}
			args = append(args, r.account, r.seq, r.typ, conv, ref, string(stored), now.UnixMicro())
			out = append(out, pending{account: r.account, seq: r.seq, frame: frame(r.typ, r.seq, r.frameFor)})
		}
		if _, err := tx.StmtContext(ctx, st.events[end-start]).ExecContext(ctx, args...); err != nil {
			return nil, fmt.Errorf("sync log: %w", err)
		}
	}
	return out, nil
}

// appendEvents numbers the same event in each account's sync log and
// stores it. data is the frame's payload; stored is what the row keeps
// (nil for message events, whose rows reference the message so that sync
// reads its current state).
func appendEvents(ctx context.Context, tx *sql.Tx, st *stmts, accounts []plaza.ID, typ string, convID, refID plaza.ID, data []byte, stored []byte, now time.Time) ([]pending, error) {
	accounts = dedupe(accounts)
	sortIDs(accounts)
	counts := make([]int64, len(accounts))
	for i := range counts {
		counts[i] = 1
	}
	heads, err := bumpHeads(ctx, tx, st, accounts, counts)
	if err != nil {
		return nil, err
	}
	rows := make([]eventRow, len(accounts))
	for i, a := range accounts {
		rows[i] = eventRow{account: a, seq: heads[a], typ: typ, conv: convID, ref: refID, stored: stored, frameFor: data}
	}
	return insertEvents(ctx, tx, st, rows, now)
}

// publish sends committed events to the bus. A failure is logged, not
// returned: the events are committed, and devices get them by syncing.
func (s *Service) publish(ctx context.Context, evs []pending) {
	for _, e := range evs {
		if err := s.bus.Publish(ctx, Subject(e.account), envelope(e.seq, e.frame)); err != nil {
			s.log.Warn("bus publish failed; devices will catch up by syncing", "err", err)
			return
		}
	}
}

// SyncPage is a page of an account's sync log.
type SyncPage struct {
	Events []json.RawMessage
	Cursor int64
	More   bool
}

// Head returns the account's newest cursor.
func (s *Service) Head(ctx context.Context, account plaza.ID) (int64, error) {
	var seq int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT seq FROM sync_heads WHERE account_id = $1`, account).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// Sync returns up to limit events after cursor since, in order. A cursor
// older than the retained log answers cursor_expired: the device must
// refetch conversations and history, then sync from the current head.
func (s *Service) Sync(ctx context.Context, account plaza.ID, since int64, limit int) (SyncPage, error) {
	head, err := s.Head(ctx, account)
	if err != nil {
		return SyncPage{}, fmt.Errorf("sync: %w", err)
	}
	if since > head {
		return SyncPage{}, plaza.Invalid("since", "is ahead of this account's newest cursor")
	}
	if since == head {
		return SyncPage{Events: []json.RawMessage{}, Cursor: head}, nil
	}
	var first sql.NullInt64
	if err := s.db.Read().QueryRowContext(ctx, `SELECT MIN(seq) FROM events WHERE account_id = $1`, account).Scan(&first); err != nil {
		return SyncPage{}, fmt.Errorf("sync: %w", err)
	}
	if !first.Valid || since+1 < first.Int64 {
		return SyncPage{}, plaza.Errorf(plaza.ECursorExpired, "the cursor is older than the %s kept in the sync log: reload conversations and history, then sync from the current cursor", s.cfg.Retention).
			WithDetails(map[string]any{"cursor": strconv.FormatInt(head, 10)})
	}
	frames, seqs, err := s.readEvents(ctx, s.db.Read(), account, since, limit+1)
	if err != nil {
		return SyncPage{}, err
	}
	page := SyncPage{Events: frames, Cursor: since}
	if len(frames) > limit {
		page.Events, page.More = frames[:limit], true
	}
	if n := len(page.Events); n > 0 {
		page.Cursor = seqs[n-1]
	}
	return page, nil
}

// Replay returns the frames of the events in (after, upTo], for the
// stream's catch-up and gap filling.
func (s *Service) Replay(ctx context.Context, account plaza.ID, after, upTo int64) ([][]byte, []int64, error) {
	rows, err := s.db.Read().QueryContext(ctx, eventQuery+` AND e.seq <= $3 ORDER BY e.seq`, account, after, upTo)
	if err != nil {
		return nil, nil, fmt.Errorf("replay: %w", err)
	}
	defer rows.Close()
	var frames [][]byte
	var seqs []int64
	for rows.Next() {
		seq, f, err := scanEvent(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("replay: %w", err)
		}
		frames, seqs = append(frames, f), append(seqs, seq)
	}
	return frames, seqs, rows.Err()
}

const eventQuery = `SELECT e.seq, e.type, e.data, ` + messageColumnsM + `
	FROM events e LEFT JOIN messages m ON m.id = e.ref_id
	WHERE e.account_id = $1 AND e.seq > $2`

func (s *Service) readEvents(ctx context.Context, q sqldb.Queryer, account plaza.ID, since int64, limit int) ([]json.RawMessage, []int64, error) {
	rows, err := q.QueryContext(ctx, eventQuery+` ORDER BY e.seq LIMIT $3`, account, since, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("sync: %w", err)
	}
	defer rows.Close()
	out := []json.RawMessage{}
	var seqs []int64
	for rows.Next() {
		seq, f, err := scanEvent(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("sync: %w", err)
		}
		out, seqs = append(out, f), append(seqs, seq)
	}
	return out, seqs, rows.Err()
}

func scanEvent(rows *sql.Rows) (int64, []byte, error) {
	var seq int64
	var typ, data string
	var m nullMessage
	dest := append([]any{&seq, &typ, &data}, m.dest()...)
	if err := rows.Scan(dest...); err != nil {
		return 0, nil, err
	}
	payload := []byte(data)
	if msg, ok := m.message(); ok {
		b, err := json.Marshal(msg)
		if err != nil {
			return 0, nil, err
		}
		payload = b
	}
	return seq, frame(typ, seq, payload), nil
}

// prune deletes events older than the retention, a batch at a time so the
// writer is never held for long.
func (s *Service) prune(ctx context.Context) (int64, error) {
	cutoff := s.now().Add(-s.cfg.Retention).UnixMicro()
	var total int64
	for {
		res, err := s.db.Write().ExecContext(ctx, `DELETE FROM events WHERE (account_id, seq) IN
			(SELECT account_id, seq FROM events WHERE created_at < $1 LIMIT 5000)`, cutoff)
		if err != nil {
			return total, fmt.Errorf("prune sync log: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n < 5000 {
			return total, nil
		}
	}
}

// RunPruner prunes the sync log every interval until ctx ends.
func (s *Service) RunPruner(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.prune(ctx); err != nil {
				s.log.Error("sync log pruning failed", "err", err)
			} else if n > 0 {
				s.log.Info("sync log pruned", "events", n)
			}
		}
	}
}
