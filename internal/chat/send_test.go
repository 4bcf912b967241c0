package chat

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestSendIdempotentOnClientID(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)

		in := SendInput{ConversationID: conv.ID, ClientID: "uuid-1", Kind: KindText, Text: "hello"}
		first, created, err := e.svc.Send(ctx, a, in)
		mustNil(t, err, "first send")
		if !created {
			t.Fatalf("first send: created = false, want true")
		}
		if first.Seq != 1 || first.SenderID != a || first.ConversationID != conv.ID || first.Text != "hello" || first.ClientID != "uuid-1" {
			t.Fatalf("first send = %+v, want seq 1 from %s in %s with text hello", first, a, conv.ID)
		}

		// A retry, even with other content and padded client_id, returns
		// the stored message as it is.
		retry := in
		retry.Text = "changed"
		retry.ClientID = "  uuid-1 "
		again, created, err := e.svc.Send(ctx, a, retry)
		mustNil(t, err, "retry")
		if created {
			t.Errorf("retry: created = true, want false")
		}
		if again.ID != first.ID || again.Seq != first.Seq || again.Text != "hello" {
			t.Errorf("retry = id %s seq %d text %q, want id %s seq %d text hello", again.ID, again.Seq, again.Text, first.ID, first.Seq)
		}
		if !again.CreatedAt.Equal(first.CreatedAt) {
			t.Errorf("retry created_at = %v, want %v", again.CreatedAt, first.CreatedAt)
		}

		// The client_id belongs to the sender and the conversation: the
		// other person, or the same device in another conversation, makes
		// a new message.
		fromB, created, err := e.svc.Send(ctx, b, in)
		mustNil(t, err, "send by b with the same client_id")
		if !created || fromB.ID == first.ID || fromB.Seq != 2 {
			t.Errorf("b's send with a's client_id = created %v id %s seq %d, want a new message with seq 2", created, fromB.ID, fromB.Seq)
		}
		c := e.account(t, "carol")
		other := e.direct(t, a, c)
		elsewhere, created, err := e.svc.Send(ctx, a, SendInput{ConversationID: other.ID, ClientID: "uuid-1", Kind: KindText, Text: "hi"})
		mustNil(t, err, "send in another conversation")
		if !created || elsewhere.ID == first.ID || elsewhere.Seq != 1 {
			t.Errorf("same client_id in another conversation = created %v id %s seq %d, want a new message with seq 1", created, elsewhere.ID, elsewhere.Seq)
		}

		wantSeqs(t, e.history(t, a, conv.ID), 1, 2)
		got, err := e.svc.Get(ctx, a, conv.ID)
		mustNil(t, err, "get")
		if got.LastSeq != 2 {
			t.Errorf("last_seq = %d, want 2", got.LastSeq)
		}
		// The retry stored no event: bob's log holds two message.created.
		if n := len(ofType(e.syncAll(t, b, 0), events.MessageCreated)); n != 2 {
			t.Errorf("bob has %d message.created events, want 2", n)
		}
	})
}

func TestSendConcurrentIsGapFree(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		users := e.accountsN(t, "sender", 5)
		conv := e.group(t, users[0], "busy", users[1:]...)

		const total, workers = 200, 10
		var wg sync.WaitGroup
		errs := make(chan error, total)
		for w := range workers {
			wg.Go(func() {
				sender := users[w%len(users)]
				for i := range total / workers {
					_, created, err := e.svc.Send(ctx, sender, SendInput{
						ConversationID: conv.ID, ClientID: fmt.Sprintf("w%d-%d", w, i), Kind: KindText, Text: fmt.Sprintf("message %d from worker %d", i, w),
					})
					if err == nil && !created {
						err = fmt.Errorf("worker %d send %d: created = false", w, i)
					}
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent send: %v", err)
		}

		msgs := e.history(t, users[0], conv.ID)
		wantSeqs(t, msgs, 1, total)
		ids := map[plaza.ID]bool{}
		clients := map[string]bool{}
		for _, m := range msgs {
			if ids[m.ID] {
				t.Errorf("message id %s appears twice", m.ID)
			}
			ids[m.ID] = true
			clients[m.ClientID] = true
		}
		if len(clients) != total {
			t.Errorf("got %d distinct client_ids, want %d", len(clients), total)
		}
		got, err := e.svc.Get(ctx, users[0], conv.ID)
		mustNil(t, err, "get")
		if got.LastSeq != total {
			t.Errorf("last_seq = %d, want %d", got.LastSeq, total)
		}
	})
}

func TestSendConcurrentDuplicatesStoreOne(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)

		// Many goroutines retry one send at once; most land in the same
		// group commit.
		const n = 64
		start := make(chan struct{})
		results := make([]Message, n)
		created := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				results[i], created[i], errs[i] = e.svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: "same", Kind: KindText, Text: "once"})
			})
		}
		close(start)
		wg.Wait()

		var nCreated int
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("send %d: %v", i, errs[i])
			}
			if created[i] {
				nCreated++
			}
			if results[i].ID != results[0].ID || results[i].Seq != 1 {
				t.Errorf("send %d = id %s seq %d, want id %s seq 1", i, results[i].ID, results[i].Seq, results[0].ID)
			}
		}
		if nCreated != 1 {
			t.Errorf("%d sends report created, want exactly 1", nCreated)
		}
		wantSeqs(t, e.history(t, b, conv.ID), 1, 1)
		if n := len(ofType(e.syncAll(t, b, 0), events.MessageCreated)); n != 1 {
			t.Errorf("bob has %d message.created events, want 1", n)
		}
	})
}

