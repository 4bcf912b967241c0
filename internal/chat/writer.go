package chat

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// writer commits sends in groups. On SQLite every write goes through one
// connection, and each commit with synchronous=FULL waits for the disk; so
// the writer takes every send that is waiting (up to MaxBatch), commits
// them in one transaction, and only then acknowledges each one. Under load
// batches grow by themselves; alone, a send is committed at once.
//
// Ordering: sends of one batch are committed together and published in
// the order they were queued; within a conversation, seq follows that
// order.
//
// Isolation: when a batch's transaction fails, the batch is split in
// halves and each committed on its own, down to single sends, so only the
// sends the store refuses fail.
type writer struct {
	s     *Service
	st    *stmts
	reqs  chan *sendReq
	done  chan struct{}
	close func()

	// mu guards closed and the send side of reqs: submit holds it for
	// reading while queueing, close for writing while closing the channel.
	mu     sync.RWMutex
	closed bool
}

type sendReq struct {
	sender  plaza.ID
	in      SendInput
	version int64 // members_version when the send was checked
	res     chan sendRes
}

type sendRes struct {
	msg     Message
	created bool
	err     error
}

// queueLen bounds the sends waiting for the writer; when it is full,
// Send waits (back-pressure reaches the client as latency, never as loss).
const queueLen = 8192

func newWriter(ctx context.Context, s *Service) (*writer, error) {
	st, err := prepare(ctx, s.db)
	if err != nil {
		return nil, err
	}
	w := &writer{s: s, st: st, reqs: make(chan *sendReq, queueLen), done: make(chan struct{})}
	var once sync.Once
	w.close = func() {
		once.Do(func() {
			w.mu.Lock()
			w.closed = true
			close(w.reqs)
			w.mu.Unlock()
			<-w.done
			st.close()
		})
	}
	go w.run()
	return w, nil
}

func (w *writer) run() {
	defer close(w.done)
	batch := make([]*sendReq, 0, w.s.cfg.MaxBatch)
	for first := range w.reqs {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < w.s.cfg.MaxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.commit(batch)
	}
}

// errUnavailable answers a send the store did not take in time.
var errUnavailable = plaza.Errorf(plaza.EUnavailable, "the message could not be stored in time; try again: sending again with the same client_id is safe")

// A QueuedSend is a send that has passed its checks and has its place in
// the writer's queue; Wait returns its outcome. Sends queued one after
// another commit in that order within a conversation.
type QueuedSend struct {
	r     *sendReq
	limit *time.Timer // SendTimeout, started when the send was queued
}

// Wait waits for the send's commit and returns the message, whether this
// call created it (false: its client_id was already stored), or why it
// failed. It waits even if the context the send was queued with has
// ended: the send may already be committed, and the caller must not be
// told otherwise. Only a stalled store (SendTimeout from queueing) ends
// the wait: then the caller is told to send again, which is safe whether
// or not the send commits later. Wait must be called exactly once.
func (q *QueuedSend) Wait() (Message, bool, error) {
	defer q.limit.Stop()
	select {
	case res := <-q.r.res:
		return res.msg, res.created, res.err
	case <-q.limit.C:
		return Message{}, false, errUnavailable
	}
}

// submit queues a send, waiting at most SendTimeout for room in the
// queue. version is the conversation's members_version read when the
// send was checked.
func (w *writer) submit(ctx context.Context, sender plaza.ID, in SendInput, version int64) (*QueuedSend, error) {
	r := &sendReq{sender: sender, in: in, version: version, res: make(chan sendRes, 1)}
	limit := time.NewTimer(w.s.cfg.SendTimeout)
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		limit.Stop()
		return nil, plaza.Errorf(plaza.EGone, "the server is shutting down: send again")
	}
	select {
	case w.reqs <- r:
		return &QueuedSend{r: r, limit: limit}, nil
	case <-ctx.Done():
		limit.Stop()
		return nil, ctx.Err()
	case <-limit.C:
		return nil, errUnavailable
	}
}

// commit commits a batch within CommitTimeout.
func (w *writer) commit(batch []*sendReq) {
	ctx, cancel := context.WithTimeout(context.Background(), w.s.cfg.CommitTimeout)
	defer cancel()
	w.commitWithin(ctx, batch)
}

