package chat

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
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
	m     *writerMetrics

	// memberCache is owned by the goroutine that runs batches.
	memberCache map[plaza.ID]cachedMembers

	// mu guards closed and the send side of reqs: submit holds it for
	// reading while queueing, close for writing while closing the channel.
	mu     sync.RWMutex
	closed bool
}

type sendReq struct {
	sender  plaza.ID
	in      SendInput
	version int64 // members_version when the send was checked
	direct  bool  // to a direct conversation: two members
	res     chan sendRes
	// start is when the send entered the service; requestID names the
	// request that made it, for its events on the bus.
	start     time.Time
	requestID string
}

// answer gives r its outcome.
func (w *writer) answer(r *sendReq, res sendRes) {
	w.m.answered(r.start)
	r.res <- res
}

type sendRes struct {
	msg     Message
	created bool
	err     error
	// json is msg as JSON when the batch encoded it for its
	// message.created event (nil otherwise): the same bytes answer the
	// stream's ack (WaitJSON) instead of a second encoding.
	json json.RawMessage
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
	w.m = newWriterMetrics(w)
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
		batch = w.take(batch[:0], first)
		w.commit(batch)
	}
}

// take returns batch with first and the sends waiting after it, up to
// MaxBatch sends and MaxBatchEvents events (one past it, at most: a send
// is not split).
func (w *writer) take(batch []*sendReq, first *sendReq) []*sendReq {
	batch = append(batch, first)
	left := w.s.cfg.MaxBatchEvents - w.fanout(first)
	for len(batch) < w.s.cfg.MaxBatch && left > 0 {
		select {
		case r, ok := <-w.reqs:
			if !ok {
				return batch
			}
			batch = append(batch, r)
			left -= w.fanout(r)
		default:
			return batch
		}
	}
	return batch
}

// fanout is how many events r will store, one per member: two for a
// direct conversation, the members the writer has cached at r's version
// for a group, or else as many as a group may have.
func (w *writer) fanout(r *sendReq) int {
	if r.direct {
		return 2
	}
	if c, ok := w.memberCache[r.in.ConversationID]; ok && c.version == r.version {
		return len(c.ids)
	}
	return w.s.cfg.MaxGroupMembers
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
	res := q.wait()
	return res.msg, res.created, res.err
}

// WaitJSON is Wait for a caller that passes the message on as JSON, such
// as a stream's ack: the message comes encoded as json.Marshal would, but
// a message this send created comes as the bytes of its message.created
// event, already encoded in the batch. Call it instead of Wait, once.
func (q *QueuedSend) WaitJSON() (json.RawMessage, error) {
	res := q.wait()
	if res.err != nil {
		return nil, res.err
	}
	if res.json != nil {
		return res.json, nil
	}
	return json.Marshal(res.msg)
}

func (q *QueuedSend) wait() sendRes {
	defer q.limit.Stop()
	select {
	case res := <-q.r.res:
		return res
	case <-q.limit.C:
		return sendRes{err: errUnavailable}
	}
}

// submit queues a send, waiting at most SendTimeout for room in the
// queue. version is the conversation's members_version read when the
// send was checked; start is when the send entered the service.
func (w *writer) submit(ctx context.Context, sender plaza.ID, in SendInput, kind string, version int64, start time.Time) (*QueuedSend, error) {
	r := &sendReq{sender: sender, in: in, version: version, direct: kind == Direct, res: make(chan sendRes, 1),
		start: start, requestID: bus.RequestID(ctx)}
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
	// each statement. On SQLite the statements, BEGIN and COMMIT run
	// without it, and it is checked again before COMMIT (see
	// sqldb.DB.InTxHeld): there a statement cannot stall
	// (busy_timeout bounds lock waits), and the driver would start a
	// goroutine per statement to watch the context, which on the single
	// writer cost a fifth of the throughput.
	qctx := ctx
	if w.s.db.Engine == sqldb.SQLite {
		qctx = context.WithoutCancel(ctx)
	}
	tx := func() error {
		start := time.Now()
		err := w.s.db.InTxHeld(ctx, func(tx *sql.Tx) error {
			evs = evs[:0]
			return w.apply(qctx, tx, batch, results, &evs)
		})
		w.m.commit.Observe(time.Since(start).Seconds())
		return err
	}
	err := tx()
	// On PostgreSQL another node's writer may (a) pick this batch as a
	// deadlock victim, locking the same rows in another order, or (b)
	// commit the same client_id between this batch's lookup and insert (a
	// client retrying through another node). Running the batch again
	// resolves both: the second lookup finds the committed message.
	for attempt := 0; attempt < 3 && err != nil && (isRetryable(err) || sqldb.IsUniqueViolation(err)); attempt++ {
		err = tx()
	}
	if err != nil && ctx.Err() != nil {
		// The store stalled: splitting would only wait again per half.
		for _, r := range batch {
			w.answer(r, sendRes{err: errUnavailable})
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
			w.answer(r, sendRes{err: err})
		}
		return
	}
	w.m.batch.Observe(float64(len(batch)))
	for i, r := range batch {
		w.answer(r, results[i])
	}
	if w.s.log.Enabled(ctx, slog.LevelDebug) {
		// Joins a request to its message, whose id the receiving
		// nodes' frames and logs carry.
		for i, r := range batch {
			if res := results[i]; res.created && r.requestID != "" {
				w.s.log.Debug("message stored", "request_id", r.requestID, "message_id", res.msg.ID.String(),
					"conversation_id", res.msg.ConversationID.String(), "seq", res.msg.Seq)
			}
		}
	}
	w.s.publish(context.Background(), evs)
}

