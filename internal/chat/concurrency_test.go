package chat

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestConcurrentSendsReadsAndChanges mixes what writes to the sync log at
// once — sends through the writer, read receipts, recalls and group
// changes, which run in their own transactions — and wants every call to
// succeed and every account's log to stay gap-free. On PostgreSQL these
// transactions lock the sync heads of the same accounts, so any two that
// take them in different orders can deadlock.
func TestConcurrentSendsReadsAndChanges(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b, c := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol")
		direct := e.direct(t, a, b)
		g := e.group(t, a, "club", b, c)
		_, err := e.svc.SetRole(ctx, a, g.ID, b, RoleAdmin)
		mustNil(t, err, "make admin")

		const rounds = 100
		var wg sync.WaitGroup
		errs := make(chan error, 16*rounds)
		report := func(what string, err error) {
			if err != nil {
				errs <- fmt.Errorf("%s: %w", what, err)
			}
		}
		// Alice and bob each send in both conversations, recall some of
		// their direct messages and, in another goroutine, read the direct
		// conversation to its end; carol reads the group; bob renames it.
		for name, me := range map[string]plaza.ID{"alice": a, "bob": b} {
			wg.Go(func() {
				for i := range rounds {
					m, _, err := e.svc.Send(ctx, me, SendInput{ConversationID: direct.ID, ClientID: fmt.Sprint("d", i), Kind: KindText, Text: "hi"})
					report(name+" sends direct", err)
					_, _, err2 := e.svc.Send(ctx, me, SendInput{ConversationID: g.ID, ClientID: fmt.Sprint("g", i), Kind: KindText, Text: "hi"})
					report(name+" sends to the group", err2)
					if err == nil && i%5 == 0 {
						_, err = e.svc.Recall(ctx, me, direct.ID, m.ID)
						report(name+" recalls", err)
					}
				}
			})
			wg.Go(func() {
				for range rounds {
					cv, err := e.svc.Get(ctx, me, direct.ID)
					report(name+" gets", err)
					report(name+" reads", e.svc.Read(ctx, me, direct.ID, cv.LastSeq))
				}
			})
		}
		wg.Go(func() {
			for range rounds {
				cv, err := e.svc.Get(ctx, c, g.ID)
				report("carol gets", err)
				report("carol reads", e.svc.Read(ctx, c, g.ID, cv.LastSeq))
			}
		})
		wg.Go(func() {
			for i := range rounds / 4 {
				_, err := e.svc.Rename(ctx, b, g.ID, fmt.Sprint("club ", i))
				report("bob renames", err)
			}
		})
		wg.Wait()
		close(errs)
		n := 0
		for err := range errs {
			if n++; n <= 5 {
				t.Errorf("%v", err)
			}
		}
		if n > 5 {
			t.Errorf("… and %d more errors", n-5)
		}

		wantSeqs(t, e.history(t, a, direct.ID), 1, 2*rounds)
		wantSeqs(t, e.history(t, c, g.ID), 1, 2*rounds)
		for name, id := range map[string]plaza.ID{"alice": a, "bob": b, "carol": c} {
			for i, ev := range e.syncAll(t, id, 0) {
				if got := ev.cursor(t); got != int64(i+1) {
					t.Fatalf("%s's event %d has cursor %d, want %d", name, i, got, i+1)
				}
			}
		}
	})
}
