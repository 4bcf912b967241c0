package chat

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// contactIDs returns the IDs in account's contact list.
func (e *env) contactIDs(tb testing.TB, account plaza.ID) []plaza.ID {
	tb.Helper()
	cs, err := e.svc.Contacts(context.Background(), account)
	if err != nil {
		tb.Fatalf("contacts: %v", err)
	}
	out := []plaza.ID{}
	for _, c := range cs {
		out = append(out, c.AccountID)
	}
	return out
}

// requests returns account's pending requests, incoming or outgoing.
func (e *env) requests(tb testing.TB, account plaza.ID, outgoing bool) []ContactRequest {
	tb.Helper()
	rs, err := e.svc.Requests(context.Background(), account, outgoing)
	if err != nil {
		tb.Fatalf("requests: %v", err)
	}
	return rs
}

func TestContactRequestAccept(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		rb := e.record(t, b)

		req, err := e.svc.RequestContact(ctx, a, b, "  it's alice  ")
		mustNil(t, err, "request")
		if req.FromID != a || req.ToID != b || req.Status != RequestPending || req.Note != "it's alice" || req.ID == 0 {
			t.Fatalf("request = %+v, want pending from %s to %s with the trimmed note", req, a, b)
		}
		if in := e.requests(t, b, false); len(in) != 1 || in[0].ID != req.ID || in[0].Note != "it's alice" {
			t.Errorf("bob's incoming = %+v, want the request", in)
		}
		if out := e.requests(t, a, true); len(out) != 1 || out[0].ID != req.ID {
			t.Errorf("alice's outgoing = %+v, want the request", out)
		}
		if in := e.requests(t, a, false); len(in) != 0 {
			t.Errorf("alice's incoming = %+v, want none", in)
		}
		got := rb.waitType(t, events.ContactRequest, 1)
		if !strings.Contains(string(got[0].Data), req.ID.String()) {
			t.Errorf("contact.request data = %s, want the request", got[0].Data)
		}
		if n := len(ofType(e.syncAll(t, b, 0), events.ContactRequest)); n != 1 {
			t.Errorf("bob's log has %d contact.request, want 1", n)
		}
		if n := len(e.syncAll(t, a, 0)); n != 0 {
			t.Errorf("alice's log has %d events before the answer, want 0", n)
		}

		// Only the addressee may answer.
		_, err = e.svc.AcceptContact(ctx, a, req.ID)
		wantCode(t, err, plaza.ENotFound)
		_, err = e.svc.AcceptContact(ctx, b, plaza.NewID())
		wantCode(t, err, plaza.ENotFound)

		acc, err := e.svc.AcceptContact(ctx, b, req.ID)
		mustNil(t, err, "accept")
		if acc.Status != RequestAccepted || acc.ID != req.ID {
			t.Errorf("accepted = %+v, want status accepted", acc)
		}
		if got := e.contactIDs(t, a); len(got) != 1 || got[0] != b {
			t.Errorf("alice's contacts = %v, want [bob]", got)
		}
		cs, err := e.svc.Contacts(ctx, b)
		mustNil(t, err, "contacts")
		if len(cs) != 1 || cs[0].AccountID != a || cs[0].Handle != "alice" || cs[0].DisplayName != "alice" || cs[0].Since.IsZero() {
			t.Errorf("bob's contacts = %+v, want alice with handle, name and since", cs)
		}
		for _, id := range []plaza.ID{a, b} {
			if n := len(ofType(e.syncAll(t, id, 0), events.ContactAccepted)); n != 1 {
				t.Errorf("account %s has %d contact.accepted, want 1", id, n)
			}
		}
		if in := e.requests(t, b, false); len(in) != 0 {
			t.Errorf("bob's incoming after accepting = %+v, want none", in)
		}
		_, err = e.svc.AcceptContact(ctx, b, req.ID)
		wantCode(t, err, plaza.EConflict)
		_, err = e.svc.DeclineContact(ctx, b, req.ID)
		wantCode(t, err, plaza.EConflict)
	})
}