// apply runs a batch in passes, each a few multi-row statements for the
// whole batch rather than a few per message, and every batch takes its
// locks in one global order (conversations ascending, then member rows
// of those conversations, then sync heads ascending), so writers on
// several nodes cannot deadlock each other:
//
//  1. deduplicate: the same send twice in the batch is answered by the
//     first, and one look-up finds the sends whose client_id is stored;
//  2. in conversation order (stable, so one conversation's sends keep
//     their queue order): number the new sends, one bump per
//     conversation (see numberAll);
//  3. store the messages and move each sender's read position;
//  4. per member account, ascending: reserve as many event numbers as the
//     batch has events for that account with one head bump, and store the
//     events, numbered in message order (events.Log.Append).
func (w *writer) apply(ctx context.Context, tx *sql.Tx, batch []*sendReq, results []sendRes, evs *[]events.Pending) error {
	now := w.s.now()
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return batch[order[a]].in.ConversationID < batch[order[b]].in.ConversationID })

	// 1. first[i] is the send that answers batch[i]: itself, or the
	// earlier one with the same key (a fast retry).
	first := make([]int, len(batch))
	seen := make(map[sendKey]int, len(batch))
	keys := make([]int, 0, len(batch))
	for _, i := range order {
		k := batch[i].key()
		if j, dup := seen[k]; dup {
			first[i] = j
			continue
		}
		seen[k], first[i] = i, i
		keys = append(keys, i)
	}
	stored, err := w.findStored(ctx, tx, batch, keys)
	if err != nil {
		return err
	}
	todo := make([]int, 0, len(keys))
	for _, i := range keys {
		if m, ok := stored[batch[i].key()]; ok {
			m.render(batch[i].sender)
			results[i] = sendRes{msg: m}
			continue
		}
		// A batch may run again (a retry, a split): nothing of an
		// earlier run counts.
		results[i] = sendRes{}
		todo = append(todo, i)
	}

	todo, err = w.dropReleasedMedia(ctx, tx, batch, todo, results)
	if err != nil {
		return err
	}

	// 2.
	seqs := make([]int64, len(batch))
	versions := make(map[plaza.ID]int64)
	if err := w.numberAll(ctx, tx, batch, todo, now, results, seqs, versions); err != nil {
		return err
	}

	// 3.
	msgs := make([]Message, 0, len(todo))
	reqIDs := make([]string, 0, len(todo)) // of msgs[k]: reqIDs[k]
	sends := make([]int, 0, len(todo))     // of msgs[k]: batch[sends[k]]
	for _, i := range todo {
		if results[i].err != nil {
			continue
		}
		r := batch[i]
		m := Message{
			ID: plaza.NewID(), ConversationID: r.in.ConversationID, Seq: seqs[i], SenderID: r.sender, ClientID: r.in.ClientID,
			Kind: r.in.Kind, Text: r.in.Text, MediaID: r.in.MediaID, ReplyTo: r.in.ReplyTo, Mentions: r.in.Mentions, CreatedAt: now,
		}
		msgs = append(msgs, m)
		reqIDs = append(reqIDs, r.requestID)
		sends = append(sends, i)
		results[i] = sendRes{msg: m, created: true}
	}
	if len(msgs) > 0 {
		if err := w.store(ctx, tx, msgs, now); err != nil {
			return err
		}
		encoded, err := w.appendEvents(ctx, tx, msgs, reqIDs, versions, evs)
		if err != nil {
			return err
		}
		for k, i := range sends {
			results[i].json = encoded[k]
		}
	}
	for i, j := range first {
		if j != i {
			// The same sender's same message: the same JSON answers it.
			results[i] = sendRes{msg: results[j].msg, err: results[j].err, json: results[j].json}
		}
	}
	return nil
}