// TestWriterDedupesWithinBatch hands the writer one batch holding the
// same send three times, which a burst of retries produces, and checks
// the duplicates get the first one's result without a second row.
func TestWriterDedupesWithinBatch(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)

		req := func(client, text string) *sendReq {
			return &sendReq{sender: a, res: make(chan sendRes, 1),
				in: SendInput{ConversationID: conv.ID, ClientID: client, Kind: KindText, Text: text}}
		}
		batch := []*sendReq{req("x", "one"), req("y", "two"), req("x", "one again"), req("x", "and again"), req("z", "three")}
		// Nothing else sends now, so the writer goroutine is idle and the
		// commit runs alone.
		e.svc.w.commit(batch)

		res := make([]sendRes, len(batch))
		for i, r := range batch {
			res[i] = <-r.res
			if res[i].err != nil {
				t.Fatalf("batch send %d: %v", i, res[i].err)
			}
		}
		for i, want := range []struct {
			seq     int64
			created bool
		}{{1, true}, {2, true}, {1, false}, {1, false}, {3, true}} {
			if res[i].msg.Seq != want.seq || res[i].created != want.created {
				t.Errorf("batch send %d = seq %d created %v, want seq %d created %v", i, res[i].msg.Seq, res[i].created, want.seq, want.created)
			}
		}
		if res[2].msg.ID != res[0].msg.ID || res[3].msg.ID != res[0].msg.ID || res[3].msg.Text != "one" {
			t.Errorf("duplicates = %+v and %+v, want the first send %+v", res[2].msg, res[3].msg, res[0].msg)
		}
		msgs := e.history(t, a, conv.ID)
		wantSeqs(t, msgs, 1, 3)
		if got := []string{msgs[0].Text, msgs[1].Text, msgs[2].Text}; strings.Join(got, ",") != "one,two,three" {
			t.Errorf("stored texts = %q, want one, two, three", got)
		}
		if n := len(ofType(e.syncAll(t, b, 0), events.MessageCreated)); n != 3 {
			t.Errorf("bob has %d message.created events, want 3", n)
		}
	})
}

func TestSendConcurrentConversationsStayGapFree(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		users := e.accountsN(t, "user", 4)
		// Overlapping memberships: every account is in several of them.
		convs := []Conversation{
			e.direct(t, users[0], users[1]),
			e.direct(t, users[2], users[3]),
			e.group(t, users[0], "g1", users[1], users[2]),
			e.group(t, users[3], "g2", users[0], users[1], users[2]),
		}
		const perConv = 40
		var wg sync.WaitGroup
		errs := make(chan error, len(convs)*perConv)
		for ci, c := range convs {
			for _, sender := range c.MemberIDs {
				wg.Go(func() {
					for i := range perConv / len(c.MemberIDs) {
						if _, _, err := e.svc.Send(ctx, sender, SendInput{ConversationID: c.ID, ClientID: fmt.Sprintf("%s-%d", sender, i), Kind: KindText, Text: "hi"}); err != nil {
							errs <- fmt.Errorf("conversation %d: %w", ci, err)
						}
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent send: %v", err)
		}
		for i, c := range convs {
			want := int64(perConv / len(c.MemberIDs) * len(c.MemberIDs))
			t.Run(fmt.Sprintf("conversation %d", i), func(t *testing.T) {
				wantSeqs(t, e.history(t, c.MemberIDs[0], c.ID), 1, want)
			})
		}
		// Each account's log is gap-free too, with every message once.
		for _, u := range users {
			evs := e.syncAll(t, u, 0)
			for i, ev := range evs {
				if got := ev.cursor(t); got != int64(i+1) {
					t.Fatalf("account %s event %d has cursor %d, want %d", u, i, got, i+1)
				}
			}
			var want int
			for _, c := range convs {
				if contains(c.MemberIDs, u) {
					want += perConv / len(c.MemberIDs) * len(c.MemberIDs)
				}
			}
			if n := len(ofType(evs, events.MessageCreated)); n != want {
				t.Errorf("account %s has %d message.created events, want %d", u, n, want)
			}
		}
	})
}

// TestCloseCommitsQueuedSends checks that every send acknowledged before
// Close is stored, and that Close can be called twice.
func TestCloseCommitsQueuedSends(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		var wg sync.WaitGroup
		var mu sync.Mutex
		acked := 0
		for i := range 50 {
			wg.Go(func() {
				if _, _, err := e.svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: fmt.Sprint(i), Kind: KindText, Text: "x"}); err == nil {
					mu.Lock()
					acked++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		e.svc.Close()
		e.svc.Close()
		if acked != 50 {
			t.Fatalf("%d of 50 sends acknowledged, want 50", acked)
		}
		wantSeqs(t, e.history(t, a, conv.ID), 1, 50)
	})
}

// TestSendAfterCloseFails: a request still in flight when the server shuts
// down (httpapi's Shutdown timed out, or a WebSocket frame arriving while
// Main.Close runs) must get an error, not crash the process.
func TestSendAfterCloseFails(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		e.svc.Close()
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("Send after Close panicked: %v; want an error", r)
			}
		}()
		_, _, err := e.svc.Send(context.Background(), a, SendInput{ConversationID: conv.ID, ClientID: "late", Kind: KindText, Text: "x"})
		if err == nil {
			t.Errorf("Send after Close: err = nil, want an error")
		}
	})
}
