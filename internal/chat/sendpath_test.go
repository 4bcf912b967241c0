package chat

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// stallWrites holds a transaction that keeps the chat writer from
// committing (SQLite: the single write connection; PostgreSQL: an
// exclusive lock on messages) until the returned release is called.
func stallWrites(t *testing.T, db *sqldb.DB) (release func()) {
	t.Helper()
	locked, unlock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.InTx(context.Background(), func(tx *sql.Tx) error {
			if db.Engine == sqldb.Postgres {
				if _, err := tx.Exec(`LOCK TABLE messages IN ACCESS EXCLUSIVE MODE`); err != nil {
					return err
				}
			}
			close(locked)
			<-unlock
			return nil
		})
	}()
	select {
	case <-locked:
	case err := <-done:
		t.Fatalf("stall writes: %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(unlock)
			if err := <-done; err != nil {
				t.Errorf("stall writes: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// sendWithin sends in and fails the test unless Send returns within
// waitTimeout (a hang is the failure this guards against).
func (e *env) sendWithin(t *testing.T, from plaza.ID, in SendInput) (Message, bool, error) {
	t.Helper()
	type result struct {
		m       Message
		created bool
		err     error
	}
	out := make(chan result, 1)
	go func() {
		m, created, err := e.svc.Send(context.Background(), from, in)
		out <- result{m, created, err}
	}()
	select {
	case r := <-out:
		return r.m, r.created, r.err
	case <-time.After(waitTimeout):
		t.Fatalf("send %q did not return within %s", in.ClientID, waitTimeout)
		return Message{}, false, nil
	}
}

func TestSendToStalledStoreAnswersUnavailable(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, withChat(func(c *Config) {
			c.CommitTimeout = 200 * time.Millisecond
			c.SendTimeout = 500 * time.Millisecond
		}))
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		e.send(t, a, conv.ID, "before")

		release := stallWrites(t, db)
		in := SendInput{ConversationID: conv.ID, ClientID: "stalled-1", Kind: KindText, Text: "hello"}
		_, _, err := e.sendWithin(t, a, in)
		wantCode(t, err, plaza.EUnavailable)
		// Several sends queued behind a stalled store all get the answer.
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				if _, _, err := e.sendWithin(t, b, SendInput{ConversationID: conv.ID, ClientID: "c-" + plaza.NewID().String(), Kind: KindText, Text: "hi"}); !isCode(err, plaza.EUnavailable) {
					t.Errorf("send to a stalled store: err %v, want unavailable", err)
				}
			})
		}
		wg.Wait()
		release()

		// Sending again with the same client_id is safe: one message.
		m, _, err := e.sendWithin(t, a, in)
		mustNil(t, err, "send again after the stall")
		again, created, err := e.sendWithin(t, a, in)
		mustNil(t, err, "third send")
		if created || again.ID != m.ID {
			t.Errorf("third send: created %v id %s, want the stored %s", created, again.ID, m.ID)
		}
		n := 0
		for _, h := range e.history(t, a, conv.ID) {
			if h.ClientID == in.ClientID {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d messages with client_id %q, want 1", n, in.ClientID)
		}
		e.send(t, b, conv.ID, "after")
	})
}

// onceBeforeSubmit runs fn once, between the next Send's checks and its
// queueing.
func (e *env) onceBeforeSubmit(t *testing.T, fn func()) {
	var once sync.Once
	e.svc.beforeSubmit = func() { once.Do(fn) }
	t.Cleanup(func() { e.svc.beforeSubmit = nil })
}

func TestSendByMemberRemovedAfterCheckIsRefused(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		o, a, b, c := e.account(t, "owner"), e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol")
		g := e.group(t, o, "g", a, b, c)
		e.send(t, a, g.ID, "first")

		e.onceBeforeSubmit(t, func() {
			_, err := e.svc.RemoveMember(ctx, o, g.ID, a)
			mustNil(t, err, "remove alice")
		})
		_, _, err := e.sendWithin(t, a, SendInput{ConversationID: g.ID, ClientID: "late", Kind: KindText, Text: "still here?"})
		wantCode(t, err, plaza.ENotFound)
		for _, m := range e.history(t, o, g.ID) {
			if m.ClientID == "late" {
				t.Fatalf("a removed member's message was stored: %+v", m)
			}
		}

		// A change that leaves the sender in (carol removed) makes the
		// send check again and pass: it is stored, gap-free.
		e.onceBeforeSubmit(t, func() {
			_, err := e.svc.RemoveMember(ctx, o, g.ID, c)
			mustNil(t, err, "remove carol")
		})
		m, created, err := e.sendWithin(t, b, SendInput{ConversationID: g.ID, ClientID: "ok", Kind: KindText, Text: "hi"})
		mustNil(t, err, "bob's send")
		if !created || m.Seq != 2 {
			t.Errorf("bob's send: created %v seq %d, want a new message with seq 2", created, m.Seq)
		}
	})
}

