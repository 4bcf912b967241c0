package identity_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// The checks in these tests ("is the number free?", "is an identity
// already pending?") are read-then-write inside a transaction. SQLite's
// single writer serialises them; on PostgreSQL each round races several
// requests, and a round that lets two through shows the check is not
// enforced by the database.

// rounds is how many times each race is run: enough that a missing guard
// shows up on PostgreSQL nearly every run, cheap enough on SQLite.
const rounds = 20

// race runs fn n times at once and waits for all of them.
func race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func TestOneAccountPerPhoneUnderConcurrency(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		const n = 8
		ids := make([]plaza.ID, n)
		for i := range ids {
			ids[i] = f.register(t, fmt.Sprintf("user%d", i))
		}
		for round := range rounds {
			// Everyone asks for a code to the same number; none holds it yet.
			phone := f.newPhone()
			codes := make([]string, n)
			for i, id := range ids {
				if _, err := f.svc.StartPhone(ctx, id, phone); err != nil {
					t.Fatalf("round %d: start phone: %v", round, err)
				}
				codes[i] = f.sms.lastCode(t, phone)
			}
			errs := make([]error, n)
			race(n, func(i int) { errs[i] = f.svc.VerifyPhone(ctx, ids[i], codes[i]) })
			ok := 0
			for _, err := range errs {
				switch plaza.ErrorCode(err) {
				case "":
					ok++
				case plaza.EConflict:
				default:
					t.Fatalf("round %d: verify phone: %v", round, err)
				}
			}
			if holders := countRows(t, db, `phones WHERE phone = $1`, phone); ok != 1 || holders != 1 {
				t.Fatalf("round %d: %d concurrent verifications of one number succeeded and %d accounts hold it, want 1 and 1 (one account per number)", round, ok, holders)
			}
			f.clock.Advance(f.cfg.ResendAfter)
		}
	})
}

func TestSubmitUnderConcurrency(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		const n = 8
		for round := range rounds {
			id := f.verified(t, fmt.Sprintf("user%d", round))
			errs := make([]error, n)
			race(n, func(i int) { _, errs[i] = f.svc.Submit(ctx, id, submission("Zhang San")) })
			ok := 0
			for _, err := range errs {
				switch plaza.ErrorCode(err) {
				case "":
					ok++
				case plaza.EConflict:
				default:
					t.Fatalf("round %d: submit: %v", round, err)
				}
			}
			if pending := countRows(t, db, `identities WHERE account_id = $1`, id); ok != 1 || pending != 1 {
				t.Fatalf("round %d: %d concurrent submissions for one account succeeded and %d identities are pending, want 1 and 1", round, ok, pending)
			}
			f.clock.Advance(time.Second)
		}
	})
}
