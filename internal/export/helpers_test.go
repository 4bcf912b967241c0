package export_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/export"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/jobs"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/microblog"
	"github.com/plaza-im/plaza/internal/moderation"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sms"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// env is one test's services on one database, with the export service
// and its job queue running.
type env struct {
	db       *sqldb.DB
	store    *blob.Disk
	jobs     *jobs.Queue
	svc      *export.Service
	accts    *account.Service
	ids      *identity.Service
	chat     *chat.Service
	media    *media.Service
	channels *channel.Service
	blog     *microblog.Service
	mod      *moderation.Service
	outbox   string
	// users are user0, user1, … with the terms accepted; staff are a
	// moderator, a second moderator and an admin.
	users []account.Bulk
	staff []audit.Actor
	// start runs the job queue (once).
	start func()
}

// newEnv builds the services on db, runs the job queue and stops it at
// cleanup. cfg tunes the export service.
func newEnv(tb testing.TB, db *sqldb.DB, users int, cfg export.Config) *env {
	tb.Helper()
	e := newPausedEnv(tb, db, users, cfg)
	e.start()
	return e
}

// newPausedEnv is newEnv with the job queue not yet running: jobs wait
// until start.
func newPausedEnv(tb testing.TB, db *sqldb.DB, users int, cfg export.Config) *env {
	tb.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
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
	dir := tb.TempDir()
	keys, _, err := identity.LoadKeyring(filepath.Join(dir, "secret.key"), true)
	if err != nil {
		tb.Fatalf("LoadKeyring: %v", err)
	}
	outboxPath := filepath.Join(dir, "sms.jsonl")
	outbox, err := sms.NewOutbox(outboxPath)
	if err != nil {
		tb.Fatalf("NewOutbox: %v", err)
	}
	ic := identity.DefaultConfig()
	ic.Policy = identity.Policy{}
	ids := identity.NewService(db, keys, outbox, ic)
	ids.UseAudit(al)
	b := bus.NewLocal("test")
	tb.Cleanup(func() { b.Close() })
	ccfg := chat.DefaultConfig()
	ccfg.DirectPolicy = chat.DirectAnyone
	chats, err := chat.NewService(ctx, db, b, accts, ids, ccfg, log)
	if err != nil {
		tb.Fatalf("chat.NewService: %v", err)
	}
	tb.Cleanup(chats.Close)
	store, err := blob.NewDisk(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatalf("NewDisk: %v", err)
	}
	mcfg := media.DefaultConfig()
	mcfg.TempDir = tb.TempDir()
	medias := media.NewService(db, store, mcfg, log)
	chats.UseMedia(medias)
	channels := channel.NewService(db, b, ids, medias, channel.Config{Location: time.UTC, SubscriptionDaily: 100, ServiceMonthly: 100}, log)
	channels.UseAudit(al)
	blog, err := microblog.NewService(ctx, db, b, accts, ids, medias, chats.Events(), microblog.DefaultConfig(), log)
	if err != nil {
		tb.Fatalf("microblog.NewService: %v", err)
	}
	tb.Cleanup(blog.Close)
	mcf := moderation.DefaultConfig()
	mcf.Reports.N = 0
	mod, err := moderation.NewService(ctx, db, accts, al, chats.Events(), mcf, log)
	if err != nil {
		tb.Fatalf("moderation.NewService: %v", err)
	}
	mod.UseDomains(blog, channels, chats)

	q := jobs.New(db, jobs.Config{Poll: 10 * time.Millisecond, Backoff: 50 * time.Millisecond}, log)
	svc := export.NewService(db, store, q, export.Services{
		Accounts: accts, Identity: ids, Chat: chats, Media: medias, Channels: channels, Microblog: blog, Moderation: mod,
	}, cfg, log)
	qctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	var once sync.Once
	start := func() {
		once.Do(func() {
			go func() {
				defer close(done)
				q.Run(qctx)
			}()
		})
	}
	tb.Cleanup(func() {
		stop()
		once.Do(func() { close(done) })
		<-done
	})
	return &env{db: db, start: start, store: store, jobs: q, svc: svc, accts: accts, ids: ids, chat: chats, media: medias, channels: channels,
		blog: blog, mod: mod, outbox: outboxPath, users: us,
		staff: []audit.Actor{{ID: staff[0].ID, Name: staff[0].Handle}, {ID: staff[1].ID, Name: staff[1].Handle}, {ID: staff[2].ID, Name: staff[2].Handle}}}
}

