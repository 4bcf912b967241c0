package microblog

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
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sms"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// testClock is a settable time source installed as Service.now.
type testClock struct {
	mu  sync.Mutex
	now time.Time // zero: the real time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return c.now
}

// Set fixes the clock at t.
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC().Truncate(time.Microsecond)
}

// env is one test's services on one database: accounts user0, user1, …
// with the terms accepted, chat for contacts and blocks, media on a
// temporary disk, a local bus, and the fan-out worker running.
type env struct {
	db    *sqldb.DB
	svc   *Service
	accts *account.Service
	ids   *identity.Service
	chat  *chat.Service
	media *media.Service
	bus   *bus.Local
	audit *audit.Log
	users []account.Bulk
	staff audit.Actor
	clock *testClock
	// followed are the follow changes told to the hub, as "userN
	// follows" or "userN unfollows".
	followed []string
	mu       sync.Mutex
}

// envOptions changes what newEnv builds.
type envOptions struct {
	users int              // accounts to create; at least 1
	cfg   func(*Config)    // edits the default config
	ic    *identity.Config // nil: a policy that requires nothing
	// noWorker leaves the fan-out worker stopped (tests that run it
	// themselves).
	noWorker bool
}

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
	chats, err := chat.NewService(ctx, db, b, accts, ids, chat.DefaultConfig(), log)
	if err != nil {
		tb.Fatalf("chat.NewService: %v", err)
	}
	tb.Cleanup(chats.Close)
	cfg := DefaultConfig()
	cfg.FanoutPoll = 20 * time.Millisecond
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	svc, err := NewService(ctx, db, b, accts, ids, medias, chats.Events(), cfg, log)
	if err != nil {
		tb.Fatalf("NewService: %v", err)
	}
	tb.Cleanup(svc.Close)
	clock := &testClock{}
	svc.now = clock.Now
	al := audit.New(db)
	svc.UseAudit(al)
	e := &env{db: db, svc: svc, accts: accts, ids: ids, chat: chats, media: medias, bus: b, audit: al, users: users, clock: clock,
		staff: audit.Actor{ID: staff[0].ID, Name: "staff0"}}
	svc.OnFollowChange(func(_ context.Context, a plaza.ID, c events.FollowControl) {
		name := a.String()
		for _, u := range users {
			if u.ID == a {
				name = u.Handle
			}
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		e.followed = append(e.followed, name+map[bool]string{true: " follows", false: " unfollows"}[c.Follow])
	})
	chats.OnBlock(svc.BlockHook)
	if !o.noWorker {
		e.startWorker(tb)
	}
	return e
}

// startWorker runs the fan-out worker until the test ends.
func (e *env) startWorker(tb testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.svc.RunFanout(ctx)
	}()
	tb.Cleanup(func() { cancel(); <-done })
}

// user returns the ID of account i.
func (e *env) user(i int) plaza.ID { return e.users[i].ID }

// post creates a public post that must succeed.
func (e *env) post(tb testing.TB, author plaza.ID, text string) Post {
	tb.Helper()
	return e.postWith(tb, author, PostInput{Text: text})
}

// postWith creates a post that must succeed.
func (e *env) postWith(tb testing.TB, author plaza.ID, in PostInput) Post {
	tb.Helper()
	p, err := e.svc.Create(context.Background(), author, in)
	if err != nil {
		tb.Fatalf("Create(%+v): %v", in, err)
	}
	return p
}

// follows makes follower follow followee.
func (e *env) follows(tb testing.TB, follower, followee plaza.ID) {
	tb.Helper()
	if err := e.svc.Follow(context.Background(), follower, followee); err != nil {
		tb.Fatalf("Follow(%d → %d): %v", follower, followee, err)
	}
}

// befriend makes a and b contacts.
func (e *env) befriend(tb testing.TB, a, b plaza.ID) {
	tb.Helper()
	ctx := context.Background()
	req, err := e.chat.RequestContact(ctx, a, b, "hi")
	if err != nil {
		tb.Fatalf("RequestContact: %v", err)
	}
	if _, err := e.chat.AcceptContact(ctx, b, req.ID); err != nil {
		tb.Fatalf("AcceptContact: %v", err)
	}
}

// block makes a block b.
func (e *env) block(tb testing.TB, a, b plaza.ID) {
	tb.Helper()
	if err := e.chat.Block(context.Background(), a, b); err != nil {
		tb.Fatalf("Block: %v", err)
	}
}

