package chat

import (
	"context"
	"sync"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestOpenDirectNeedsContactsByDefault(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")

		_, _, err := e.svc.OpenDirect(ctx, a, b)
		wantCode(t, err, plaza.ENotAContact)
		_, _, err = e.svc.OpenDirect(ctx, a, a)
		wantInvalid(t, err, "member_ids")
		_, _, err = e.svc.OpenDirect(ctx, a, plaza.NewID())
		wantCode(t, err, plaza.ENotFound)

		e.befriend(t, a, b)
		c, created, err := e.svc.OpenDirect(ctx, a, b)
		mustNil(t, err, "open")
		if !created {
			t.Errorf("first open: created = false, want true")
		}
		if c.Kind != Direct || c.Title != "" || c.LastSeq != 0 || len(c.MemberIDs) != 2 || !contains(c.MemberIDs, a) || !contains(c.MemberIDs, b) {
			t.Errorf("conversation = %+v, want a direct one of alice and bob", c)
		}
		again, created, err := e.svc.OpenDirect(ctx, a, b)
		mustNil(t, err, "open again")
		if created || again.ID != c.ID {
			t.Errorf("second open = %s created %v, want %s created false", again.ID, created, c.ID)
		}
		other, created, err := e.svc.OpenDirect(ctx, b, a)
		mustNil(t, err, "open from bob's side")
		if created || other.ID != c.ID {
			t.Errorf("bob's open = %s created %v, want %s created false", other.ID, created, c.ID)
		}
		// Each got one conversation.updated, for the creation.
		for _, id := range []plaza.ID{a, b} {
			evs := ofType(e.syncAll(t, id, 0), events.ConversationUpdated)
			if len(evs) != 1 || evs[0].conversation(t).ID != c.ID {
				t.Errorf("account %s has conversation.updated %+v, want one for %s", id, evs, c.ID)
			}
		}
		got, err := e.svc.Get(ctx, b, c.ID)
		mustNil(t, err, "get")
		if got.ID != c.ID || got.Kind != Direct || len(got.MemberIDs) != 2 {
			t.Errorf("get = %+v, want %+v", got, c)
		}
		// Group operations make no sense here.
		_, err = e.svc.Rename(ctx, a, c.ID, "title")
		wantCode(t, err, plaza.EConflict)
		_, err = e.svc.AddMembers(ctx, a, c.ID, []plaza.ID{e.account(t, "carol")})
		wantCode(t, err, plaza.EConflict)
		_, err = e.svc.RemoveMember(ctx, a, c.ID, b)
		wantCode(t, err, plaza.EConflict)
	})
}

func TestOpenDirectAnyone(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withChat(func(c *Config) { c.DirectPolicy = DirectAnyone }))
		a, b := e.account(t, "alice"), e.account(t, "bob")
		c, created, err := e.svc.OpenDirect(ctx, a, b)
		mustNil(t, err, "open without being contacts")
		if !created {
			t.Errorf("created = false, want true")
		}
		e.send(t, b, c.ID, "hi stranger")
		// Groups follow the same policy.
		g, err := e.svc.CreateGroup(ctx, a, "strangers", []plaza.ID{b})
		mustNil(t, err, "group of strangers")
		if len(g.MemberIDs) != 2 {
			t.Errorf("group members = %v, want 2", g.MemberIDs)
		}
	})
}

func TestOpenDirectConcurrentCreatesOne(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		e.befriend(t, a, b)

		const n = 16
		start := make(chan struct{})
		convs := make([]Conversation, n)
		created := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			me, other := a, b
			if i%2 == 1 {
				me, other = b, a
			}
			wg.Go(func() {
				<-start
				convs[i], created[i], errs[i] = e.svc.OpenDirect(ctx, me, other)
			})
		}
		close(start)
		wg.Wait()
		nCreated := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("open %d: %v", i, errs[i])
			}
			if created[i] {
				nCreated++
			}
			if convs[i].ID != convs[0].ID {
				t.Errorf("open %d returned %s, open 0 returned %s", i, convs[i].ID, convs[0].ID)
			}
		}
		if nCreated != 1 {
			t.Errorf("%d opens report created, want 1", nCreated)
		}
		var rows int
		mustNil(t, db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM conversations WHERE kind = 'direct'`).Scan(&rows), "count")
		if rows != 1 {
			t.Errorf("%d direct conversations stored, want 1", rows)
		}
		for _, id := range []plaza.ID{a, b} {
			if n := len(ofType(e.syncAll(t, id, 0), events.ConversationUpdated)); n != 1 {
				t.Errorf("account %s has %d conversation.updated, want 1", id, n)
			}
			list, _, err := e.svc.List(ctx, id, ListCursor{}, 10)
			mustNil(t, err, "list")
			if len(list) != 1 {
				t.Errorf("account %s lists %d conversations, want 1", id, len(list))
			}
		}
	})
}
