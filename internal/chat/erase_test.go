package chat

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// count returns the single number query yields.
func (e *env) count(tb testing.TB, query string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := e.db.Read().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestEraseAccount: erasing an account removes its contacts, requests and
// blocks both ways, its group memberships (handing over the groups it
// owned), its sync log and stream records, and keeps its messages in the
// others' conversations, with its sender_id, and its place in its direct
// conversations, to which nobody can send any more. Erasing again changes
// nothing.
func TestEraseAccount(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.accounts.OnDelete(e.svc.DeleteAccountData)
		e.accounts.OnErase(e.svc.EraseAccount)
		leaver, ann, bob, cat := e.account(t, "leaver"), e.account(t, "ann"), e.account(t, "bob"), e.account(t, "cat")
		direct := e.direct(t, leaver, ann)
		e.send(t, leaver, direct.ID, "hello ann")
		e.send(t, ann, direct.ID, "hello you")
		owned := e.group(t, leaver, "owned", ann, bob)
		if _, err := e.svc.SetRole(ctx, leaver, owned.ID, bob, RoleAdmin); err != nil {
			t.Fatal(err)
		}
		e.send(t, leaver, owned.ID, "in my group")
		other := e.group(t, ann, "other", leaver)
		// Requests both ways, and blocks both ways.
		if _, err := e.svc.RequestContact(ctx, cat, leaver, "hi"); err != nil {
			t.Fatal(err)
		}
		dan := e.account(t, "dan")
		if _, err := e.svc.RequestContact(ctx, leaver, dan, "hi"); err != nil {
			t.Fatal(err)
		}
		eve := e.account(t, "eve")
		mustNil(t, e.svc.Block(ctx, leaver, eve), "block")
		mustNil(t, e.svc.Block(ctx, eve, leaver), "block back")
		if _, err := db.Write().ExecContext(ctx, `INSERT INTO streams (account_id, id, session_id, node, opened_at, lease_until) VALUES ($1, 1, 1, 1, 0, 0)`, leaver); err != nil {
			t.Fatal(err)
		}
		annHead, err := e.svc.Head(ctx, ann)
		mustNil(t, err, "head")
		if n := e.count(t, `SELECT COUNT(*) FROM events WHERE account_id = $1`, leaver); n == 0 {
			t.Fatal("the leaver has no sync log to erase")
		}

		mustNil(t, e.accounts.Erase(ctx, leaver), "erase")

		for what, q := range map[string]string{
			"contacts":         `SELECT COUNT(*) FROM contacts WHERE account_id = $1 OR contact_id = $1`,
			"contact requests": `SELECT COUNT(*) FROM contact_requests WHERE to_id = $1 OR from_id = $1`,
			"blocks":           `SELECT COUNT(*) FROM blocks WHERE account_id = $1 OR blocked_id = $1`,
			"events":           `SELECT COUNT(*) FROM events WHERE account_id = $1`,
			"sync_heads":       `SELECT COUNT(*) FROM sync_heads WHERE account_id = $1`,
			"streams":          `SELECT COUNT(*) FROM streams WHERE account_id = $1`,
			"group members":    `SELECT COUNT(*) FROM members mb JOIN conversations c ON c.id = mb.conversation_id WHERE mb.account_id = $1 AND c.kind = 'group'`,
		} {
			if n := e.count(t, q, leaver); n != 0 {
				t.Errorf("%s: %d rows left, want 0", what, n)
			}
		}
		// The direct conversation and every message stay.
		if c, err := e.svc.Get(ctx, ann, direct.ID); err != nil || !slices.Contains(c.MemberIDs, leaver) {
			t.Errorf("ann's direct conversation: %+v, %v; want it with the erased account", c.MemberIDs, err)
		}
		if msgs := e.history(t, ann, direct.ID); len(msgs) != 2 || msgs[0].SenderID != leaver || msgs[0].Text != "hello ann" {
			t.Errorf("ann's direct history: %+v, want both messages, the first from the erased account", msgs)
		}
		if msgs := e.history(t, bob, owned.ID); len(msgs) != 1 || msgs[0].SenderID != leaver {
			t.Errorf("bob's group history: %+v, want the erased account's message", msgs)
		}
		// The owned group went to its admin; both groups told their members.
		c, err := e.svc.Get(ctx, bob, owned.ID)
		mustNil(t, err, "get group")
		if slices.Contains(c.MemberIDs, leaver) || c.OwnerID != bob {
			t.Errorf("owned group: members %v, owner %s; want no erased account and bob (the admin) as owner", c.MemberIDs, c.OwnerID)
		}
		if c, err := e.svc.Get(ctx, ann, other.ID); err != nil || slices.Contains(c.MemberIDs, leaver) {
			t.Errorf("ann's group: members %v, %v; want no erased account", c.MemberIDs, err)
		}
		if got := ofType(e.syncAll(t, ann, annHead), events.ConversationUpdated); len(got) != 2 {
			t.Errorf("ann got %d conversation.updated events, want 2 (one per group)", len(got))
		}
		// Nobody can send to the erased account.
		_, _, err = e.svc.Send(ctx, ann, SendInput{ConversationID: direct.ID, ClientID: "after", Kind: KindText, Text: "are you there?"})
		wantCode(t, err, plaza.EGone)
		_, err = e.svc.RequestContact(ctx, bob, leaver, "")
		wantCode(t, err, plaza.ENotFound)

		before := e.count(t, `SELECT COUNT(*) FROM events`)
		mustNil(t, e.accounts.Erase(ctx, leaver), "erase again")
		if after := e.count(t, `SELECT COUNT(*) FROM events`); after != before {
			t.Errorf("erasing again: %d events, want %d", after, before)
		}
	})
}

