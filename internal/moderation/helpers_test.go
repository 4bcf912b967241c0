package moderation

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/microblog"
	"github.com/plaza-im/plaza/internal/ratelimit"
	"github.com/plaza-im/plaza/internal/sms"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// testClock is a settable time source.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC().Truncate(time.Microsecond)
}

// env is one test's services on one database: users user0…userN-1 with
// the terms accepted, two moderators (mod0, mod1) and an admin.
type env struct {
	db    *sqldb.DB
	svc   *Service
	accts *account.Service
	chat  *chat.Service
	ids   *identity.Service
	blog  *microblog.Service
	audit *audit.Log
	users []account.Bulk
	mods  []audit.Actor
	admin audit.Actor
	clock *testClock
}

func newEnv(tb testing.TB, db *sqldb.DB, users int) *env {
	tb.Helper()
	ctx := context.Background()
	acfg := account.DefaultConfig()
	acfg.Password = account.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}
	accts := account.NewService(db, acfg)
	if err := accts.SeedTerms(ctx); err != nil {
		tb.Fatalf("SeedTerms: %v", err)
	}
	al := audit.New(db)
	accts.UseAudit(al)
	us, err := accts.CreateBulk(ctx, "user", users, "password123")
	if err != nil {
		tb.Fatalf("CreateBulk: %v", err)
	}
	staff, err := accts.CreateBulk(ctx, "staff", 3, "password123")
	if err != nil {
		tb.Fatalf("CreateBulk: %v", err)
	}
	for i, role := range []account.Role{account.Moderator, account.Moderator, account.Admin} {
		if err := accts.GrantRole(ctx, audit.CLI, staff[i].ID, role); err != nil {
			tb.Fatalf("GrantRole: %v", err)
		}
	}
	keys, _, err := identity.LoadKeyring(filepath.Join(tb.TempDir(), "k"), true)
	if err != nil {
		tb.Fatalf("LoadKeyring: %v", err)
	}
	outbox, err := sms.NewOutbox(filepath.Join(tb.TempDir(), "sms.jsonl"))
	if err != nil {
		tb.Fatalf("NewOutbox: %v", err)
	}
	ic := identity.DefaultConfig()
	ic.Policy = identity.Policy{}
	ids := identity.NewService(db, keys, outbox, ic)
	ids.UseAudit(al)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b := bus.NewLocal("test")
	tb.Cleanup(func() { b.Close() })
	chats, err := chat.NewService(ctx, db, b, accts, ids, chat.DefaultConfig(), log)
	if err != nil {
		tb.Fatalf("chat.NewService: %v", err)
	}
	tb.Cleanup(chats.Close)
	store, err := blob.NewDisk(filepath.Join(tb.TempDir(), "blobs"))
	if err != nil {
		tb.Fatalf("NewDisk: %v", err)
	}
	mcfg := media.DefaultConfig()
	mcfg.TempDir = tb.TempDir()
	medias := media.NewService(db, store, mcfg, log)
	blog, err := microblog.NewService(ctx, db, b, accts, ids, medias, chats.Events(), microblog.DefaultConfig(), log)
	if err != nil {
		tb.Fatalf("microblog.NewService: %v", err)
	}
	tb.Cleanup(blog.Close)
	cfg := DefaultConfig()
	cfg.Reports.N = 0
	svc, err := NewService(ctx, db, accts, al, chats.Events(), cfg, log)
	if err != nil {
		tb.Fatalf("NewService: %v", err)
	}
	clock := &testClock{}
	svc.now = clock.Now
	al.UseClock(clock.Now)
	svc.report.ttl = 0
	svc.UseDomains(blog, nil, chats)
	return &env{db: db, svc: svc, accts: accts, chat: chats, ids: ids, blog: blog, audit: al, users: us, clock: clock,
		mods:  []audit.Actor{{ID: staff[0].ID, Name: "staff0"}, {ID: staff[1].ID, Name: "staff1"}},
		admin: audit.Actor{ID: staff[2].ID, Name: "staff2"}}
}

func (e *env) user(i int) plaza.ID { return e.users[i].ID }

func (e *env) actor(i int) audit.Actor {
	return audit.Actor{ID: e.users[i].ID, Name: e.users[i].Handle}
}

// report files a report that must succeed.
func (e *env) report(tb testing.TB, by int, typ string, id plaza.ID, rule int64) Report {
	tb.Helper()
	r, err := e.svc.File(context.Background(), e.actor(by), ReportInput{TargetType: typ, TargetID: id, RuleID: rule, Comment: "see this"})
	if err != nil {
		tb.Fatalf("File(%s %d): %v", typ, id, err)
	}
	return r
}

// itemOf returns the open queue item of a report.
func (e *env) itemOf(tb testing.TB, r Report) Item {
	tb.Helper()
	it, err := e.svc.GetItem(context.Background(), r.ItemID)
	if err != nil {
		tb.Fatalf("GetItem: %v", err)
	}
	return it
}

// staff returns moderator 0, moderator 1 or (2) the admin.
func (e *env) staff(i int) audit.Actor {
	if i == 2 {
		return e.admin
	}
	return e.mods[i]
}

// decide decides a report's item as staff(m); it must succeed.
func (e *env) decide(tb testing.TB, m int, r Report, in DecisionInput) Decision {
	tb.Helper()
	d, err := e.svc.DecideReport(context.Background(), e.staff(m), r.ItemID, in)
	if err != nil {
		tb.Fatalf("DecideReport(%+v): %v", in, err)
	}
	return d
}

// newBudget returns a report budget of n an hour on db.
func newBudget(db *sqldb.DB, n int) *ratelimit.Budget {
	return ratelimit.NewBudget(db, "reports", "reports", ratelimit.Rate{N: n, Per: time.Hour})
}
