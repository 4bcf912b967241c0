package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// The send path remembers a good standing for a moment. A change this
// node makes is seen at once; one made by another node (a second service
// on the same database) within the cache's lifetime of a second.
func TestHostileStandingCacheForgets(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		here, clock := newClockedService(t, db, start, nil)
		there, _ := newClockedService(t, db, start, nil)
		a, tok := register(t, here, "alice")
		b, _ := register(t, here, "bob")
		sess := account.WithSession(ctx, authenticate(t, here, tok).SessionID)

		// Remembered, then a local suspension: refused at once.
		if err := here.CheckStanding(sess, a.ID); err != nil {
			t.Fatalf("active: got %v, want nil", err)
		}
		if _, err := here.Suspend(ctx, audit.CLI, a.ID, "spam", time.Time{}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, here.CheckStanding(sess, a.ID), plaza.EAccountSuspended)

		// Remembered, then closed by another node: seen within a second.
		if err := here.CheckStanding(ctx, b.ID); err != nil {
			t.Fatalf("active: got %v, want nil", err)
		}
		if err := here.Reachable(ctx, b.ID); err != nil {
			t.Fatalf("reachable: got %v, want nil", err)
		}
		if _, err := there.Close(ctx, audit.CLI, b.ID, "fraud"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		wantCode(t, here.CheckStanding(ctx, b.ID), plaza.EAccountClosed)
		wantCode(t, here.Reachable(ctx, b.ID), plaza.EGone)
	})
}
