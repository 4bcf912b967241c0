package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/prometheus/client_golang/prometheus"
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

	// heads and inserts number and store events for many accounts or
	// rows in one statement; on PostgreSQL pg does instead.
	heads, inserts *sqldb.Ladder
	pg             *pgStmts

	refTypes map[string]bool
	refs     RefLoader
	runs     bool // LogConfig.Runs

	// pub carries committed events to the publisher goroutine, so that
	// whoever commits (the chat writer, above all) hands over a batch
	// and goes on while the bus fans it out. pubMu guards pubClosed and
	// the send side of pub.
	pub       chan []Pending
	pubMu     sync.RWMutex
	pubClosed bool
	pubDone   chan struct{}
	// waiting counts the events handed to enqueue and not yet through
	// the bus, for plaza_events_publish_queue.
	waiting atomic.Int64
}

// publishQueue bounds the batches waiting for the publisher goroutine;
// when it is full, Publish waits. The publisher never waits for devices
// (the bus hands events to bounded per-device queues), so it fills only
// if the bus itself stalls.
const publishQueue = 1024

// LogConfig configures a Log.
type LogConfig struct {
	// Retention is how long events are kept; a cursor older than that is
	// answered with cursor_expired.
	Retention time.Duration
	// Now is the clock (UTC, microseconds); nil means time.Now.
	Now func() time.Time
	// Runs lets Append store a run of events in one row (see row). Every
	// Log reads runs; a node of a release before runs existed would read
	// such a row as its first event only, so the program turns them off
	// while such a node shares the database (plaza serve
	// --sync-log-runs=false).
	Runs bool
}

// RefLoader returns the current data of the referenced rows (such as
// messages by id) as account sees them, for the event types registered
// with UseRefs: sync and replay show a message as it is now (recalled or
// removed by a moderation decision, say), not as it was sent.
type RefLoader func(ctx context.Context, q sqldb.Queryer, account plaza.ID, refs []plaza.ID) (map[plaza.ID][]byte, error)

// maxRows is the most accounts or rows one multi-row statement covers:
// 64 events are 512 parameters, far below either engine's limit, and a
// chat batch's events take a few statements, not a few per message.
const maxRows = 64

// NewLog prepares the log's statements on db. Preparing during a
// transaction would wait for the writer connection that the transaction
// itself holds, so every size is prepared now.
func NewLog(ctx context.Context, db *sqldb.DB, b bus.Bus, cfg LogConfig, log *slog.Logger) (*Log, error) {
	l := &Log{db: db, bus: b, log: log, retention: cfg.Retention, now: cfg.Now, runs: cfg.Runs, refTypes: map[string]bool{},
		pub: make(chan []Pending, publishQueue), pubDone: make(chan struct{})}
	if l.now == nil {
		l.now = func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
	}
	go l.publisher()
	if err := l.prepare(ctx); err != nil {
		l.Close()
		return nil, fmt.Errorf("prepare event statements: %w", err)
	}
	return l, nil
}

// Close publishes the batches still waiting, stops the publisher and
// releases the prepared statements. Publish after Close publishes at once.
func (l *Log) Close() {
	l.pubMu.Lock()
	if !l.pubClosed {
		l.pubClosed = true
		close(l.pub)
	}
	l.pubMu.Unlock()
	<-l.pubDone
	l.heads.Close()
	l.inserts.Close()
	l.pg.close()
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
	// RequestID, optional, names the request that caused the event; it
	// travels beside the event on the bus (see bus.WithRequestID), never
	// in the frame, and is not stored.
	RequestID string
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
	// RequestID is the Event's.
	RequestID string
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
	out := make([]Pending, 0, len(evs))
	rows := make([]row, 0, len(evs))
	for _, a := range accounts {
		idx := per[a]
		first := heads[a] - int64(len(idx)) + 1
		for j, i := range idx {
			e := &evs[i]
			seq := first + int64(j)
			out = append(out, Pending{Account: a, Seq: seq, Frame: Frame(e.Type, seq, e.Data), RequestID: e.RequestID})
			runnable := l.runnable(e)
			if n := len(rows); n > 0 && runnable && rows[n-1].extends(a, seq, e) {
				rows[n-1].refs = append(rows[n-1].refs, e.Ref)
				continue
			}
			r := row{account: a, seq: seq, typ: e.Type, conv: e.Conversation, ref: e.Ref, data: stored(*e)}
			if runnable {
				r.refs = []plaza.ID{e.Ref}
			}
			rows = append(rows, r)
		}
	}
	if err := l.insert(ctx, tx, rows); err != nil {
		return nil, fmt.Errorf("sync log: %w", err)
	}
	return out, nil
}

// maxRun is the most events one row of the log stands for (see row): it
// bounds the row's list of references (about 20 bytes each). Reading
// does not depend on it.
const maxRun = 32

// A row is one row of the sync log: one event, or a run of events that
// follow each other in one account's log, of one type and conversation,
// each loaded by its reference (UseRefs) with nothing of its own stored.
// A run's row has the first event's seq and ref and n = len(refs); its
// data lists every reference (see runData), and the events' frames are
// rendered from what the references load, as a single event's are.
type row struct {
	account, conv, ref plaza.ID
	seq                int64
	typ, data          string     // data: a single event's stored data (column gives a run's)
	refs               []plaza.ID // a run's references, nil for a single event that cannot start one
}

// runnable reports whether e can be part of a run.
func (l *Log) runnable(e *Event) bool {
	return l.runs && e.Ref != 0 && e.Stored == nil && l.refTypes[e.Type]
}

