package chat

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestSyncLogIsGapFreePerAccount(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		users := e.accountsN(t, "member", 3)
		conv := e.group(t, users[0], "log", users[1:]...)

		const total = 60
		var wg sync.WaitGroup
		errs := make(chan error, total)
		for i := range total {
			wg.Go(func() {
				if _, _, err := e.svc.Send(ctx, users[i%3], SendInput{ConversationID: conv.ID, ClientID: strconv.Itoa(i), Kind: KindText, Text: "hi"}); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("send: %v", err)
		}

		for _, u := range users {
			evs := e.syncAll(t, u, 0)
			head, err := e.svc.Head(ctx, u)
			mustNil(t, err, "head")
			if int64(len(evs)) != head {
				t.Errorf("account %s: sync returned %d events, head is %d", u, len(evs), head)
			}
			for i, ev := range evs {
				if got := ev.cursor(t); got != int64(i+1) {
					t.Fatalf("account %s event %d has cursor %d, want %d", u, i, got, i+1)
				}
			}
			created := ofType(evs, events.MessageCreated)
			if len(created) != total {
				t.Fatalf("account %s has %d message.created, want %d", u, len(created), total)
			}
			// Within a conversation the log follows seq.
			for i, ev := range created {
				m := ev.message(t)
				if m.Seq != int64(i+1) || m.ConversationID != conv.ID {
					t.Fatalf("account %s message.created %d = seq %d in %s, want seq %d in %s", u, i, m.Seq, m.ConversationID, i+1, conv.ID)
				}
			}
		}
	})
}

func TestSyncPaging(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		for i := range 23 {
			e.send(t, a, conv.ID, fmt.Sprint("message ", i))
		}
		all := e.syncAll(t, b, 0)
		head, err := e.svc.Head(ctx, b)
		mustNil(t, err, "head")
		if int64(len(all)) != head || head < 23 {
			t.Fatalf("bob has %d events and head %d, want head = events ≥ 23", len(all), head)
		}

		var paged []event
		cursor := int64(0)
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("paging does not end")
			}
			page, err := e.svc.Sync(ctx, b, cursor, 10)
			mustNil(t, err, "sync page")
			if len(page.Events) > 10 {
				t.Fatalf("page has %d events, want at most 10", len(page.Events))
			}
			for _, raw := range page.Events {
				paged = append(paged, decodeFrame(t, raw))
			}
			if want := int64(len(paged)); page.Cursor != want {
				t.Fatalf("page cursor = %d, want %d (the last event's)", page.Cursor, want)
			}
			if wantMore := int64(len(paged)) < head; page.More != wantMore {
				t.Fatalf("after %d of %d events: more = %v, want %v", len(paged), head, page.More, wantMore)
			}
			cursor = page.Cursor
			if !page.More {
				break
			}
		}
		if len(paged) != len(all) {
			t.Fatalf("paging returned %d events, want %d", len(paged), len(all))
		}
		for i := range all {
			if paged[i].Cursor != all[i].Cursor || paged[i].Type != all[i].Type || !bytes.Equal(paged[i].Data, all[i].Data) {
				t.Errorf("paged event %d = %+v, want %+v", i, paged[i], all[i])
			}
		}

		// At the head: nothing, same cursor.
		page, err := e.svc.Sync(ctx, b, head, 10)
		mustNil(t, err, "sync at head")
		if len(page.Events) != 0 || page.Cursor != head || page.More {
			t.Errorf("sync at head = %d events, cursor %d, more %v; want none, %d, false", len(page.Events), page.Cursor, page.More, head)
		}
		// Ahead of the head: the cursor is not this account's.
		_, err = e.svc.Sync(ctx, b, head+1, 10)
		wantInvalid(t, err, "since")

		// A new account: head 0 and an empty log.
		c := e.account(t, "carol")
		if h, err := e.svc.Head(ctx, c); err != nil || h != 0 {
			t.Errorf("new account head = %d, %v; want 0", h, err)
		}
		page, err = e.svc.Sync(ctx, c, 0, 10)
		mustNil(t, err, "sync new account")
		if len(page.Events) != 0 || page.Cursor != 0 || page.More {
			t.Errorf("sync of a new account = %+v, want empty at cursor 0", page)
		}
	})
}