func TestContactDecline(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		req, err := e.svc.RequestContact(ctx, a, b, "")
		mustNil(t, err, "request")
		dec, err := e.svc.DeclineContact(ctx, b, req.ID)
		mustNil(t, err, "decline")
		if dec.Status != RequestDeclined {
			t.Errorf("declined = %+v, want status declined", dec)
		}
		if got := e.contactIDs(t, a); len(got) != 0 {
			t.Errorf("alice's contacts = %v, want none", got)
		}
		if out := e.requests(t, a, true); len(out) != 0 {
			t.Errorf("alice's outgoing = %+v, want none", out)
		}
		// The sender is not told.
		if n := len(e.syncAll(t, a, 0)); n != 0 {
			t.Errorf("alice's log has %d events, want 0", n)
		}
		_, err = e.svc.AcceptContact(ctx, b, req.ID)
		wantCode(t, err, plaza.EConflict)
		// Declined is not forever: alice may ask again.
		again, err := e.svc.RequestContact(ctx, a, b, "please")
		mustNil(t, err, "ask again")
		if again.ID == req.ID || again.Status != RequestPending {
			t.Errorf("second request = %+v, want a new pending one", again)
		}
	})
}

func TestContactMutualRequestsAutoAccept(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		first, err := e.svc.RequestContact(ctx, a, b, "")
		mustNil(t, err, "alice asks")
		second, err := e.svc.RequestContact(ctx, b, a, "")
		mustNil(t, err, "bob asks")
		if second.Status != RequestAccepted || second.ID != first.ID {
			t.Errorf("bob's request = %+v, want alice's request %s accepted", second, first.ID)
		}
		if got := e.contactIDs(t, a); len(got) != 1 || got[0] != b {
			t.Errorf("alice's contacts = %v, want [bob]", got)
		}
		if got := e.contactIDs(t, b); len(got) != 1 || got[0] != a {
			t.Errorf("bob's contacts = %v, want [alice]", got)
		}
		for _, id := range []plaza.ID{a, b} {
			if in, out := e.requests(t, id, false), e.requests(t, id, true); len(in)+len(out) != 0 {
				t.Errorf("account %s still has requests: in %+v, out %+v", id, in, out)
			}
		}
	})
}

func TestContactRequestErrors(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b, c := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol")
		pending, err := e.svc.RequestContact(ctx, a, b, "")
		mustNil(t, err, "request")
		e.befriend(t, a, c)

		for _, tc := range []struct {
			name     string
			from, to plaza.ID
			note     string
			code     string
			field    string
		}{
			{name: "duplicate", from: a, to: b, code: plaza.EConflict},
			{name: "already contacts", from: a, to: c, code: plaza.EConflict},
			{name: "already contacts, other way", from: c, to: a, code: plaza.EConflict},
			{name: "self", from: a, to: a, code: plaza.EInvalid, field: "account_id"},
			{name: "unknown account", from: a, to: plaza.NewID(), code: plaza.ENotFound},
			{name: "note too long", from: b, to: c, note: strings.Repeat("n", 201), code: plaza.EInvalid, field: "note"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.svc.RequestContact(ctx, tc.from, tc.to, tc.note)
				if tc.field != "" {
					wantInvalid(t, err, tc.field)
					return
				}
				wantCode(t, err, tc.code)
			})
		}
		_, err = e.svc.RequestContact(ctx, a, b, "")
		if got := plaza.AsError(err); got == nil || got.Details["id"] != pending.ID {
			t.Errorf("duplicate request details = %v, want the pending request's id %s", err, pending.ID)
		}
		if in := e.requests(t, b, false); len(in) != 1 {
			t.Errorf("bob has %d incoming requests, want 1", len(in))
		}
		// A note of exactly 200 characters is fine.
		_, err = e.svc.RequestContact(ctx, b, c, strings.Repeat("é", 200))
		mustNil(t, err, "200-character note")
	})
}

func TestRemoveContact(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		mustNil(t, e.svc.RemoveContact(ctx, b, a), "remove")
		if got := e.contactIDs(t, a); len(got) != 0 {
			t.Errorf("alice's contacts = %v, want none", got)
		}
		if got := e.contactIDs(t, b); len(got) != 0 {
			t.Errorf("bob's contacts = %v, want none", got)
		}
		wantCode(t, e.svc.RemoveContact(ctx, a, b), plaza.ENotFound)
		// The direct conversation stays, but no longer takes messages.
		_, _, err := e.svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: "x", Kind: KindText, Text: "still there?"})
		wantCode(t, err, plaza.ENotAContact)
		if _, err := e.svc.Get(ctx, a, conv.ID); err != nil {
			t.Errorf("get after removing the contact: %v", err)
		}
		// They may become contacts again.
		e.befriend(t, b, a)
		e.send(t, a, conv.ID, "welcome back")
	})
}