func (w *writer) commitWithin(ctx context.Context, batch []*sendReq) {
	results := make([]sendRes, len(batch))
	var evs []events.Pending
	// The deadline bounds waiting for the connection and, on PostgreSQL,
	// each statement. On SQLite the statements run without it: there a
	// statement cannot stall (busy_timeout bounds lock waits), and the
	// driver would start a goroutine per statement to watch the context,
	// which on the single writer costs a fifth of the throughput.
	qctx := ctx
	if w.s.db.Engine == sqldb.SQLite {
		qctx = context.WithoutCancel(ctx)
	}
	err := w.s.db.InTx(ctx, func(tx *sql.Tx) error {
		evs = evs[:0]
		return w.apply(qctx, tx, batch, results, &evs)
	})
	// On PostgreSQL another node's writer may (a) pick this batch as a
	// deadlock victim, locking the same rows in another order, or (b)
	// commit the same client_id between this batch's lookup and insert (a
	// client retrying through another node). Running the batch again
	// resolves both: the second lookup finds the committed message.
	for attempt := 0; attempt < 3 && err != nil && (isRetryable(err) || sqldb.IsUniqueViolation(err)); attempt++ {
		err = w.s.db.InTx(ctx, func(tx *sql.Tx) error {
			evs = evs[:0]
			return w.apply(qctx, tx, batch, results, &evs)
		})
	}
	if err != nil && ctx.Err() != nil {
		// The store stalled: splitting would only wait again per half.
		for _, r := range batch {
			r.res <- sendRes{err: errUnavailable}
		}
		w.s.log.Warn("send commit timed out; senders are told to send again", "sends", len(batch), "timeout", w.s.cfg.CommitTimeout, "err", err)
		return
	}
	if err != nil && len(batch) > 1 {
		// One send the store refuses (a value it cannot hold, a broken
		// row) must not fail everyone else's: commit the halves apart
		// until the failing sends stand alone. Halves keep queue order,
		// so seq still follows it within a conversation.
		mid := len(batch) / 2
		w.commitWithin(ctx, batch[:mid])
		w.commitWithin(ctx, batch[mid:])
		return
	}
	if err != nil {
		err = fmt.Errorf("send message: %w", err)
		for _, r := range batch {
			r.res <- sendRes{err: err}
		}
		return
	}
	for i, r := range batch {
		r.res <- results[i]
	}
	w.s.publish(context.Background(), evs)
}

// apply runs a batch in two passes, so every batch takes its locks in one
// global order (conversations ascending, then sync heads ascending) and
// writers on several nodes cannot deadlock each other:
//
//  1. in conversation order (stable, so one conversation's sends keep
//     their queue order): deduplicate, number and store each message;
//  2. per member account, ascending: reserve as many event numbers as the
//     batch has events for that account with one head bump, and store the
//     events, numbered in message order.
func (w *writer) apply(ctx context.Context, tx *sql.Tx, batch []*sendReq, results []sendRes, evs *[]events.Pending) error {
	st := w.st
	now := w.s.now()
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return batch[order[a]].in.ConversationID < batch[order[b]].in.ConversationID })

	type stored struct {
		msg     Message
		data    []byte
		members []plaza.ID
	}
	var created []stored
	members := map[plaza.ID][]plaza.ID{}
	type key struct {
		conv, sender plaza.ID
		client       string
	}
	seen := map[key]int{}
	for _, i := range order {
		r := batch[i]
		k := key{r.in.ConversationID, r.sender, r.in.ClientID}
		if j, dup := seen[k]; dup {
			// The same send twice in one batch (a fast retry).
			results[i] = sendRes{msg: results[j].msg, err: results[j].err}
			continue
		}
		seen[k] = i
		existing, err := scanMessage(tx.StmtContext(ctx, st.findByClient).QueryRowContext(ctx, k.conv, k.sender, k.client))
		if err == nil {
			existing.render(r.sender)
			results[i] = sendRes{msg: existing}
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		seq, err := w.number(ctx, tx, r, now)
		var refused *plaza.Error
		if errors.As(err, &refused) {
			results[i] = sendRes{err: err}
			continue
		}
		if err != nil {
			return err
		}
		m := Message{
			ID: plaza.NewID(), ConversationID: k.conv, Seq: seq, SenderID: r.sender, ClientID: k.client,
			Kind: r.in.Kind, Text: r.in.Text, MediaID: r.in.MediaID, ReplyTo: r.in.ReplyTo, Mentions: r.in.Mentions, CreatedAt: now,
		}
		_, err = tx.StmtContext(ctx, st.insertMessage).ExecContext(ctx, m.ConversationID, m.Seq, m.ID, m.SenderID, m.ClientID,
			m.Kind, m.Text, optID(m.MediaID), optID(m.ReplyTo), mentionsJSON(m.Mentions), false, now.UnixMicro())
		if err != nil {
			return err
		}
		// Sending reads everything before it.
		if _, err := tx.StmtContext(ctx, st.markRead).ExecContext(ctx, m.ConversationID, m.SenderID, m.Seq); err != nil {
			return err
		}
		ids, ok := members[k.conv]
		if !ok {
			if ids, err = stmtIDs(ctx, tx.StmtContext(ctx, st.memberIDs), k.conv); err != nil {
				return err
			}
			members[k.conv] = ids
		}
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		created = append(created, stored{msg: m, data: data, members: ids})
		results[i] = sendRes{msg: m, created: true}
	}
	if len(created) == 0 {
		return nil
	}

	var rows []events.Event
	for _, c := range created {
		for _, a := range c.members {
			rows = append(rows, events.Event{Account: a, Type: events.MessageCreated, Conversation: c.msg.ConversationID, Ref: c.msg.ID, Data: c.data})
		}
	}
	storedEvs, err := w.s.evlog.Append(ctx, tx, rows)
	if err != nil {
		return err
	}
	*evs = append(*evs, storedEvs...)
	return nil
}

func stmtIDs(ctx context.Context, st *sql.Stmt, conv plaza.ID) ([]plaza.ID, error) {
	rows, err := st.QueryContext(ctx, conv)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []plaza.ID
	for rows.Next() {
		var id plaza.ID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// isRetryable reports a PostgreSQL deadlock or serialization failure.
func isRetryable(err error) bool {
	type coded interface{ SQLState() string }
	var c coded
	if errors.As(err, &c) {
		switch c.SQLState() {
		case "40P01", "40001":
			return true
		}
	}
	return false
}
