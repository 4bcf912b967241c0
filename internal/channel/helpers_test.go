package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai and America/New_York without the system's zoneinfo

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sms"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// t0 is where every test's clock starts: noon in Shanghai, 04:00 UTC.
var t0 = time.Date(2026, 3, 15, 4, 0, 0, 0, time.UTC)

// testClock is a settable time source installed as Service.now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC().Truncate(time.Microsecond)
}

// Advance moves the clock on by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is one test's services on one database.
type env struct {
	db    *sqldb.DB
	svc   *Service
	accts *account.Service
	ids   *identity.Service
	media *media.Service
	bus   *bus.Local
	audit *audit.Log
	clock *testClock
	// users are accounts user0, user1, … with the current terms accepted.
	users []account.Bulk
	// reviewer is the actor of privileged calls (its own account, staff0).
	reviewer audit.Actor
}

// envOptions changes what newEnv builds.
type envOptions struct {
	users int              // accounts to create; at least 1
	cfg   func(*Config)    // edits the default channel config
	ic    *identity.Config // nil: a policy that requires nothing
}

// newEnv returns services on db with the channel config
// {UTC, 1 a day, 4 a month}, an identity policy that requires nothing,
// media on a temporary disk, a local bus and a fake clock at t0.
func newEnv(tb testing.TB, db *sqldb.DB, o envOptions) *env {
	tb.Helper()
	ctx := context.Background()
	acfg := account.DefaultConfig()
	acfg.Password = account.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}
	accts := account.NewService(db, acfg)
	if err := accts.SeedTerms(ctx); err != nil {
		tb.Fatalf("SeedTerms: %v", err)
	}
	users, err := accts.CreateBulk(ctx, "user", max(o.users, 1), "password123")
	if err != nil {
		tb.Fatalf("CreateBulk: %v", err)
	}
	// The reviewer is nobody's applicant or channel owner: nobody may
	// decide their own application or their own channel's posts.
	staff, err := accts.CreateBulk(ctx, "staff", 1, "password123")
	if err != nil {
		tb.Fatalf("CreateBulk: %v", err)
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
	if o.ic != nil {
		ic = *o.ic
	}
	ids := identity.NewService(db, keys, outbox, ic)

	store, err := blob.NewDisk(filepath.Join(tb.TempDir(), "blobs"))
	if err != nil {
		tb.Fatalf("NewDisk: %v", err)
	}
	mcfg := media.DefaultConfig()
	mcfg.TempDir = tb.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	medias := media.NewService(db, store, mcfg, log)

	b := bus.NewLocal("test")
	tb.Cleanup(func() { b.Close() })

	cfg := Config{Location: time.UTC, SubscriptionDaily: 1, ServiceMonthly: 4}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	svc := NewService(db, b, ids, medias, cfg, log)
	clock := &testClock{now: t0}
	svc.now = clock.Now
	return &env{db: db, svc: svc, accts: accts, ids: ids, media: medias, bus: b, audit: audit.New(db), clock: clock,
		users: users, reviewer: audit.Actor{ID: staff[0].ID, Name: "reviewer staff0"}}
}

// user returns the ID of account i.
func (e *env) user(i int) plaza.ID { return e.users[i].ID }

// newChannel files an application for handle by owner and approves it,
// returning the channel's ID.
func (e *env) newChannel(tb testing.TB, owner plaza.ID, handle, kind string) plaza.ID {
	tb.Helper()
	ctx := context.Background()
	a, err := e.svc.Apply(ctx, owner, ApplicationInput{Handle: handle, Name: "Channel " + handle, Description: "about " + handle, Kind: kind})
	if err != nil {
		tb.Fatalf("Apply(%s): %v", handle, err)
	}
	a, err = e.svc.DecideApplication(ctx, e.reviewer, a.ID, true, "")
	if err != nil {
		tb.Fatalf("DecideApplication(%s): %v", handle, err)
	}
	if a.ChannelID == nil {
		tb.Fatalf("approved application %s has no channel_id", handle)
	}
	return *a.ChannelID
}

// category creates or changes a category.
func (e *env) category(tb testing.TB, name, policy string) {
	tb.Helper()
	if _, err := e.svc.SetCategory(context.Background(), e.reviewer, name, policy, "the "+name+" category"); err != nil {
		tb.Fatalf("SetCategory(%s, %s): %v", name, policy, err)
	}
}

// post creates a post that must succeed.
func (e *env) post(tb testing.TB, author, ch plaza.ID, title, category string) Post {
	tb.Helper()
	p, err := e.svc.CreatePost(context.Background(), author, ch, PostInput{Title: title, Body: "Body of " + title, Category: category})
	if err != nil {
		tb.Fatalf("CreatePost(%q in %s): %v", title, category, err)
	}
	return p
}

// get returns a channel as viewer sees it.
func (e *env) get(tb testing.TB, viewer, ch plaza.ID) Channel {
	tb.Helper()
	c, err := e.svc.Get(context.Background(), viewer, ch)
	if err != nil {
		tb.Fatalf("Get(%d): %v", ch, err)
	}
	return c
}

// auditLog returns every audit entry, oldest first, after checking that
// the chain verifies.
func (e *env) auditLog(tb testing.TB) []audit.Entry {
	tb.Helper()
	ctx := context.Background()
	rep, err := e.audit.Verify(ctx)
	if err != nil {
		tb.Fatalf("audit Verify: %v", err)
	}
	if !rep.OK {
		tb.Fatalf("audit chain broken at %d: %s", rep.FirstBroken, rep.Problem)
	}
	entries, err := e.audit.List(ctx, 0, 100)
	if err != nil {
		tb.Fatalf("audit List: %v", err)
	}
	slices.Reverse(entries)
	return entries
}