func TestReplayRange(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		for i := range 10 {
			e.send(t, b, conv.ID, fmt.Sprint(i))
		}
		all := e.syncAll(t, a, 0)
		head := int64(len(all))

		for _, tc := range []struct{ after, upTo, from, to int64 }{
			{0, head, 1, head},
			{3, 7, 4, 7},
			{5, 5, 0, -1},
			{head - 1, head + 50, head, head},
			{head, head + 5, 0, -1},
		} {
			t.Run(fmt.Sprintf("(%d,%d]", tc.after, tc.upTo), func(t *testing.T) {
				frames, cursors, err := e.svc.Replay(ctx, a, tc.after, tc.upTo)
				mustNil(t, err, "replay")
				if len(frames) != len(cursors) {
					t.Fatalf("%d frames, %d cursors", len(frames), len(cursors))
				}
				want := int(tc.to - tc.from + 1)
				if tc.to < tc.from {
					want = 0
				}
				if len(frames) != want {
					t.Fatalf("replay returned %d events (cursors %v), want %d..%d", len(frames), cursors, tc.from, tc.to)
				}
				for i, f := range frames {
					wantCursor := tc.from + int64(i)
					if cursors[i] != wantCursor {
						t.Errorf("cursor %d = %d, want %d", i, cursors[i], wantCursor)
					}
					ev := decodeFrame(t, f)
					if ev.cursor(t) != wantCursor {
						t.Errorf("frame %d carries cursor %s, want %d", i, ev.Cursor, wantCursor)
					}
					if s := all[wantCursor-1]; ev.Type != s.Type || !bytes.Equal(ev.Data, s.Data) {
						t.Errorf("replayed frame %d = %s, want the synced one %+v", i, f, s)
					}
				}
			})
		}
	})
}

func TestBusEventsMatchSyncLog(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		ra, rb := e.record(t, a), e.record(t, b)
		conv := e.direct(t, a, b)
		for i := range 20 {
			sender := a
			if i%3 == 0 {
				sender = b
			}
			e.send(t, sender, conv.ID, fmt.Sprint("message ", i))
		}
		for name, tc := range map[string]struct {
			id plaza.ID
			r  *recorder
		}{"alice": {a, ra}, "bob": {b, rb}} {
			t.Run(name, func(t *testing.T) {
				stored := e.syncAll(t, tc.id, 0)
				got := tc.r.wait(t, len(stored))
				if len(got) != len(stored) {
					t.Fatalf("bus delivered %d events, the log holds %d", len(got), len(stored))
				}
				for i, ev := range got {
					if ev.Seq != int64(i+1) {
						t.Fatalf("bus event %d has envelope seq %d, want %d (in order, no gap)", i, ev.Seq, i+1)
					}
					if ev.cursor(t) != ev.Seq {
						t.Errorf("bus event %d: frame cursor %s, envelope seq %d", i, ev.Cursor, ev.Seq)
					}
					s := stored[i]
					if ev.Type != s.Type || !bytes.Equal(ev.Data, s.Data) {
						t.Errorf("bus event %d = %s %s, sync has %s %s", i, ev.Type, ev.Data, s.Type, s.Data)
					}
				}
				if n := len(ofType(got, events.MessageCreated)); n != 20 {
					t.Errorf("bus delivered %d message.created, want 20", n)
				}
			})
		}
	})
}