func TestBlock(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b, c, d := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol"), e.account(t, "dave")
		conv := e.direct(t, a, b)
		bGroup := e.group(t, b, "bob's group", d)
		e.befriend(t, b, c)
		_, err := e.svc.RequestContact(ctx, c, a, "hello")
		mustNil(t, err, "carol asks alice")

		mustNil(t, e.svc.Block(ctx, a, b), "block bob")
		mustNil(t, e.svc.Block(ctx, a, b), "block bob again")
		mustNil(t, e.svc.Block(ctx, a, c), "block carol")

		t.Run("ends the contact relation", func(t *testing.T) {
			if got := e.contactIDs(t, a); len(got) != 0 {
				t.Errorf("alice's contacts = %v, want none", got)
			}
			if got := e.contactIDs(t, b); contains(got, a) {
				t.Errorf("bob's contacts = %v, want no alice", got)
			}
		})
		t.Run("declines their pending request", func(t *testing.T) {
			if in := e.requests(t, a, false); len(in) != 0 {
				t.Errorf("alice's incoming = %+v, want none", in)
			}
			if out := e.requests(t, c, true); len(out) != 0 {
				t.Errorf("carol's outgoing = %+v, want none", out)
			}
		})
		t.Run("stops requests", func(t *testing.T) {
			_, err := e.svc.RequestContact(ctx, b, a, "")
			wantCode(t, err, plaza.EBlocked)
			_, err = e.svc.RequestContact(ctx, c, a, "")
			wantCode(t, err, plaza.EBlocked)
		})
		t.Run("stops direct messages", func(t *testing.T) {
			_, _, err := e.svc.Send(ctx, b, SendInput{ConversationID: conv.ID, ClientID: "x", Kind: KindText, Text: "hey"})
			wantCode(t, err, plaza.EBlocked)
			_, _, err = e.svc.OpenDirect(ctx, b, a)
			wantCode(t, err, plaza.EBlocked)
		})
		t.Run("stops group invitations", func(t *testing.T) {
			_, err := e.svc.CreateGroup(ctx, b, "with alice", []plaza.ID{a})
			wantCode(t, err, plaza.EBlocked)
			_, err = e.svc.AddMembers(ctx, b, bGroup.ID, []plaza.ID{a})
			wantCode(t, err, plaza.EBlocked)
		})
		t.Run("lists blocks", func(t *testing.T) {
			got, err := e.svc.Blocks(ctx, a)
			mustNil(t, err, "blocks")
			if len(got) != 2 || !contains(got, b) || !contains(got, c) {
				t.Errorf("alice's blocks = %v, want bob and carol", got)
			}
			if got, _ := e.svc.Blocks(ctx, b); len(got) != 0 {
				t.Errorf("bob's blocks = %v, want none", got)
			}
		})
		t.Run("errors", func(t *testing.T) {
			wantInvalid(t, e.svc.Block(ctx, a, a), "account_id")
			wantCode(t, e.svc.Block(ctx, a, plaza.NewID()), plaza.ENotFound)
			wantCode(t, e.svc.Unblock(ctx, a, d), plaza.ENotFound)
		})
		t.Run("unblock", func(t *testing.T) {
			mustNil(t, e.svc.Unblock(ctx, a, b), "unblock")
			wantCode(t, e.svc.Unblock(ctx, a, b), plaza.ENotFound)
			// Unblocking does not restore the contact: bob asks again.
			_, _, err := e.svc.Send(ctx, b, SendInput{ConversationID: conv.ID, ClientID: "y", Kind: KindText, Text: "hey"})
			wantCode(t, err, plaza.ENotAContact)
			e.befriend(t, b, a)
			e.send(t, b, conv.ID, "friends again")
			// Carol is still blocked.
			_, err = e.svc.RequestContact(ctx, c, a, "")
			wantCode(t, err, plaza.EBlocked)
		})
	})
}

