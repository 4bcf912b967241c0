package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Log is the per-account sync log: every stored event of an account has
// the next number of that account's sequence (its cursor), and devices
// replay the log from their last cursor.
type Log struct {
	db        *sqldb.DB
	bus       bus.Bus
	log       *slog.Logger
	retention time.Duration
	now       func() time.Time

	// heads[n] and inserts[n] number and store events for n accounts or
	// rows in one statement.
	heads, inserts map[int]*sql.Stmt

	refTypes map[string]bool
	refs     RefLoader
}

// LogConfig configures a Log.
type LogConfig struct {
	// Retention is how long events are kept; a cursor older than that is
	// answered with cursor_expired.
	Retention time.Duration
	// Now is the clock (UTC, microseconds); nil means time.Now.
	Now func() time.Time
}

// RefLoader returns the current data of the referenced rows (such as
// messages by id), for the event types registered with UseRefs: sync and
// replay show a message as it is now (recalled, say), not as it was sent.
type RefLoader func(ctx context.Context, q sqldb.Queryer, refs []plaza.ID) (map[plaza.ID][]byte, error)

// chunk is how many accounts or rows one multi-row statement covers: a
// direct message's two events cost two statements, not four.
const chunk = 16

// NewLog prepares the log's statements on db. Preparing during a
// transaction would wait for the writer connection that the transaction
// itself holds, so every size is prepared now.
func NewLog(ctx context.Context, db *sqldb.DB, b bus.Bus, cfg LogConfig, log *slog.Logger) (*Log, error) {
	l := &Log{db: db, bus: b, log: log, retention: cfg.Retention, now: cfg.Now,
		heads: map[int]*sql.Stmt{}, inserts: map[int]*sql.Stmt{}, refTypes: map[string]bool{}}
	if l.now == nil {
		l.now = func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
	}
	for n := 1; n <= chunk; n++ {
		var hv, ev []string
		for i := 0; i < n; i++ {
			hv = append(hv, fmt.Sprintf("($%d, $%d)", 2*i+1, 2*i+2))
			b := 7 * i
			ev = append(ev, fmt.Sprintf("($%d, $%d, $%d, $%d, $%d, $%d, $%d)", b+1, b+2, b+3, b+4, b+5, b+6, b+7))
		}
		h, err := db.Prepare(ctx, `INSERT INTO sync_heads (account_id, seq) VALUES `+strings.Join(hv, ", ")+`
			ON CONFLICT (account_id) DO UPDATE SET seq = sync_heads.seq + excluded.seq RETURNING account_id, seq`)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("prepare event statements: %w", err)
		}
		l.heads[n] = h
		e, err := db.Prepare(ctx, `INSERT INTO events (account_id, seq, type, conversation_id, ref_id, data, created_at) VALUES `+strings.Join(ev, ", "))
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("prepare event statements: %w", err)
		}
		l.inserts[n] = e
	}
	return l, nil
}

// Close releases the prepared statements.
func (l *Log) Close() {
	for _, s := range l.heads {
		s.Close()
	}
	for _, s := range l.inserts {
		s.Close()
	}
}

// UseRefs makes sync and replay render events of types by loading their
// referenced rows with load. Call it while wiring.
func (l *Log) UseRefs(types []string, load RefLoader) {
	for _, t := range types {
		l.refTypes[t] = true
	}
	l.refs = load
}

// Event is one event to store for one account.
type Event struct {
	Account plaza.ID
	Type    string
	// Conversation and Ref (the row the event is about) are optional.
	Conversation, Ref plaza.ID
	// Data is the frame's payload (JSON); Stored is what the row keeps,
	// nil for events whose data is loaded by reference (UseRefs).
	Data, Stored []byte
}

// ForEach returns e once for each distinct account.
func ForEach(accounts []plaza.ID, e Event) []Event {
	seen := make(map[plaza.ID]bool, len(accounts))
	out := make([]Event, 0, len(accounts))
	for _, a := range accounts {
		if !seen[a] {
			seen[a] = true
			e.Account = a
			out = append(out, e)
		}
	}
	return out
}