// drain waits until every fan-out job is done.
func (e *env) drain(tb testing.TB) {
	tb.Helper()
	plazatest.Eventually(tb, 10*time.Second, func() error {
		n, err := e.svc.FanoutPending(context.Background())
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d fan-out jobs pending", n)
		}
		return nil
	})
}

// timeline returns the IDs on reader's whole timeline, newest first,
// paging with limit, after the fan-out is done.
func (e *env) timeline(tb testing.TB, reader plaza.ID) []plaza.ID {
	tb.Helper()
	e.drain(tb)
	return collect(tb, func(cursor plaza.ID) (Page, error) {
		return e.svc.Timeline(context.Background(), reader, cursor, 3)
	})
}

// collect pages through a list and returns every post ID in order,
// failing on a repeated ID.
func collect(tb testing.TB, page func(cursor plaza.ID) (Page, error)) []plaza.ID {
	tb.Helper()
	var out []plaza.ID
	cursor := plaza.ID(0)
	for i := 0; i < 1000; i++ {
		p, err := page(cursor)
		if err != nil {
			tb.Fatalf("page after %d: %v", cursor, err)
		}
		for _, post := range p.Posts {
			if slices.Contains(out, post.ID) {
				tb.Fatalf("post %d came twice", post.ID)
			}
			out = append(out, post.ID)
		}
		if p.Next == 0 {
			return out
		}
		cursor = p.Next
	}
	tb.Fatal("more than 1000 pages")
	return nil
}

// ids returns the IDs of posts.
func ids(posts ...Post) []plaza.ID {
	out := make([]plaza.ID, len(posts))
	for i, p := range posts {
		out[i] = p.ID
	}
	return out
}

// count returns the result of a COUNT(*) query.
func (e *env) count(tb testing.TB, query string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := e.db.Read().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// counts returns an account's counts.
func (e *env) counts(tb testing.TB, account plaza.ID) Counts {
	tb.Helper()
	c, err := e.svc.Counts(context.Background(), 0, account)
	if err != nil {
		tb.Fatalf("Counts: %v", err)
	}
	return c
}

// notifications returns account's notifications, newest first.
func (e *env) notifications(tb testing.TB, account plaza.ID) []Notification {
	tb.Helper()
	ns, _, err := e.svc.Notifications(context.Background(), account, 0, 100, false)
	if err != nil {
		tb.Fatalf("Notifications: %v", err)
	}
	return ns
}

// syncedNotifications returns the notifications in account's sync log.
func (e *env) syncedNotifications(tb testing.TB, account plaza.ID) []Notification {
	tb.Helper()
	page, err := e.chat.Events().Sync(context.Background(), account, 0, 1000)
	if err != nil {
		tb.Fatalf("Sync: %v", err)
	}
	var out []Notification
	for _, raw := range page.Events {
		var f struct {
			Type string       `json:"type"`
			Data Notification `json:"data"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			tb.Fatalf("event %s: %v", raw, err)
		}
		if f.Type == events.Notification {
			out = append(out, f.Data)
		}
	}
	return out
}

// uploadPNG uploads a small PNG as owner and returns its media ID.
func (e *env) uploadPNG(tb testing.TB, owner plaza.ID) plaza.ID {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 6))
	for x := 0; x < 8; x++ {
		img.Set(x, x%6, color.RGBA{uint8(x * 30), 90, 160, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	it, err := e.media.Upload(context.Background(), owner, &buf, "image/png")
	if err != nil {
		tb.Fatalf("Upload(png): %v", err)
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
	return it.ID
}

// videoRow records a video owned by owner directly in the media table (the
// upload path's probing is tested in package media; here only the kind
// matters).
func (e *env) videoRow(tb testing.TB, owner plaza.ID) plaza.ID {
	tb.Helper()
	id := plaza.NewID()
	if _, err := e.db.Write().ExecContext(context.Background(), `INSERT INTO media (owner_id, id, kind, content_type, size, width, height, duration_ms,
		storage_key, thumb_key, thumb_type, sha256, created_at) VALUES ($1, $2, 'video', 'video/mp4', 1000, 320, 240, 5000, $3, '', '', '', 0)`,
		owner, id, "v/"+id.String()); err != nil {
		tb.Fatal(err)
	}
	return id
}

var wantCode = plazatest.WantCode

func ptr(id plaza.ID) *plaza.ID { return &id }
