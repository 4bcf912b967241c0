package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestWriterBatchAcrossConversationsAndVersions commits one batch that
// mixes what the writer numbers in one statement (a conversation whose
// sends were all checked at the current members_version) with what it
// must number one by one (sends checked before a member was removed,
// alone or next to current ones), a send that is refused, one retried in
// the batch and one already stored. Every conversation's seq must stay
// gap-free in queue order, and a removed member, whose conversation the
// writer had already cached members of, must get none of the new
// messages.
func TestWriterBatchAcrossConversationsAndVersions(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b, c, d := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol"), e.account(t, "dave")
		direct := e.direct(t, a, b)
		other := e.direct(t, c, d)
		mixed := e.group(t, a, "mixed", b, c)
		stale := e.group(t, a, "stale", b, d)
		// Each group's members are now cached at version 0.
		e.send(t, a, mixed.ID, "before")
		e.send(t, a, stale.ID, "before")
		old, _, err := e.svc.Send(ctx, a, SendInput{ConversationID: direct.ID, ClientID: "old", Kind: KindText, Text: "old"})
		mustNil(t, err, "send old")
		for _, rm := range []struct{ conv, who plaza.ID }{{mixed.ID, c}, {stale.ID, d}} {
			if _, err := e.svc.RemoveMember(ctx, a, rm.conv, rm.who); err != nil {
				t.Fatalf("remove member: %v", err)
			}
		}

		req := func(sender, conv plaza.ID, version int64, client string) *sendReq {
			return &sendReq{sender: sender, version: version, res: make(chan sendRes, 1),
				in: SendInput{ConversationID: conv, ClientID: client, Kind: KindText, Text: client}}
		}
		batch := []*sendReq{
			req(a, direct.ID, 0, "d1"),
			req(a, mixed.ID, 0, "m1"), // checked before carol left
			req(a, stale.ID, 0, "s1"),
			req(b, direct.ID, 0, "d2"),
			req(c, mixed.ID, 0, "m2"),  // carol, checked before she left
			req(a, direct.ID, 0, "d1"), // a retry within the batch
			req(b, mixed.ID, 1, "m3"),
			req(c, other.ID, 0, "o1"),
			req(b, stale.ID, 0, "s2"),
			req(a, direct.ID, 0, "old"), // already stored
			req(a, direct.ID, 0, "d3"),
		}
		e.svc.w.commit(batch)
		got := map[string]sendRes{}
		for i, r := range batch {
			res := <-r.res
			if i == 5 {
				if res.err != nil || res.created || res.msg.ID != got["d1"].msg.ID || !bytes.Equal(res.json, got["d1"].json) {
					t.Errorf("retry within the batch = %+v, want the first d1 %+v, not created, and its JSON", res, got["d1"].msg)
				}
				continue
			}
			got[r.in.ClientID] = res
		}
		// A created message comes with its JSON, as json.Marshal gives
		// it (the stream acks with it); other outcomes without.
		for client, res := range got {
			if !res.created {
				if res.json != nil {
					t.Errorf("send %s, not created, has JSON %s", client, res.json)
				}
				continue
			}
			if want, err := json.Marshal(res.msg); err != nil || !bytes.Equal(res.json, want) {
				t.Errorf("send %s: JSON\n%s\nwant\n%s (%v)", client, res.json, want, err)
			}
		}
		if res := got["m2"]; !isCode(res.err, plaza.ENotFound) {
			t.Errorf("send by a removed member = %+v, want not_found", res)
		}
		if res := got["old"]; res.err != nil || res.created || res.msg.ID != old.ID {
			t.Errorf("stored client_id = %+v, want message %s, not created", res, old.ID)
		}
		for _, w := range []struct {
			client string
			seq    int64
		}{{"d1", 2}, {"d2", 3}, {"d3", 4}, {"m1", 2}, {"m3", 3}, {"s1", 2}, {"s2", 3}, {"o1", 1}} {
			res := got[w.client]
			if res.err != nil || !res.created || res.msg.Seq != w.seq || res.msg.Text != w.client {
				t.Errorf("send %s = seq %d created %v text %q err %v, want seq %d, created", w.client, res.msg.Seq, res.created, res.msg.Text, res.err, w.seq)
			}
		}
		wantSeqs(t, e.history(t, a, direct.ID), 1, 4)
		wantSeqs(t, e.history(t, a, mixed.ID), 1, 3)
		wantSeqs(t, e.history(t, a, stale.ID), 1, 3)
		wantSeqs(t, e.history(t, c, other.ID), 1, 1)

		texts := func(account plaza.ID) map[string]bool {
			out := map[string]bool{}
			for _, ev := range ofType(e.syncAll(t, account, 0), events.MessageCreated) {
				out[ev.message(t).Text] = true
			}
			return out
		}
		if got := texts(c); got["m1"] || got["m3"] || !got["o1"] {
			t.Errorf("carol's messages = %v, want o1 and none of the group she left", got)
		}
		if got := texts(d); got["s1"] || got["s2"] || !got["o1"] {
			t.Errorf("dave's messages = %v, want o1 and none of the group he left", got)
		}
		if got := texts(b); !got["m1"] || !got["m3"] || !got["s1"] || !got["s2"] || !got["d3"] {
			t.Errorf("bob's messages = %v, want m1, m3, s1, s2 and d3", got)
		}

		// Sending reads everything before it, once per sender and
		// conversation however many sends the batch has.
		for _, w := range []struct {
			conv, who plaza.ID
			seq       int64
		}{{direct.ID, a, 4}, {direct.ID, b, 3}, {mixed.ID, b, 3}, {stale.ID, b, 3}} {
			var read int64
			err := db.Read().QueryRowContext(ctx, `SELECT read_seq FROM members WHERE conversation_id = $1 AND account_id = $2`, w.conv, w.who).Scan(&read)
			if err != nil || read != w.seq {
				t.Errorf("read_seq of %s in %s = %d (%v), want %d", w.who, w.conv, read, err, w.seq)
			}
		}
	})
}

