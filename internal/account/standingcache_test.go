package account_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/bus"
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

// With a bus, nodes tell each other of every standing change, so a
// remembered answer is forgotten on every node at once and may live
// longer; a change the bus does not carry (the admin CLI) is seen within
// that longer lifetime.
func TestHostileStandingCacheHearsOtherNodes(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		b := bus.NewLocal("standing")
		t.Cleanup(func() { b.Close() })
		here, clock := newClockedService(t, db, start, nil)
		there, _ := newClockedService(t, db, start, nil)
		cli, _ := newClockedService(t, db, start, nil) // no bus
		for _, s := range []*account.Service{here, there} {
			if err := s.UseBus(b, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
		}
		a, tok := register(t, here, "alice")
		c, _ := register(t, here, "carol")
		d, _ := register(t, here, "dave")
		sess := account.WithSession(ctx, authenticate(t, here, tok).SessionID)

		// Remembered here, suspended there: refused here at once.
		if err := here.CheckStanding(sess, a.ID); err != nil {
			t.Fatalf("active: got %v, want nil", err)
		}
		if _, err := there.Suspend(ctx, audit.CLI, a.ID, "spam", time.Time{}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, here.CheckStanding(sess, a.ID), plaza.EAccountSuspended)

		// A change to one account leaves the others remembered, and one
		// made where no bus runs is seen when the longer lifetime ends.
		for _, id := range []plaza.ID{c.ID, d.ID} {
			if err := here.CheckStanding(ctx, id); err != nil {
				t.Fatalf("active: got %v, want nil", err)
			}
		}
		if _, err := cli.Close(ctx, audit.CLI, c.ID, "fraud"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Second) // past the lifetime without a bus
		if err := here.CheckStanding(ctx, c.ID); err != nil {
			t.Fatalf("within the lifetime: got %v, want the remembered nil", err)
		}
		clock.Advance(9 * time.Second)
		wantCode(t, here.CheckStanding(ctx, c.ID), plaza.EAccountClosed)
		if err := here.CheckStanding(ctx, d.ID); err != nil {
			t.Fatalf("untouched account: got %v, want nil", err)
		}
	})
}

// lossyBus is a local bus that reports a loss when told to.
type lossyBus struct {
	*bus.Local
	fns []func(bus.Loss)
}

func (b *lossyBus) OnLoss(fn func(bus.Loss)) func() {
	b.fns = append(b.fns, fn)
	return func() {}
}

// TestHostileStandingCacheForgetsOnBusLoss: a standing change whose bus
// message may have been lost (the bus reported a loss) is not trusted
// away for the cache's lifetime: everything remembered is forgotten.
func TestHostileStandingCacheForgetsOnBusLoss(t *testing.T) {
	t.Parallel()
	db := sqldbtest.Open(t, sqldb.SQLite)
	ctx := context.Background()
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	b := &lossyBus{Local: bus.NewLocal("standing")}
	t.Cleanup(func() { b.Close() })
	here, _ := newClockedService(t, db, start, nil)
	cli, _ := newClockedService(t, db, start, nil) // its change never reaches the bus
	if err := here.UseBus(b, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	c, _ := register(t, here, "carol")
	if err := here.CheckStanding(ctx, c.ID); err != nil {
		t.Fatalf("active: got %v, want nil", err)
	}
	if _, err := cli.Close(ctx, audit.CLI, c.ID, "fraud"); err != nil {
		t.Fatal(err)
	}
	if err := here.CheckStanding(ctx, c.ID); err != nil {
		t.Fatalf("remembered: got %v, want nil", err)
	}
	for _, fn := range b.fns {
		fn(bus.LossReconnect)
	}
	wantCode(t, here.CheckStanding(ctx, c.ID), plaza.EAccountClosed)
}