// extends reports whether e, runnable and numbered seq in account's log,
// can join r's run: it follows r's last event in the same log, of the
// same type and conversation, and the run has room.
func (r *row) extends(account plaza.ID, seq int64, e *Event) bool {
	return r.refs != nil && r.account == account && r.seq+int64(len(r.refs)) == seq &&
		len(r.refs) < maxRun && r.typ == e.Type && r.conv == e.Conversation
}

// n is how many events r stands for.
func (r *row) n() int64 { return max(1, int64(len(r.refs))) }

// column is r's data column: a run's references (runData), or a single
// event's stored data.
func (r *row) column() string {
	if len(r.refs) > 1 {
		return runData(r.refs)
	}
	return r.data
}

// runData is the data column of a run's row: its references in order,
// as decimal numbers joined by commas.
func runData(refs []plaza.ID) string {
	b := make([]byte, 0, 20*len(refs))
	for i, ref := range refs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(ref), 10)
	}
	return string(b)
}

// parseRun reads a run's data back into its n references. Only Append
// writes runs, so a row that does not parse is damaged: read fails for
// that account until the row is pruned, rather than skip its events.
func parseRun(data string, n int64) ([]plaza.ID, error) {
	refs := make([]plaza.ID, 0, min(n, 1024)) // n is read from the row
	for rest, more := data, true; more; {
		var field string
		field, rest, more = strings.Cut(rest, ",")
		v, err := strconv.ParseInt(field, 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("sync log: a run's reference %q is not an ID", field)
		}
		refs = append(refs, plaza.ID(v))
	}
	if int64(len(refs)) != n {
		return nil, fmt.Errorf("sync log: a run of %d events lists %d references", n, len(refs))
	}
	return refs, nil
}

// Publish hands committed events to the publisher goroutine, which
// sends them to the bus in the order of the Publish (and
// PublishEphemeral) calls. A bus failure is logged, not returned: the
// events are committed, and devices get them by syncing.
func (l *Log) Publish(_ context.Context, evs []Pending) {
	if err := l.enqueue(evs); err != nil {
		l.log.Warn("bus publish failed; devices will catch up by syncing", "err", err)
	}
}

// PublishEphemeral sends an event that is not stored (typing) to the
// devices of accounts connected now, in order with the events published
// before it.
func (l *Log) PublishEphemeral(_ context.Context, accounts []plaza.ID, typ string, data []byte) error {
	f := Frame(typ, 0, data)
	evs := make([]Pending, len(accounts))
	for i, a := range accounts {
		evs[i] = Pending{Account: a, Frame: f}
	}
	return l.enqueue(evs)
}

// enqueue hands evs to the publisher goroutine, or, once the log is
// closed, publishes them at once.
func (l *Log) enqueue(evs []Pending) error {
	if len(evs) == 0 {
		return nil
	}
	l.pubMu.RLock()
	if !l.pubClosed {
		// Counted before the send, which waits while the queue is full.
		l.waiting.Add(int64(len(evs)))
		l.pub <- evs
		l.pubMu.RUnlock()
		return nil
	}
	l.pubMu.RUnlock()
	return l.publish(evs)
}

// publisher publishes the batches handed to enqueue until Close.
func (l *Log) publisher() {
	defer close(l.pubDone)
	for evs := range l.pub {
		if err := l.publish(evs); err != nil {
			l.log.Warn("bus publish failed; devices will catch up by syncing", "err", err)
		}
		l.waiting.Add(-int64(len(evs)))
	}
}

func (l *Log) publish(evs []Pending) error {
	// The events describe committed changes: they are sent even though
	// the request that made them may be gone.
	bg := context.Background()
	ctx, id := bg, ""
	for _, e := range evs {
		if e.RequestID != id {
			// One send's events (one per member) share a request ID.
			ctx, id = bus.WithRequestID(bg, e.RequestID), e.RequestID
		}
		if err := l.bus.Publish(ctx, AccountSubject(e.Account), Envelope(e.Seq, e.Frame)); err != nil {
			return err
		}
	}
	return nil
}

// Collectors returns the log's metrics, for the caller to register:
// plaza_events_publish_queue.
func (l *Log) Collectors() []prometheus.Collector {
	return []prometheus.Collector{prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "plaza_events_publish_queue",
		Help: "Events committed to the sync log and waiting for this node's publisher to hand them to the bus (including those of a committer blocked on the full queue).",
	}, func() float64 { return float64(l.waiting.Load()) })}
}

// SyncPage is a page of an account's sync log.
type SyncPage struct {
	Events []json.RawMessage
	Cursor int64
	More   bool
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
	first, err := l.first(ctx, account)
	if err != nil {
		return SyncPage{}, fmt.Errorf("sync: %w", err)
	}
	if !first.Valid || since+1 < first.Int64 {
		return SyncPage{}, plaza.Errorf(plaza.ECursorExpired, "the cursor is older than the %s kept in the sync log: reload conversations and history, then sync from the current cursor", l.retention).
			WithDetails(map[string]any{"cursor": strconv.FormatInt(head, 10)})
	}
	frames, seqs, err := l.read(ctx, account, since, 0, limit+1)
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
	frames, seqs, err := l.read(ctx, account, after, upTo, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("replay: %w", err)
	}
	return frames, seqs, nil
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
				l.log.Info("sync log pruned", "rows", n)
			}
		}
	}
}