func TestSyncCursorExpired(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		for i := range 8 {
			e.send(t, a, conv.ID, fmt.Sprint(i))
		}
		head, err := e.svc.Head(ctx, b)
		mustNil(t, err, "head")

		// Pruning took events 1..3.
		if _, err := db.Write().ExecContext(ctx, `DELETE FROM events WHERE account_id = $1 AND seq <= 3`, b); err != nil {
			t.Fatal(err)
		}
		for _, since := range []int64{0, 1, 2} {
			_, err := e.svc.Sync(ctx, b, since, 100)
			wantCode(t, err, plaza.ECursorExpired)
			if got := plaza.AsError(err).Details["cursor"]; got != strconv.FormatInt(head, 10) {
				t.Errorf("since %d: details.cursor = %v, want the head %d", since, got, head)
			}
		}
		evs := e.syncAll(t, b, 3)
		if int64(len(evs)) != head-3 || evs[0].cursor(t) != 4 {
			t.Errorf("sync since 3 returned %d events from cursor %s, want %d from 4", len(evs), evs[0].Cursor, head-3)
		}
		// Alice's log is untouched.
		if n := len(e.syncAll(t, a, 0)); n == 0 {
			t.Errorf("alice's log is empty")
		}

		// Everything pruned: only a device at the head is current.
		if _, err := db.Write().ExecContext(ctx, `DELETE FROM events WHERE account_id = $1`, b); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Sync(ctx, b, head-1, 100)
		wantCode(t, err, plaza.ECursorExpired)
		page, err := e.svc.Sync(ctx, b, head, 100)
		mustNil(t, err, "sync at head after pruning")
		if len(page.Events) != 0 || page.Cursor != head {
			t.Errorf("sync at head = %d events at %d, want none at %d", len(page.Events), page.Cursor, head)
		}
		// New events after pruning are synced from the head on.
		e.send(t, a, conv.ID, "after pruning")
		evs = e.syncAll(t, b, head)
		if len(evs) != 1 || evs[0].cursor(t) != head+1 || evs[0].Type != events.MessageCreated {
			t.Errorf("after pruning, sync since head = %+v, want one message.created at %d", evs, head+1)
		}
	})
}

func TestPruneDeletesOnlyOldEvents(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withChat(func(c *Config) { c.Retention = 24 * time.Hour }))
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		for i := range 5 {
			e.send(t, a, conv.ID, fmt.Sprint("old ", i))
		}
		oldA, err := e.svc.Head(ctx, a)
		mustNil(t, err, "head")
		oldB, err := e.svc.Head(ctx, b)
		mustNil(t, err, "head")

		// Nothing is old enough yet.
		if n, err := e.svc.prune(ctx); err != nil || n != 0 {
			t.Fatalf("prune right away = %d, %v; want 0", n, err)
		}

		e.clock.Advance(25 * time.Hour)
		for i := range 3 {
			e.send(t, b, conv.ID, fmt.Sprint("new ", i))
		}
		n, err := e.svc.prune(ctx)
		mustNil(t, err, "prune")
		if n != oldA+oldB {
			t.Errorf("prune deleted %d events, want %d (every event older than the retention)", n, oldA+oldB)
		}
		for _, tc := range []struct {
			id  plaza.ID
			old int64
		}{{a, oldA}, {b, oldB}} {
			_, err := e.svc.Sync(ctx, tc.id, 0, 100)
			wantCode(t, err, plaza.ECursorExpired)
			evs := e.syncAll(t, tc.id, tc.old)
			if len(evs) != 3 {
				t.Errorf("account %s keeps %d events after pruning, want the 3 new ones", tc.id, len(evs))
			}
		}
		// Messages themselves are not pruned.
		if got := e.history(t, a, conv.ID); len(got) != 8 {
			t.Errorf("history has %d messages after pruning, want 8", len(got))
		}
	})
}

