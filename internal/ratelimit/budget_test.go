package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// clock is a settable time source shared by a test's budgets.
type clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
}

// useClock makes b read time from c.
func (b *Budget) useClock(c *clock) {
	b.now = c.now
	if b.mem != nil {
		b.mem.now = c.now
	}
}

// nodes returns n budgets on engine e as n separate nodes would hold them:
// on PostgreSQL each has its own connection pool to one database.
func nodes(t *testing.T, e sqldb.Engine, n int, r Rate) []*Budget {
	t.Helper()
	u := sqldbtest.URL(t, e)
	out := make([]*Budget, n)
	for i := range out {
		db, err := sqldb.Open(context.Background(), u, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if i == 0 {
			if _, err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		out[i] = NewBudget(db, "sends", "messages", r)
	}
	return out
}

// wantRefused checks that err is rate_limited with a retry between 1 and
// maxSecs seconds.
func wantRefused(t *testing.T, err error, maxSecs int) {
	t.Helper()
	e := plaza.AsError(err)
	if e == nil || e.Code != plaza.ERateLimited {
		t.Fatalf("got %v, want rate_limited", err)
	}
	secs, _ := e.Details["retry_after_seconds"].(int)
	if secs < 1 || secs > maxSecs {
		t.Errorf("retry_after_seconds = %v, want 1–%d", e.Details["retry_after_seconds"], maxSecs)
	}
	if e.Details["limit"] != "sends" {
		t.Errorf("details.limit = %v, want sends", e.Details["limit"])
	}
}

// TestHostileBudgetSharedAcrossNodes charges one account's budget on two
// nodes sharing a PostgreSQL database: together they allow one burst, not
// one each. On SQLite (one node) the in-memory budget does the same.
func TestHostileBudgetSharedAcrossNodes(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			n := 2
			if e == sqldb.SQLite {
				n = 1
			}
			bs := nodes(t, e, n, Rate{N: 10, Per: 10 * time.Second})
			clk := &clock{at: time.Unix(1_700_000_000, 0)}
			for _, b := range bs {
				b.useClock(clk)
			}
			for i := 0; i < 10; i++ {
				if err := bs[i%n].Take(ctx, "42", 1); err != nil {
					t.Fatalf("take %d: %v, want allowed (burst 10)", i+1, err)
				}
			}
			for _, b := range bs {
				wantRefused(t, b.Take(ctx, "42", 1), 1)
			}
			if err := bs[n-1].Take(ctx, "43", 1); err != nil {
				t.Errorf("another account: %v, want allowed", err)
			}
			// Sustained: one event a second refills.
			clk.advance(time.Second)
			if err := bs[0].Take(ctx, "42", 1); err != nil {
				t.Errorf("after 1s: %v, want allowed", err)
			}
			wantRefused(t, bs[n-1].Take(ctx, "42", 1), 1)
		})
	}
}

// TestHostileBudgetConcurrentTakesNeverOverspend fires many takes at once
// from two nodes (one on SQLite): exactly the burst passes.
func TestHostileBudgetConcurrentTakesNeverOverspend(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			n := 2
			if e == sqldb.SQLite {
				n = 1
			}
			const burst, tries = 20, 80
			bs := nodes(t, e, n, Rate{N: burst, Per: time.Hour})
			var ok, refused atomic.Int64
			var wg sync.WaitGroup
			for i := 0; i < tries; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := bs[i%n].Take(context.Background(), "7", 1)
					switch plaza.ErrorCode(err) {
					case "":
						ok.Add(1)
					case plaza.ERateLimited:
						refused.Add(1)
					default:
						t.Errorf("take: %v", err)
					}
				}()
			}
			wg.Wait()
			// Each take reads its node's clock before the database orders
			// the takes, so one that reads the time a little earlier than
			// the first take to commit may find the last slot of the burst
			// not yet due: under load at most that one slot (a slot is
			// Per/N, three minutes here) is lost. None is ever overspent.
			if got := ok.Load(); got > burst || got < burst-1 || got+refused.Load() != tries {
				t.Errorf("allowed %d and refused %d of %d, want %d (or %d) allowed and the rest refused", got, refused.Load(), tries, burst, burst-1)
			}
		})
	}
}

// TestHostileBudgetBatches charges several events at once (members added
// to a group): a batch that does not fit is refused whole and charges
// nothing; one larger than the burst passes only on a full budget.
func TestHostileBudgetBatches(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		b := NewBudget(db, "sends", "invitations", Rate{N: 10, Per: time.Hour})
		clk := &clock{at: time.Unix(1_700_000_000, 0)}
		b.useClock(clk)
		if err := b.Take(ctx, "1", 8); err != nil {
			t.Fatalf("8 of 10: %v", err)
		}
		wantRefused(t, b.Take(ctx, "1", 3), 3600)
		if err := b.Take(ctx, "1", 2); err != nil {
			t.Errorf("the last 2 after a refused batch of 3: %v, want allowed (a refusal charges nothing)", err)
		}
		if err := b.Take(ctx, "2", 50); err != nil {
			t.Errorf("a batch of 50 on a full budget of 10: %v, want allowed", err)
		}
		wantRefused(t, b.Take(ctx, "2", 1), 3600)
	})
}

// TestBudgetPrune deletes the shared rows of budgets that have refilled.
func TestBudgetPrune(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		b := NewBudget(db, "sends", "messages", Rate{N: 2, Per: time.Minute})
		clk := &clock{at: time.Unix(1_700_000_000, 0)}
		b.useClock(clk)
		if err := b.Take(ctx, "1", 1); err != nil {
			t.Fatal(err)
		}
		if n, err := Prune(ctx, db, clk.now()); err != nil || n != 0 {
			t.Errorf("prune while charged: %d, %v; want 0 rows", n, err)
		}
		want := int64(1)
		if db.Engine == sqldb.SQLite {
			want = 0 // budgets live in memory
		}
		if n, err := Prune(ctx, db, clk.now().Add(time.Minute)); err != nil || n != want {
			t.Errorf("prune after refill: %d, %v; want %d rows", n, err, want)
		}
	})
}

func TestNilBudgetAllows(t *testing.T) {
	var b *Budget
	if err := b.Take(context.Background(), "x", 1000); err != nil {
		t.Errorf("nil budget: %v, want allowed", err)
	}
	if NewBudget(nil, "sends", "messages", Rate{}) != nil {
		t.Error("a zero rate made a budget, want nil (no limit)")
	}
}