// TestBlockUnderDirectAnyone checks that blocks hold where contacts are
// not needed.
func TestBlockUnderDirectAnyone(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withChat(func(c *Config) { c.DirectPolicy = DirectAnyone }))
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv, _, err := e.svc.OpenDirect(ctx, b, a)
		mustNil(t, err, "open direct")
		e.send(t, b, conv.ID, "hi")
		mustNil(t, e.svc.Block(ctx, a, b), "block")
		_, _, err = e.svc.Send(ctx, b, SendInput{ConversationID: conv.ID, ClientID: "x", Kind: KindText, Text: "hi again"})
		wantCode(t, err, plaza.EBlocked)
		_, _, err = e.svc.OpenDirect(ctx, b, a)
		wantCode(t, err, plaza.EBlocked)
		_, err = e.svc.CreateGroup(ctx, b, "g", []plaza.ID{a})
		wantCode(t, err, plaza.EBlocked)
		// The blocker may still write.
		e.send(t, a, conv.ID, "I can still talk")
	})
}

// TestBlockEndsOwnPendingRequest: "Blocking also ends a contact relation",
// so after alice blocks bob, bob must not become her contact by accepting
// a request alice sent him before blocking.
func TestBlockEndsOwnPendingRequest(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		req, err := e.svc.RequestContact(ctx, a, b, "")
		mustNil(t, err, "request")
		mustNil(t, e.svc.Block(ctx, a, b), "block")
		if _, err := e.svc.AcceptContact(ctx, b, req.ID); err == nil {
			if got := e.contactIDs(t, a); contains(got, b) {
				t.Errorf("bob accepted alice's old request after she blocked him: alice's contacts = %v, want no bob", got)
			}
		}
	})
}

func TestContactRequestConcurrentDuplicates(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a := e.account(t, "alice")
		// A double tap: the same request several times at once, to each
		// of several people.
		targets := e.accountsN(t, "target", 4)
		const n = 8
		start := make(chan struct{})
		errs := make([][n]error, len(targets))
		var wg sync.WaitGroup
		for ti, to := range targets {
			for i := range n {
				wg.Go(func() {
					<-start
					_, errs[ti][i] = e.svc.RequestContact(ctx, a, to, "")
				})
			}
		}
		close(start)
		wg.Wait()
		for ti, to := range targets {
			ok := 0
			for i, err := range errs[ti] {
				switch {
				case err == nil:
					ok++
				case !isCode(err, plaza.EConflict):
					t.Errorf("request %d to target %d: %v, want success or conflict", i, ti, err)
				}
			}
			if in := e.requests(t, to, false); ok != 1 || len(in) != 1 {
				t.Errorf("target %d: %d requests succeeded and %d are pending, want 1 and 1", ti, ok, len(in))
			}
		}
	})
}

func TestInactiveAccounts(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, s, d := e.account(t, "alice"), e.account(t, "suspended"), e.account(t, "deleted")
		e.befriend(t, a, s)
		e.befriend(t, a, d)
		if _, err := e.accounts.Suspend(ctx, audit.CLI, s, "spam", time.Time{}); err != nil {
			t.Fatalf("suspend: %v", err)
		}
		mustNil(t, e.accounts.Erase(ctx, d), "erase account")

		t.Run("suspended", func(t *testing.T) {
			_, _, err := e.svc.OpenDirect(ctx, a, s)
			wantCode(t, err, plaza.EForbidden)
			_, err = e.svc.CreateGroup(ctx, a, "g", []plaza.ID{s})
			wantCode(t, err, plaza.EForbidden)
			b := e.account(t, "bob")
			_, err = e.svc.RequestContact(ctx, b, s, "")
			wantCode(t, err, plaza.EForbidden)
		})
		t.Run("deleted", func(t *testing.T) {
			_, _, err := e.svc.OpenDirect(ctx, a, d)
			wantCode(t, err, plaza.ENotFound)
			_, err = e.svc.CreateGroup(ctx, a, "g", []plaza.ID{d})
			wantCode(t, err, plaza.ENotFound)
			_, err = e.svc.RequestContact(ctx, a, d, "")
			wantCode(t, err, plaza.ENotFound)
			if got := e.contactIDs(t, a); contains(got, d) || !contains(got, s) {
				t.Errorf("alice's contacts = %v, want the suspended account and not the deleted one", got)
			}
		})
	})
}