func TestPruneDeletesInBatches(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withChat(func(c *Config) { c.Retention = time.Hour }))
		a := e.account(t, "alice")
		old := e.clock.Now().Add(-2 * time.Hour).UnixMicro()
		// More than one batch of 5,000 old events, written directly (with
		// seqs far above the ones the service numbers).
		const n = 5100
		_, err := db.Write().ExecContext(ctx, fmt.Sprintf(`WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %d)
			INSERT INTO events (account_id, seq, type, conversation_id, ref_id, data, created_at)
			SELECT %d, 1000000 + i, 'test', NULL, NULL, '{}', %d FROM k`, n, int64(a), old))
		mustNil(t, err, "insert old events")
		e.send(t, a, e.group(t, a, "notes").ID, "kept")
		got, err := e.svc.prune(ctx)
		mustNil(t, err, "prune")
		if got != n {
			t.Errorf("prune deleted %d events, want %d", got, n)
		}
		var left int
		mustNil(t, db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE account_id = $1`, a).Scan(&left), "count")
		if left != 2 {
			t.Errorf("%d events left, want 2 (conversation.updated and message.created)", left)
		}
	})
}

func TestRunPrunerPrunesUntilCancelled(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withChat(func(c *Config) { c.Retention = time.Hour }))
		a := e.account(t, "alice")
		e.group(t, a, "notes")
		e.clock.Advance(2 * time.Hour)

		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.svc.RunPruner(rctx, 5*time.Millisecond)
		}()
		plazatest.Eventually(t, waitTimeout, func() error {
			var n int
			mustNil(t, db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE account_id = $1`, a).Scan(&n), "count")
			if n > 0 {
				return fmt.Errorf("the pruner left %d old events", n)
			}
			return nil
		})
		cancel()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Fatal("RunPruner did not return after its context ended")
		}
	})
}

// TestQueuedSendsShareRowsAndSyncOneByOne holds the writer while sends
// queue, so that its next batch holds several messages of a conversation
// in a row and the sync log, with SyncLogRuns, stores them as runs (one
// row per member and run of up to 32). Every member still syncs and
// replays each message once, with its own cursor, in seq order, from
// every cursor, and a message recalled after it was sent reads back
// recalled. Without SyncLogRuns every event has a row.
func TestQueuedSendsShareRowsAndSyncOneByOne(t *testing.T) {
	for _, runs := range []bool{true, false} {
		t.Run("runs="+strconv.FormatBool(runs), func(t *testing.T) { testQueuedSends(t, runs) })
	}
}