// lastAudit returns the newest audit entry with action, failing when none.
func (e *env) lastAudit(tb testing.TB, action string) audit.Entry {
	tb.Helper()
	entries := e.auditLog(tb)
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Action == action {
			return entries[i]
		}
	}
	tb.Fatalf("no audit entry %q", action)
	return audit.Entry{}
}

// countAudit returns how many audit entries have action.
func (e *env) countAudit(tb testing.TB, action string) int {
	tb.Helper()
	n := 0
	for _, en := range e.auditLog(tb) {
		if en.Action == action {
			n++
		}
	}
	return n
}

// uploadPNG uploads a small PNG as owner and returns its media ID.
func (e *env) uploadPNG(tb testing.TB, owner plaza.ID) plaza.ID {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for x := 0; x < 16; x++ {
		for y := 0; y < 12; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 20), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	it, err := e.media.Upload(context.Background(), owner, &buf, "image/png")
	if err != nil {
		tb.Fatalf("Upload(png): %v", err)
	}
	if it.Kind != media.KindImage {
		tb.Fatalf("uploaded PNG has kind %q, want image", it.Kind)
	}
	return it.ID
}

// uploadFile uploads a plain-text file (kind file) as owner.
func (e *env) uploadFile(tb testing.TB, owner plaza.ID) plaza.ID {
	tb.Helper()
	it, err := e.media.Upload(context.Background(), owner, bytes.NewReader([]byte("just some notes\n")), "text/plain")
	if err != nil {
		tb.Fatalf("Upload(text): %v", err)
	}
	if it.Kind == media.KindImage {
		tb.Fatalf("uploaded text has kind image")
	}
	return it.ID
}

// quotas describes a channel's quotas in force, "none" for no quota.
func quotas(c Channel) string {
	f := func(p *int) string {
		if p == nil {
			return "none"
		}
		return strconv.Itoa(*p)
	}
	return f(c.DailyPostLimit) + " a day, " + f(c.MonthlyPostLimit) + " a month"
}

// wantFields fails unless err is invalid_request naming exactly fields.
func wantFields(tb testing.TB, err error, fields ...string) {
	tb.Helper()
	pe := wantCode(tb, err, plaza.EInvalid)
	probs, _ := pe.Details["fields"].([]plaza.FieldProblem)
	var got []string
	for _, p := range probs {
		if !slices.Contains(got, p.Field) {
			got = append(got, p.Field)
		}
	}
	slices.Sort(got)
	want := slices.Clone(fields)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		tb.Fatalf("invalid fields = %v (%v), want %v", got, err, want)
	}
}

// frame is what a channel's subject carries.
type frame struct {
	Type string `json:"type"`
	Data Post   `json:"data"`
}

// watcher collects the frames published on one subject.
type watcher struct {
	bus     bus.Bus
	subject string
	mu      sync.Mutex
	frames  []frame
	marks   int
}

// watch subscribes to channel ch's subject until the test ends.
func watch(tb testing.TB, b bus.Bus, ch plaza.ID) *watcher {
	tb.Helper()
	w := &watcher{bus: b, subject: events.ChannelSubject(ch)}
	sub, err := b.Subscribe(w.subject, func(data []byte) {
		var f frame
		if err := json.Unmarshal(data, &f); err != nil {
			f.Type = "undecodable: " + string(data)
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if f.Type == "test.mark" {
			w.marks++
			return
		}
		w.frames = append(w.frames, f)
	})
	if err != nil {
		tb.Fatalf("Subscribe: %v", err)
	}
	tb.Cleanup(func() { sub.Unsubscribe() })
	return w
}

// take returns the frames received since the last take. It first publishes
// a marker on the subject and waits for it: the bus keeps one publisher's
// order on a subject, so everything the service published before has
// arrived by then, and "nothing arrived" is a real answer.
func (w *watcher) take(tb testing.TB) []frame {
	tb.Helper()
	w.mu.Lock()
	want := w.marks + 1
	w.mu.Unlock()
	if err := w.bus.Publish(context.Background(), w.subject, []byte(`{"type":"test.mark"}`)); err != nil {
		tb.Fatalf("Publish marker: %v", err)
	}
	var out []frame
	plazatest.Eventually(tb, 5*time.Second, func() error {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.marks < want {
			return fmt.Errorf("the marker on %s never arrived", w.subject)
		}
		out, w.frames = w.frames, nil
		return nil
	})
	return out
}

// tableCounts returns the number of rows in every table of the database.
func tableCounts(tb testing.TB, db *sqldb.DB) map[string]int64 {
	tb.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.Engine == sqldb.Postgres {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`
	}
	rows, err := db.Read().QueryContext(ctx, q)
	if err != nil {
		tb.Fatalf("list tables: %v", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	if len(names) < 10 {
		tb.Fatalf("found only tables %v", names)
	}
	out := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+n+`"`).Scan(&c); err != nil {
			tb.Fatalf("count %s: %v", n, err)
		}
		out[n] = c
	}
	return out
}

// diffCounts returns the tables whose counts differ, with the change.
func diffCounts(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for n, a := range after {
		if d := a - before[n]; d != 0 {
			out[n] = d
		}
	}
	for n, b := range before {
		if _, ok := after[n]; !ok {
			out[n] = -b
		}
	}
	return out
}

// The assertions the test suites share live in plazatest.
var wantCode = plazatest.WantCode