// TestTakeStopsAtItsBounds fills batches from a queue of sends: a batch
// stops at MaxBatch sends or once its events (sends times members) reach
// MaxBatchEvents, counting a direct send as two, a group send as its
// members cached at the send's version, or as the most a group may have.
func TestTakeStopsAtItsBounds(t *testing.T) {
	const cached, uncached, stale = 10, 11, 12 // group conversations
	w := &writer{s: &Service{cfg: Config{MaxBatch: 100, MaxBatchEvents: 7, MaxGroupMembers: 5}},
		memberCache: map[plaza.ID]cachedMembers{cached: {version: 4, ids: []plaza.ID{1, 2, 3}}, stale: {version: 1, ids: []plaza.ID{1, 2, 3}}}}
	direct := func() *sendReq { return &sendReq{direct: true} }
	group := func(conv plaza.ID) *sendReq { return &sendReq{in: SendInput{ConversationID: conv}, version: 4} }
	for _, c := range []struct {
		name     string
		maxBatch int
		queued   []*sendReq
		want     int
	}{
		{"direct: 2+2+2+2 reaches 7", 100, []*sendReq{direct(), direct(), direct(), direct(), direct(), direct()}, 4},
		{"cached group: 3+3+3 reaches 7", 100, []*sendReq{group(cached), group(cached), group(cached), group(cached)}, 3},
		{"uncached group: 5+5", 100, []*sendReq{group(uncached), group(uncached), group(uncached)}, 2},
		{"cached at another version: 5+5", 100, []*sendReq{group(stale), group(stale), group(stale)}, 2},
		{"mixed: 2+3+5", 100, []*sendReq{direct(), group(cached), group(uncached), direct()}, 3},
		{"MaxBatch first", 2, []*sendReq{direct(), direct(), direct()}, 2},
		{"the queue runs dry", 100, []*sendReq{direct(), direct()}, 2},
	} {
		w.s.cfg.MaxBatch = c.maxBatch
		w.reqs = make(chan *sendReq, len(c.queued))
		for _, r := range c.queued[1:] {
			w.reqs <- r
		}
		if got := len(w.take(nil, c.queued[0])); got != c.want {
			t.Errorf("%s: a batch of %d, want %d", c.name, got, c.want)
		}
	}
}