func testQueuedSends(t *testing.T, runs bool) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withChat(func(c *Config) { c.SyncLogRuns = runs }))
		ann, bob, cat := e.account(t, "ann"), e.account(t, "bob"), e.account(t, "cat")
		direct := e.direct(t, ann, bob)
		group := e.group(t, ann, "runs", bob, cat)
		const total = 90
		// The writer takes the sends queued when it wakes and waits: on
		// SQLite for the one connection, on PostgreSQL for the
		// conversations' locks. The others wait for it: two batches.
		held, release := make(chan struct{}), make(chan struct{})
		holder := make(chan error, 1)
		go func() {
			holder <- db.InTx(ctx, func(tx *sql.Tx) error {
				if db.Engine == sqldb.Postgres {
					if _, err := tx.ExecContext(ctx, `SELECT id FROM conversations WHERE id IN ($1, $2) FOR UPDATE`, direct.ID, group.ID); err != nil {
						return err
					}
				}
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		qs := make([]*QueuedSend, 0, total)
		for i := range total {
			conv := direct.ID
			if i/15%2 == 1 { // 15 to one, then 15 to the other
				conv = group.ID
			}
			q, err := e.svc.Queue(ctx, []plaza.ID{ann, bob}[i%2], SendInput{ConversationID: conv, ClientID: "q" + strconv.Itoa(i), Kind: KindText, Text: "消息 " + strconv.Itoa(i)})
			mustNil(t, err, "queue")
			qs = append(qs, q)
		}
		close(release)
		mustNil(t, <-holder, "the holding transaction")
		sent := make([]Message, total)
		for i, q := range qs {
			m, _, err := q.Wait()
			mustNil(t, err, "send")
			sent[i] = m
		}
		recalled := sent[20] // ann's, in the middle of a run
		_, err := e.svc.Recall(ctx, ann, recalled.ConversationID, recalled.ID)
		mustNil(t, err, "recall")

		var rows, stored int64
		mustNil(t, db.Read().QueryRowContext(ctx, `SELECT COUNT(*), SUM(n) FROM events WHERE account_id = $1 AND type = $2`, bob, events.MessageCreated).Scan(&rows, &stored), "count")
		// With runs, each batch stores bob's messages by conversation, in
		// runs of at most 32: 45 of each, in two batches, take 4 to 8 rows.
		if stored != total || runs && (rows < 4 || rows > 8) || !runs && rows != total {
			t.Fatalf("bob's message.created: %d rows holding %d events; want %d events, in 4 to 8 rows with runs (runs %v)", rows, stored, total, runs)
		}

		for _, u := range []plaza.ID{ann, bob, cat} {
			all := e.syncAll(t, u, 0)
			// Within a conversation the log follows seq, which follows the
			// order queued; a batch takes its conversations in turn.
			want := map[plaza.ID][]Message{}
			for _, m := range sent {
				if m.ConversationID == group.ID || u != cat {
					want[m.ConversationID] = append(want[m.ConversationID], m)
				}
			}
			got := map[plaza.ID][]Message{}
			for _, ev := range ofType(all, events.MessageCreated) {
				m := ev.message(t)
				got[m.ConversationID] = append(got[m.ConversationID], m)
			}
			if len(got) != len(want) {
				t.Fatalf("account %s: messages of %d conversations, want %d", u, len(got), len(want))
			}
			for conv, ms := range want {
				if len(got[conv]) != len(ms) {
					t.Fatalf("account %s: %d message.created in %s, want %d", u, len(got[conv]), conv, len(ms))
				}
				for i, m := range got[conv] {
					if m.ID != ms[i].ID || m.Seq != ms[i].Seq || m.Recalled != (m.ID == recalled.ID) {
						t.Fatalf("account %s message %d of %s = %s seq %d recalled %v, want %s seq %d", u, i, conv, m.ID, m.Seq, m.Recalled, ms[i].ID, ms[i].Seq)
					}
				}
			}
			// From every cursor, a page of 7 and a replay of 5 are the
			// next events, byte for byte as read from cursor 0.
			whole, err := e.svc.Sync(ctx, u, 0, 1000)
			mustNil(t, err, "sync from 0")
			n := int64(len(whole.Events))
			for since := range n {
				page, err := e.svc.Sync(ctx, u, since, 7)
				mustNil(t, err, "sync")
				want := min(7, n-since)
				if int64(len(page.Events)) != want || page.More != (since+want < n) || page.Cursor != since+want {
					t.Fatalf("account %s since %d: %d events, more %v, cursor %d; want %d, %v, %d", u, since, len(page.Events), page.More, page.Cursor, want, since+want < n, since+want)
				}
				frames, seqs, err := e.svc.Replay(ctx, u, since, min(since+5, n))
				mustNil(t, err, "replay")
				if int64(len(frames)) != min(5, n-since) {
					t.Fatalf("account %s: replay after %d gave %d frames, want %d", u, since, len(frames), min(5, n-since))
				}
				for i, raw := range page.Events {
					if string(raw) != string(whole.Events[since+int64(i)]) {
						t.Fatalf("account %s since %d: event %d synced as %s, from 0 as %s", u, since, i, raw, whole.Events[since+int64(i)])
					}
				}
				for i, f := range frames {
					if seqs[i] != since+1+int64(i) || string(f) != string(whole.Events[since+int64(i)]) {
						t.Fatalf("account %s since %d: replayed event %d is seq %d %s, want %s", u, since, i, seqs[i], f, whole.Events[since+int64(i)])
					}
				}
			}
		}
	})
}