// Pending is an event stored in a transaction, to publish after commit.
type Pending struct {
	Account plaza.ID
	Seq     int64
	Frame   []byte
}

// Append numbers evs in their accounts' sync logs and stores them, inside
// the caller's transaction tx, so the events commit or roll back with
// what they describe. Events of one account are numbered in the order of
// evs. Each account's head is bumped once however many events it gets,
// and heads are locked in ascending account order, so concurrent writers
// cannot deadlock on them. Publish the result after commit.
func (l *Log) Append(ctx context.Context, tx *sql.Tx, evs []Event) ([]Pending, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	per := make(map[plaza.ID][]int, 4)
	for i, e := range evs {
		per[e.Account] = append(per[e.Account], i)
	}
	accounts := make([]plaza.ID, 0, len(per))
	for a := range per {
		accounts = append(accounts, a)
	}
	sort.Slice(accounts, func(i, j int) bool { return accounts[i] < accounts[j] })
	heads, err := l.bumpHeads(ctx, tx, accounts, per)
	if err != nil {
		return nil, err
	}
	now := l.now().UnixMicro()
	out := make([]Pending, 0, len(evs))
	args := make([]any, 0, 7*min(chunk, len(evs)))
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		if _, err := tx.StmtContext(ctx, l.inserts[n]).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("sync log: %w", err)
		}
		args, n = args[:0], 0
		return nil
	}
	for _, a := range accounts {
		idx := per[a]
		first := heads[a] - int64(len(idx)) + 1
		for j, i := range idx {
			e := evs[i]
			seq := first + int64(j)
			var conv, ref any
			if e.Conversation != 0 {
				conv = e.Conversation
			}
			if e.Ref != 0 {
				ref = e.Ref
			}
			stored := e.Stored
			if stored == nil {
				stored = []byte("{}")
			}
			args = append(args, a, seq, e.Type, conv, ref, string(stored), now)
			out = append(out, Pending{Account: a, Seq: seq, Frame: Frame(e.Type, seq, e.Data)})
			if n++; n == chunk {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// bumpHeads reserves len(per[a]) numbers for each account a (sorted,
// distinct) and returns each account's new head.
func (l *Log) bumpHeads(ctx context.Context, tx *sql.Tx, accounts []plaza.ID, per map[plaza.ID][]int) (map[plaza.ID]int64, error) {
	heads := make(map[plaza.ID]int64, len(accounts))
	for start := 0; start < len(accounts); start += chunk {
		end := min(len(accounts), start+chunk)
		args := make([]any, 0, 2*(end-start))
		for _, a := range accounts[start:end] {
			args = append(args, a, int64(len(per[a])))
		}
		rows, err := tx.StmtContext(ctx, l.heads[end-start]).QueryContext(ctx, args...)
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

// Publish sends committed events to the bus. A failure is logged, not
// returned: the events are committed, and devices get them by syncing.
func (l *Log) Publish(ctx context.Context, evs []Pending) {
	for _, e := range evs {
		if err := l.bus.Publish(ctx, AccountSubject(e.Account), Envelope(e.Seq, e.Frame)); err != nil {
			l.log.Warn("bus publish failed; devices will catch up by syncing", "err", err)
			return
		}
	}
}

// PublishEphemeral sends an event that is not stored (typing) to the
// devices of accounts connected now.
func (l *Log) PublishEphemeral(ctx context.Context, accounts []plaza.ID, typ string, data []byte) error {
	f := Envelope(0, Frame(typ, 0, data))
	for _, a := range accounts {
		if err := l.bus.Publish(ctx, AccountSubject(a), f); err != nil {
			return err
		}
	}
	return nil
}

// SyncPage is a page of an account's sync log.
type SyncPage struct {
	Events []json.RawMessage
	Cursor int64
	More   bool
}

// Head returns the account's newest cursor.
func (l *Log) Head(ctx context.Context, account plaza.ID) (int64, error) {
	var seq int64
	err := l.db.Read().QueryRowContext(ctx, `SELECT seq FROM sync_heads WHERE account_id = $1`, account).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// Sync returns up to limit events after cursor since, in order. A cursor
// older than the retained log answers cursor_expired: the device must
// refetch what the log would have told it, then sync from the head.
func (l *Log) Sync(ctx context.Context, account plaza.ID, since int64, limit int) (SyncPage, error) {
	head, err := l.Head(ctx, account)
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
	if err := l.db.Read().QueryRowContext(ctx, `SELECT MIN(seq) FROM events WHERE account_id = $1`, account).Scan(&first); err != nil {
		return SyncPage{}, fmt.Errorf("sync: %w", err)
	}
	if !first.Valid || since+1 < first.Int64 {
		return SyncPage{}, plaza.Errorf(plaza.ECursorExpired, "the cursor is older than the %s kept in the sync log: reload conversations and history, then sync from the current cursor", l.retention).
			WithDetails(map[string]any{"cursor": strconv.FormatInt(head, 10)})
	}
	frames, seqs, err := l.read(ctx, account, ` ORDER BY seq LIMIT $3`, since, int64(limit+1))
	if err != nil {
		return SyncPage{}, fmt.Errorf("sync: %w", err)
	}
	page := SyncPage{Events: make([]json.RawMessage, 0, len(frames)), Cursor: since}
	for _, f := range frames {
		page.Events = append(page.Events, f)
	}
	if len(page.Events) > limit {
		page.Events, page.More = page.Events[:limit], true
	}
	if n := len(page.Events); n > 0 {
		page.Cursor = seqs[n-1]
	}
	return page, nil
}

// Replay returns the frames of the events in (after, upTo], for the
// stream's catch-up and gap filling.
func (l *Log) Replay(ctx context.Context, account plaza.ID, after, upTo int64) ([][]byte, []int64, error) {
	frames, seqs, err := l.read(ctx, account, ` AND seq <= $3 ORDER BY seq`, after, upTo)
	if err != nil {
		return nil, nil, fmt.Errorf("replay: %w", err)
	}
	return frames, seqs, nil
}

// read renders the events of account after since; tail ends the query
// with $3 as arg.
func (l *Log) read(ctx context.Context, account plaza.ID, tail string, since int64, arg int64) ([][]byte, []int64, error) {
	q := l.db.Read()
	rows, err := q.QueryContext(ctx, `SELECT seq, type, data, ref_id FROM events WHERE account_id = $1 AND seq > $2`+tail, account, since, arg)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	type row struct {
		seq  int64
		typ  string
		data string
		ref  plaza.ID
	}
	var got []row
	var refs []plaza.ID
	for rows.Next() {
		var r row
		var ref sql.NullInt64
		if err := rows.Scan(&r.seq, &r.typ, &r.data, &ref); err != nil {
			return nil, nil, err
		}
		if ref.Valid && l.refTypes[r.typ] {
			r.ref = plaza.ID(ref.Int64)
			refs = append(refs, r.ref)
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows.Close()
	var loaded map[plaza.ID][]byte
	if len(refs) > 0 && l.refs != nil {
		if loaded, err = l.refs(ctx, q, refs); err != nil {
			return nil, nil, err
		}
	}
	frames := make([][]byte, len(got))
	seqs := make([]int64, len(got))
	for i, r := range got {
		data := []byte(r.data)
		if b, ok := loaded[r.ref]; ok && r.ref != 0 {
			data = b
		}
		frames[i], seqs[i] = Frame(r.typ, r.seq, data), r.seq
	}
	return frames, seqs, nil
}

// Prune deletes events older than the retention, a batch at a time so
// the writer is never held for long, and returns how many it deleted.
func (l *Log) Prune(ctx context.Context) (int64, error) {
	cutoff := l.now().Add(-l.retention).UnixMicro()
	var total int64
	for {
		res, err := l.db.Write().ExecContext(ctx, `DELETE FROM events WHERE (account_id, seq) IN
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
func (l *Log) RunPruner(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := l.Prune(ctx); err != nil {
				l.log.Error("sync log pruning failed", "err", err)
			} else if n > 0 {
				l.log.Info("sync log pruned", "events", n)
			}
		}
	}
}