func (e *env) user(i int) plaza.ID { return e.users[i].ID }

func (e *env) actor(i int) audit.Actor {
	return audit.Actor{ID: e.users[i].ID, Name: e.users[i].Handle}
}

// verifyPhone verifies phone for account i, reading the code from the
// SMS outbox.
func (e *env) verifyPhone(tb testing.TB, i int, phone string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := e.ids.StartPhone(ctx, e.user(i), phone); err != nil {
		tb.Fatalf("StartPhone: %v", err)
	}
	f, err := os.Open(e.outbox)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var code string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct{ To, Code string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.To == phone {
			code = line.Code
		}
	}
	if err := e.ids.VerifyPhone(ctx, e.user(i), code); err != nil {
		tb.Fatalf("VerifyPhone: %v", err)
	}
}

// pngBytes returns a small PNG, different for each seed.
func pngBytes(tb testing.TB, seed int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for x := range 16 {
		for y := range 12 {
			img.Set(x, y, color.RGBA{uint8(x*16 + seed), uint8(y * 20), uint8(seed * 40), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// upload uploads a PNG as account i.
func (e *env) upload(tb testing.TB, i, seed int) media.Item {
	tb.Helper()
	it, err := e.media.Upload(context.Background(), e.user(i), bytes.NewReader(pngBytes(tb, seed)), "image/png")
	if err != nil {
		tb.Fatalf("Upload: %v", err)
	}
	return it
}

// send sends a text (or, with mediaID, an image) message as account i.
func (e *env) send(tb testing.TB, i int, conv plaza.ID, text string, mediaID *plaza.ID) chat.Message {
	tb.Helper()
	in := chat.SendInput{ConversationID: conv, ClientID: fmt.Sprint(plaza.NewID()), Kind: chat.KindText, Text: text}
	if mediaID != nil {
		in.Kind, in.MediaID = chat.KindImage, mediaID
	}
	m, _, err := e.chat.Send(context.Background(), e.user(i), in)
	if err != nil {
		tb.Fatalf("Send(%q): %v", text, err)
	}
	return m
}

// waitExport polls until export id of requester has a final status.
func (e *env) waitExport(tb testing.TB, requester, id plaza.ID) export.Export {
	tb.Helper()
	var got export.Export
	plazatest.Eventually(tb, 5*time.Minute, func() error {
		var err error
		if got, err = e.svc.Get(context.Background(), requester, id); err != nil {
			return err
		}
		if got.Status != export.Ready && got.Status != export.Failed {
			return fmt.Errorf("export %s is %s (%.0f%%)", id, got.Status, got.Progress*100)
		}
		return nil
	})
	return got
}

// unzipped is an export's files by name.
type unzipped map[string][]byte

// download opens a ready export and reads every file of its ZIP.
func (e *env) download(tb testing.TB, requester, id plaza.ID) unzipped {
	tb.Helper()
	obj, ex, err := e.svc.Open(context.Background(), requester, id)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	defer obj.Close()
	if obj.Size() != ex.Size {
		tb.Errorf("got a ZIP of %d bytes, want the export's size %d", obj.Size(), ex.Size)
	}
	b, err := io.ReadAll(obj)
	if err != nil {
		tb.Fatalf("read the export: %v", err)
	}
	return readZip(tb, bytes.NewReader(b), int64(len(b)))
}

// readZip reads every file of a ZIP.
func readZip(tb testing.TB, r io.ReaderAt, size int64) unzipped {
	tb.Helper()
	zr, err := zip.NewReader(r, size)
	if err != nil {
		tb.Fatalf("the export is not a ZIP: %v", err)
	}
	out := unzipped{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatalf("open %s: %v", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatalf("read %s: %v", f.Name, err)
		}
		if _, dup := out[f.Name]; dup {
			tb.Errorf("the ZIP holds %s twice", f.Name)
		}
		out[f.Name] = b
	}
	return out
}

// json decodes the file name into v.
func (u unzipped) json(tb testing.TB, name string, v any) {
	tb.Helper()
	b, ok := u[name]
	if !ok {
		tb.Fatalf("the export has no %s", name)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
}