// TestWaitJSON checks what a stream acks with: a created message as the
// bytes its message.created event carries, a send of a stored client_id
// as the stored message.
func TestWaitJSON(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		in := SendInput{ConversationID: conv.ID, ClientID: "j1", Kind: KindText, Text: "<中文> & \u2028 \"quoted\""}
		q, err := e.svc.Queue(ctx, a, in)
		mustNil(t, err, "queue")
		created, err := q.WaitJSON()
		mustNil(t, err, "send")
		evs := ofType(e.syncAll(t, b, 0), events.MessageCreated)
		if len(evs) != 1 || !bytes.Equal(evs[0].Data, created) {
			t.Fatalf("bob's message.created = %v, want one with the ack's data %s", evs, created)
		}
		var m Message
		mustNil(t, json.Unmarshal(created, &m), "decode")
		if m.Text != in.Text || m.SenderID != a || m.Seq != 1 {
			t.Errorf("acked message = %+v", m)
		}

		q, err = e.svc.Queue(ctx, a, in) // the same client_id again
		mustNil(t, err, "queue again")
		again, err := q.WaitJSON()
		mustNil(t, err, "send again")
		stored, _, err := e.svc.Send(ctx, a, in)
		mustNil(t, err, "send a third time")
		if want, _ := json.Marshal(stored); !bytes.Equal(again, want) {
			t.Errorf("the stored message's JSON = %s, want %s", again, want)
		}
		var m2 Message
		mustNil(t, json.Unmarshal(again, &m2), "decode again")
		if m2.ID != m.ID {
			t.Errorf("a send of a stored client_id acked message %s, want %s", m2.ID, m.ID)
		}
	})
}

// TestWriterManyConversationsInOneBatch commits more conversations and
// messages than one multi-row statement covers, so the batch takes
// several statements of different sizes.
func TestWriterManyConversationsInOneBatch(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		users := e.accountsN(t, "user", 2*maxRows+6)
		convs := e.directPairs(t, users)
		var batch []*sendReq
		for round := range 3 {
			for _, c := range convs {
				batch = append(batch, &sendReq{sender: c.MemberIDs[round%2], res: make(chan sendRes, 1),
					in: SendInput{ConversationID: c.ID, ClientID: fmt.Sprint(round), Kind: KindText, Text: fmt.Sprint(round)}})
			}
		}
		e.svc.w.commit(batch)
		for i, r := range batch {
			if res := <-r.res; res.err != nil || !res.created {
				t.Fatalf("send %d = %+v, want created", i, res)
			}
		}
		for _, c := range convs {
			msgs := e.history(t, c.MemberIDs[0], c.ID)
			wantSeqs(t, msgs, 1, 3)
			for i, m := range msgs {
				if m.Text != fmt.Sprint(i) {
					t.Fatalf("conversation %s message %d = %q, want %q (queue order)", c.ID, m.Seq, m.Text, fmt.Sprint(i))
				}
			}
		}
		for _, u := range users[:4] {
			if n := len(ofType(e.syncAll(t, u, 0), events.MessageCreated)); n != 3 {
				t.Errorf("account %s has %d message.created events, want 3", u, n)
			}
		}
	})
}

// TestTwoWritersOnOneDatabase runs two services on one database, as two
// nodes do, sending into the same conversations at once: on PostgreSQL
// each batch locks all of its conversations before numbering them, and in
// ascending order, so the two writers wait for each other but cannot
// deadlock; seqs stay gap-free and every send succeeds.
func TestTwoWritersOnOneDatabase(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		b := bus.NewLocal("second")
		t.Cleanup(func() { b.Close() })
		other, err := NewService(ctx, db, b, e.accounts, e.ids, DefaultConfig(), slog.New(slog.NewTextHandler(io.Discard, nil)))
		mustNil(t, err, "second service")
		t.Cleanup(other.Close)

		const convs, each = 16, 12
		people := e.accountsN(t, "p", 2*convs)
		cs := make([]Conversation, convs)
		for i := range cs {
			cs[i] = e.direct(t, people[2*i], people[2*i+1])
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*convs*each)
		for node, svc := range []*Service{e.svc, other} {
			for k := range convs {
				// One node walks the conversations up, the other down.
				i := k
				if node == 1 {
					i = convs - 1 - k
				}
				wg.Go(func() {
					for n := range each {
						in := SendInput{ConversationID: cs[i].ID, ClientID: fmt.Sprint(node, "-", n), Kind: KindText, Text: "hi"}
						if _, _, err := svc.Send(ctx, people[2*i+node], in); err != nil {
							errs <- fmt.Errorf("node %d, conversation %d: %w", node, i, err)
						}
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for i, c := range cs {
			wantSeqs(t, e.history(t, people[2*i], c.ID), 1, 2*each)
		}
	})
}