// dropReleasedMedia refuses the sends in todo whose media item was
// deleted after the send was checked, and returns the others. On
// PostgreSQL the items stay locked until the commit, so that a delete
// racing the send waits for the message and then keeps the item for it
// (its sweep removes only what no message carries); on SQLite the writer
// lock already orders the two.
func (w *writer) dropReleasedMedia(ctx context.Context, tx *sql.Tx, batch []*sendReq, todo []int, results []sendRes) ([]int, error) {
	var ids []any
	for _, i := range todo {
		if m := batch[i].in.MediaID; m != nil {
			ids = append(ids, *m)
		}
	}
	if len(ids) == 0 {
		return todo, nil
	}
	const most = 512 // ids per query: InList pads to a power of two
	live := make(map[plaza.ID]bool, len(ids))
	for lo := 0; lo < len(ids); lo += most {
		list, args := w.s.db.InList(1, ids[lo:min(lo+most, len(ids))])
		q := `SELECT id FROM media WHERE id IN (` + list + `) AND released_at IS NULL`
		if w.st.pg != nil {
			q += ` FOR SHARE`
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("check attached media: %w", err)
		}
		for rows.Next() {
			var id plaza.ID
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			live[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	kept := make([]int, 0, len(todo))
	for _, i := range todo {
		if m := batch[i].in.MediaID; m != nil && !live[*m] {
			// The answer the check before queueing gives a deleted item.
			results[i] = sendRes{err: plaza.Invalid("media_id", "must be media you uploaded")}
			continue
		}
		kept = append(kept, i)
	}
	return kept, nil
}

// sendKey is what makes a send idempotent.
type sendKey struct {
	conv, sender plaza.ID
	client       string
}

func (r *sendReq) key() sendKey { return sendKey{r.in.ConversationID, r.sender, r.in.ClientID} }

// findStored returns the stored messages among the keys of batch[i] for
// i in keys.
func (w *writer) findStored(ctx context.Context, tx *sql.Tx, batch []*sendReq, keys []int) (map[sendKey]Message, error) {
	var found map[sendKey]Message
	args := make([]any, 0, 3*min(len(keys), maxRows))
	query := func(st *sql.Stmt) error {
		rows, err := tx.StmtContext(ctx, st).QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return err
			}
			if found == nil {
				found = make(map[sendKey]Message)
			}
			found[sendKey{m.ConversationID, m.SenderID, m.ClientID}] = m
		}
		return rows.Err()
	}
	if w.st.pg != nil {
		if len(keys) == 0 {
			return nil, nil
		}
		convs, senders, clients := make([]int64, len(keys)), make([]int64, len(keys)), make([]string, len(keys))
		for j, i := range keys {
			r := batch[i]
			convs[j], senders[j], clients[j] = int64(r.in.ConversationID), int64(r.sender), r.in.ClientID
		}
		args = append(args, convs, senders, clients)
		return found, query(w.st.pg.findByClients)
	}
	err := w.st.findByClients.Each(len(keys), func(st *sql.Stmt, lo, hi int) error {
		args = args[:0]
		for _, i := range keys[lo:hi] {
			r := batch[i]
			args = append(args, r.in.ConversationID, r.sender, r.in.ClientID)
		}
		return query(st)
	})
	return found, err
}

// convRun is the sends todo[lo:hi] of one conversation, all checked at
// one members_version.
type convRun struct {
	conv    plaza.ID
	version int64
	lo, hi  int
}

// numberAll gives each send batch[i], i in todo (in conversation order),
// its seq in seqs, or its refusal in results; versions gets the
// members_version each conversation was numbered at. The sends of a
// conversation that were all checked at one members_version take their
// numbers with one bump, many conversations to a statement; the others,
// and those whose membership moved since, are numbered one by one,
// checked again (see number). On PostgreSQL one statement first locks
// all the batch's conversations in ascending order (lockConvs): a
// multi-row UPDATE locks in whatever order its plan visits the rows, but
// rows this transaction already holds cost it no wait.
func (w *writer) numberAll(ctx context.Context, tx *sql.Tx, batch []*sendReq, todo []int, now time.Time, results []sendRes, seqs []int64, versions map[plaza.ID]int64) error {
	one := func(i int) error {
		seq, version, err := w.number(ctx, tx, batch[i], now)
		var refused *plaza.Error
		if errors.As(err, &refused) {
			results[i] = sendRes{err: err}
			return nil
		}
		if err != nil {
			return err
		}
		seqs[i] = seq
		versions[batch[i].in.ConversationID] = version
		return nil
	}
	if w.st.pg != nil && len(todo) > 0 {
		if err := w.lockConvs(ctx, tx, batch, todo); err != nil {
			return err
		}
	}
	var runs []convRun
	last := make(map[plaza.ID]int64)
	args := make([]any, 0, 1+3*min(len(todo), maxRows))
	query := func(st *sql.Stmt) error {
		rows, err := tx.StmtContext(ctx, st).QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var conv plaza.ID
			var seq int64
			if err := rows.Scan(&conv, &seq); err != nil {
				return err
			}
			last[conv] = seq
		}
		return rows.Err()
	}
	flush := func() error {
		if len(runs) == 0 {
			return nil
		}
		clear(last)
		var err error
		if w.st.pg != nil {
			convs, counts, versions := make([]int64, len(runs)), make([]int64, len(runs)), make([]int64, len(runs))
			for j, c := range runs {
				convs[j], counts[j], versions[j] = int64(c.conv), int64(c.hi-c.lo), c.version
			}
			args = append(args[:0], convs, counts, versions, now.UnixMicro())
			err = query(w.st.pg.bumpConvs)
		} else {
			err = w.st.bumpConvs.Each(len(runs), func(st *sql.Stmt, lo, hi int) error {
				args = append(args[:0], now.UnixMicro())
				for _, c := range runs[lo:hi] {
					args = append(args, c.conv, c.hi-c.lo, c.version)
				}
				return query(st)
			})
		}
		if err != nil {
			return err
		}
		for _, c := range runs {
			top, ok := last[c.conv]
			if !ok {
				// The membership moved since these sends were checked.
				for _, i := range todo[c.lo:c.hi] {
					if err := one(i); err != nil {
						return err
					}
				}
				continue
			}
			next := top - int64(c.hi-c.lo)
			for _, i := range todo[c.lo:c.hi] {
				next++
				seqs[i] = next
			}
			versions[c.conv] = c.version
		}
		runs = runs[:0]
		return nil
	}
	for lo := 0; lo < len(todo); {
		c := convRun{conv: batch[todo[lo]].in.ConversationID, version: batch[todo[lo]].version, lo: lo, hi: lo + 1}
		uniform := true
		for ; c.hi < len(todo) && batch[todo[c.hi]].in.ConversationID == c.conv; c.hi++ {
			uniform = uniform && batch[todo[c.hi]].version == c.version
		}
		lo = c.hi
		if uniform {
			runs = append(runs, c)
			continue
		}
		// Sends checked at different versions (a membership change
		// between them): one at a time, after the conversations before.
		if err := flush(); err != nil {
			return err
		}
		for _, i := range todo[c.lo:c.hi] {
			if err := one(i); err != nil {
				return err
			}
		}
	}
	return flush()
}