func TestSendBlockedAfterCheckIsRefused(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		e.send(t, a, conv.ID, "first")

		e.onceBeforeSubmit(t, func() { mustNil(t, e.svc.Block(ctx, b, a), "bob blocks alice") })
		_, _, err := e.sendWithin(t, a, SendInput{ConversationID: conv.ID, ClientID: "late", Kind: KindText, Text: "hello?"})
		wantCode(t, err, plaza.EBlocked)

		mustNil(t, e.svc.Unblock(ctx, b, a), "unblock")
		e.befriend(t, a, b)
		e.onceBeforeSubmit(t, func() { mustNil(t, e.svc.RemoveContact(ctx, b, a), "remove contact") })
		_, _, err = e.sendWithin(t, a, SendInput{ConversationID: conv.ID, ClientID: "later", Kind: KindText, Text: "hello?"})
		wantCode(t, err, plaza.ENotAContact)
		if h := e.history(t, b, conv.ID); len(h) != 1 {
			t.Errorf("history has %d messages, want only the first", len(h))
		}
	})
}

// A subscriber that stops reading (a stuck connection) must not delay
// the commits of anyone's sends: the writer publishes without waiting
// for handlers.
func TestSlowSubscriberDoesNotDelayCommits(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		release := make(chan struct{})
		var once sync.Once
		t.Cleanup(func() { once.Do(func() { close(release) }) })
		if _, err := e.bus.Subscribe(events.AccountSubject(b), func([]byte) { <-release }); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			_, _, err := e.sendWithin(t, a, SendInput{ConversationID: conv.ID, ClientID: "c-" + plaza.NewID().String(), Kind: KindText, Text: "hi"})
			mustNil(t, err, "send "+string(rune('a'+i)))
		}
		once.Do(func() { close(release) })
	})
}

// TestRememberedChecksNeverOutliveAChange: once a send's checks are
// remembered, a block, a contact removal or a removal from a group that
// lands later (before the check, not during it) still refuses the next
// send, and a send allowed again is not refused by an old answer.
func TestRememberedChecksNeverOutliveAChange(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b, c := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol")
		conv := e.direct(t, a, b)
		e.send(t, a, conv.ID, "first")
		e.send(t, a, conv.ID, "second") // from the remembered answer
		mustNil(t, e.svc.Block(ctx, b, a), "bob blocks alice")
		_, _, err := e.svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: "b1", Kind: KindText, Text: "blocked?"})
		wantCode(t, err, plaza.EBlocked)
		_, _, err = e.svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: "b2", Kind: KindText, Text: "still?"})
		wantCode(t, err, plaza.EBlocked)
		mustNil(t, e.svc.Unblock(ctx, b, a), "unblock")
		e.befriend(t, a, b) // the block ended their contact
		e.send(t, a, conv.ID, "allowed again")

		e.befriend(t, a, c)
		g, err := e.svc.CreateGroup(ctx, a, "g", []plaza.ID{c})
		mustNil(t, err, "create group")
		e.send(t, c, g.ID, "hi")
		e.send(t, c, g.ID, "hi again")
		_, err = e.svc.RemoveMember(ctx, a, g.ID, c)
		mustNil(t, err, "remove carol")
		_, _, err = e.svc.Send(ctx, c, SendInput{ConversationID: g.ID, ClientID: "c1", Kind: KindText, Text: "let me in"})
		wantCode(t, err, plaza.ENotFound)
		if h := e.history(t, a, g.ID); len(h) != 2 {
			t.Errorf("the group holds %d messages of carol's, want the 2 sent while a member", len(h))
		}
	})
}