// TestEraseSyncLogInBatches erases a sync log longer than one batch.
func TestEraseSyncLogInBatches(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.accounts.OnErase(e.svc.EraseAccount)
		leaver, ann := e.account(t, "leaver"), e.account(t, "ann")
		const n = 2*eraseBatch + 7
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sync_heads (account_id, seq) VALUES ($1, $2)`, leaver, n); err != nil {
				return err
			}
			for seq := int64(1); seq <= n; seq++ {
				if _, err := tx.ExecContext(ctx, `INSERT INTO events (account_id, seq, type, data, created_at) VALUES ($1, $2, 'typing', '{}', 0)`, leaver, seq); err != nil {
					return err
				}
			}
			return nil
		})
		mustNil(t, err, "fill the sync log")
		var txs int
		counting := func(ctx context.Context, fn func(tx *sql.Tx) error) error {
			txs++
			return db.InTx(ctx, fn)
		}
		mustNil(t, e.svc.EraseAccount(ctx, leaver, counting), "erase")
		if n := e.count(t, `SELECT COUNT(*) FROM events WHERE account_id = $1`, leaver); n != 0 {
			t.Errorf("%d events left, want 0", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM sync_heads WHERE account_id = $1`, leaver); n != 0 {
			t.Errorf("the head is left")
		}
		if txs < 3 {
			t.Errorf("erased %d events in %d transactions, want at least 3", n, txs)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM accounts WHERE id = $1`, ann); n != 1 {
			t.Errorf("ann is gone")
		}
	})
}

// TestSendToMemorialised: a memorialised account's direct conversations
// refuse sends with gone and details.status memorialised; its groups go
// on for the others, its messages stay, and nobody can ask it to be a
// contact or add it to a group.
func TestSendToMemorialised(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		gone, ann, bob := e.account(t, "remembered"), e.account(t, "ann"), e.account(t, "bob")
		direct := e.direct(t, ann, gone)
		e.send(t, gone, direct.ID, "see you")
		g := e.group(t, ann, "family", gone, bob)
		e.send(t, ann, direct.ID, "warming the cache")
		if _, err := e.accounts.Memorialise(ctx, audit.CLI, gone, "the family asked"); err != nil {
			t.Fatal(err)
		}
		_, _, err := e.svc.Send(ctx, ann, SendInput{ConversationID: direct.ID, ClientID: "x", Kind: KindText, Text: "I miss you"})
		wantCode(t, err, plaza.EGone)
		if d := plaza.AsError(err).Details; d["status"] != "memorialised" {
			t.Errorf("got details %v, want status memorialised", d)
		}
		e.send(t, ann, g.ID, "the group goes on")
		if msgs := e.history(t, ann, direct.ID); len(msgs) != 2 || msgs[0].SenderID != gone {
			t.Errorf("history: %+v, want the memorialised account's message kept", msgs)
		}
		carl := e.account(t, "carl")
		_, err = e.svc.RequestContact(ctx, carl, gone, "")
		wantCode(t, err, plaza.EForbidden)
		e.befriend(t, ann, carl)
		other := e.group(t, ann, "friends", carl)
		_, err = e.svc.AddMembers(ctx, ann, other.ID, []plaza.ID{gone})
		wantCode(t, err, plaza.EForbidden)
	})
}