// lockConvs locks the conversations of the sends batch[i], i in todo, in
// ascending order (PostgreSQL). todo is in conversation order.
func (w *writer) lockConvs(ctx context.Context, tx *sql.Tx, batch []*sendReq, todo []int) error {
	convs := make([]int64, 0, len(todo))
	for _, i := range todo {
		if c := int64(batch[i].in.ConversationID); len(convs) == 0 || convs[len(convs)-1] != c {
			convs = append(convs, c)
		}
	}
	rows, err := tx.StmtContext(ctx, w.st.pg.lockConvs).QueryContext(ctx, convs)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// store inserts msgs and moves each sender's read position to their last
// message: sending reads everything before it.
func (w *writer) store(ctx context.Context, tx *sql.Tx, msgs []Message, now time.Time) error {
	var err error
	if w.st.pg != nil {
		err = w.insertPG(ctx, tx, msgs, now)
	} else {
		args := make([]any, 0, 12*min(len(msgs), maxRows))
		err = w.st.insertMessage.Each(len(msgs), func(st *sql.Stmt, lo, hi int) error {
			args = args[:0]
			for _, m := range msgs[lo:hi] {
				args = append(args, m.ConversationID, m.Seq, m.ID, m.SenderID, m.ClientID,
					m.Kind, m.Text, optID(m.MediaID), optID(m.ReplyTo), mentionsJSON(m.Mentions), false, now.UnixMicro())
			}
			_, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
			return err
		})
	}
	if err != nil {
		return err
	}
	// msgs are in conversation order and, within one, in seq order: a
	// sender's last message in a conversation has their highest seq.
	type reader struct{ conv, sender plaza.ID }
	at := make(map[reader]int, len(msgs))
	reads := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		k := reader{m.ConversationID, m.SenderID}
		if j, ok := at[k]; ok {
			reads[j].Seq = m.Seq
			continue
		}
		at[k] = len(reads)
		reads = append(reads, Message{ConversationID: m.ConversationID, SenderID: m.SenderID, Seq: m.Seq})
	}
	if w.st.pg != nil {
		convs, senders, seqs := make([]int64, len(reads)), make([]int64, len(reads)), make([]int64, len(reads))
		for j, m := range reads {
			convs[j], senders[j], seqs[j] = int64(m.ConversationID), int64(m.SenderID), m.Seq
		}
		_, err := tx.StmtContext(ctx, w.st.pg.markReads).ExecContext(ctx, convs, senders, seqs)
		return err
	}
	args := make([]any, 0, 3*min(len(reads), maxRows))
	return w.st.markReads.Each(len(reads), func(st *sql.Stmt, lo, hi int) error {
		args = args[:0]
		for _, m := range reads[lo:hi] {
			args = append(args, m.ConversationID, m.SenderID, m.Seq)
		}
		_, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		return err
	})
}

// insertPG inserts msgs with one statement over arrays (PostgreSQL).
func (w *writer) insertPG(ctx context.Context, tx *sql.Tx, msgs []Message, now time.Time) error {
	n := len(msgs)
	convs, seqs, ids, senders := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	clients, kinds, texts, mentions := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	media, replies := make([]*int64, n), make([]*int64, n)
	for j, m := range msgs {
		convs[j], seqs[j], ids[j], senders[j] = int64(m.ConversationID), m.Seq, int64(m.ID), int64(m.SenderID)
		clients[j], kinds[j], texts[j], mentions[j] = m.ClientID, m.Kind, m.Text, mentionsJSON(m.Mentions)
		media[j], replies[j] = (*int64)(m.MediaID), (*int64)(m.ReplyTo)
	}
	_, err := tx.StmtContext(ctx, w.st.pg.insertMessage).ExecContext(ctx,
		convs, seqs, ids, senders, clients, kinds, texts, media, replies, mentions, now.UnixMicro())
	return err
}

// appendEvents stores a message.created event for every member of each
// message's conversation; the events of msgs[k] name request reqIDs[k].
// It returns msgs[k] as JSON, the data of its events, in encoded[k].
func (w *writer) appendEvents(ctx context.Context, tx *sql.Tx, msgs []Message, reqIDs []string, versions map[plaza.ID]int64, evs *[]events.Pending) ([]json.RawMessage, error) {
	var rows []events.Event
	encoded := make([]json.RawMessage, len(msgs))
	for k, m := range msgs {
		ids, err := w.members(ctx, tx, m.ConversationID, versions[m.ConversationID])
		if err != nil {
			return nil, err
		}
		// Room for the fields besides the text, which take about 250
		// bytes with every ID at full length.
		data, err := m.appendJSON(make([]byte, 0, 320+len(m.Text)))
		if err != nil {
			return nil, err
		}
		encoded[k] = data
		if rows == nil {
			// Direct conversations' two members each; larger groups grow
			// it (sized by the first conversation, a group of 500 first
			// would reserve 500 for every message).
			rows = make([]events.Event, 0, 2*len(msgs))
		}
		for _, a := range ids {
			rows = append(rows, events.Event{Account: a, Type: events.MessageCreated, Conversation: m.ConversationID, Ref: m.ID, Data: data, RequestID: reqIDs[k]})
		}
	}
	storedEvs, err := w.s.evlog.Append(ctx, tx, rows)
	if err != nil {
		return nil, err
	}
	*evs = append(*evs, storedEvs...)
	return encoded, nil
}

// members returns the members of conv at members_version version, which
// the caller's transaction holds (it numbered a send at that version):
// every change of members bumps the version, so what was read at a
// version stays true of it, on every node.
func (w *writer) members(ctx context.Context, tx *sql.Tx, conv plaza.ID, version int64) ([]plaza.ID, error) {
	if c, ok := w.memberCache[conv]; ok && c.version == version {
		return c.ids, nil
	}
	ids, err := stmtIDs(ctx, tx.StmtContext(ctx, w.st.memberIDs), conv)
	if err != nil {
		return nil, err
	}
	if w.memberCache == nil || len(w.memberCache) >= memberCacheMax {
		w.memberCache = make(map[plaza.ID]cachedMembers)
	}
	w.memberCache[conv] = cachedMembers{version: version, ids: ids}
	return ids, nil
}

// cachedMembers is a conversation's members at a members_version.
type cachedMembers struct {
	version int64
	ids     []plaza.ID
}

// memberCacheMax bounds the writer's member cache; past it, the cache
// starts over.
const memberCacheMax = 100_000

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
