package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
	"github.com/plaza-im/plaza/internal/push"
	"github.com/plaza-im/plaza/internal/ratelimit"
	"github.com/plaza-im/plaza/internal/realtime"
	"github.com/plaza-im/plaza/internal/sms"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// testEnv is one API server on a fresh SQLite database.
type testEnv struct {
	t         testing.TB
	srv       *httptest.Server
	api       *Server
	db        *sqldb.DB
	media     string // the media store's directory
	accounts  *account.Service
	identity  *identity.Service
	chat      *chat.Service
	channels  *channel.Service
	microblog *microblog.Service
	mod       *moderation.Service
	exports   *export.Service
	push      *push.Service
	// startJobs starts the background job queue, unless it runs already
	// (see withJobsPaused).
	startJobs func()
	outbox    string // the SMS outbox file
	logs      *bytes.Buffer
	logMu     *sync.Mutex
}

// envConfig is what options may change in a test server.
type envConfig struct {
	Config
	chat chat.Config
	// wrapBus, if set, wraps the bus (to lose or reorder events).
	wrapBus func(bus.Bus) bus.Bus
	// media, if set, changes the upload rules.
	media func(*media.Config)
	// channels holds the public-account rules.
	channels channel.Config
	// microblog holds the microblog's rules.
	microblog microblog.Config
	// ui, if set, is the web client's handler.
	ui http.Handler
	// streams caps the open streams.
	streams realtime.Limits
	// engine is the database engine (default SQLite).
	engine sqldb.Engine
	// wrapStore, if set, wraps the media store (to fail its writes).
	wrapStore func(blob.Store) blob.Store
	// deletionGrace, if set, is the grace period before an account's
	// deletion takes effect.
	deletionGrace time.Duration
	// jobsPaused leaves the job queue stopped until startJobs.
	jobsPaused bool
	// db, if set, is the database, shared with other servers (nodes).
	db *sqldb.DB
	// bucket, if set, keeps media and resumable uploads in S3.
	bucket *blob.S3
	// push, if set, changes push's configuration.
	push func(*push.Config)
}

type envOption func(*envConfig)

func withRateLimits(c *envConfig) { c.RateLimits = true }

// withDeletionGrace sets the grace period before a deletion takes effect.
func withDeletionGrace(d time.Duration) envOption { return func(c *envConfig) { c.deletionGrace = d } }

// withJobsPaused leaves background jobs (exports) queued until the test
// calls startJobs.
func withJobsPaused(c *envConfig) { c.jobsPaused = true }

// withEngine runs the server on engine e.
func withEngine(e sqldb.Engine) envOption { return func(c *envConfig) { c.engine = e } }

// eachEngine runs fn once per engine that sqldbtest.Engines offers
// (PostgreSQL too when PLAZA_TEST_POSTGRES is set), each on a fresh server.
func eachEngine(t *testing.T, fn func(t *testing.T, e *testEnv), opts ...envOption) {
	t.Helper()
	for _, eng := range sqldbtest.Engines() {
		t.Run(string(eng), func(t *testing.T) {
			fn(t, newEnv(t, append(opts, withEngine(eng))...))
		})
	}
}

func newEnv(tb testing.TB, opts ...envOption) *testEnv {
	tb.Helper()
	dir := tb.TempDir()
	mbcfg := microblog.DefaultConfig()
	mbcfg.FanoutPoll = 20 * time.Millisecond
	cfg := envConfig{Config: DefaultConfig(), chat: chat.DefaultConfig(), channels: channel.DefaultConfig(), microblog: mbcfg}
	cfg.RateLimits = false
	cfg.Version = "test"
	cfg.UploadsDir = filepath.Join(dir, "uploads")
	cfg.engine = sqldb.SQLite
	for _, o := range opts {
		o(&cfg)
	}
	db := cfg.db
	if db == nil {
		db = sqldbtest.Open(tb, cfg.engine)
	}
	acfg := account.DefaultConfig()
	// Cheap hashes keep the suite fast under -race; the real parameters
	// are tested in package account.
	acfg.Password = account.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}
	acfg.DeletionGrace = cfg.deletionGrace
	accounts := account.NewService(db, acfg)
	if err := accounts.SeedTerms(context.Background()); err != nil {
		tb.Fatal(err)
	}
	// One queue runs every background job: erasures and exports.
	q := jobs.New(db, jobs.Config{Poll: 20 * time.Millisecond, Backoff: 50 * time.Millisecond}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	accounts.UseJobs(q)
	keys, _, err := identity.LoadKeyring(filepath.Join(dir, "secret.key"), true)
	if err != nil {
		tb.Fatal(err)
	}
	outbox, err := sms.NewOutbox(filepath.Join(dir, "outbox", "sms.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	ids := identity.NewService(db, keys, outbox, identity.DefaultConfig())
	accounts.OnDelete(identity.DeleteAccountData)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var b bus.Bus = bus.NewLocal("test")
	tb.Cleanup(func() { b.Close() })
	if cfg.wrapBus != nil {
		b = cfg.wrapBus(b)
	}
	pcfg := push.DefaultConfig()
	pcfg.AllowLoopback = true
	pcfg.RetryBase = 10 * time.Millisecond
	pcfg.FlushDelay = 5 * time.Millisecond
	if cfg.push != nil {
		cfg.push(&pcfg)
	}
	pushes, err := push.NewService(context.Background(), db, pcfg, log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pushes.Close)
	chats, err := chat.NewService(context.Background(), db, pushes.Tap(b), accounts, ids, cfg.chat, log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(chats.Close)
	pushes.Start(accounts, chats)
	mediaDir := filepath.Join(dir, "media")
	store, err := blob.NewDisk(mediaDir)
	if err != nil {
		tb.Fatal(err)
	}
	mcfg := media.DefaultConfig()
	mcfg.TempDir = tb.TempDir()
	if cfg.media != nil {
		cfg.media(&mcfg)
	}
	var mstore blob.Store = store
	if cfg.bucket != nil {
		mstore = cfg.bucket
	}
	if cfg.wrapStore != nil {
		mstore = cfg.wrapStore(mstore)
	}
	medias := media.NewService(db, mstore, mcfg, log)
	chats.UseMedia(medias)
	accounts.OnDelete(chats.DeleteAccountData)
	accounts.OnErase(chats.EraseAccount)
	logs := &bytes.Buffer{}
	lw := &lockedWriter{w: logs}
	reg := prometheus.NewRegistry()
	apiLog := slog.New(slog.NewJSONHandler(lw, nil))
	hcfg := realtime.DefaultConfig()
	// PLAZA_TEST_STREAM_TRANSPORT=std runs the suite on the other transport.
	if tr := os.Getenv("PLAZA_TEST_STREAM_TRANSPORT"); tr != "" {
		hcfg.Transport = tr
	}
	hub := realtime.NewHub(hcfg, b, chats.Events(), StreamDomain(chats), apiLog, reg)
	hub.UsePresence(pushes.Presence)
	if err := hub.UseStanding(StreamStanding(accounts)); err != nil {
		tb.Fatal(err)
	}
	accounts.OnStandingChange(realtime.StandingNotifier(b, log))
	hub.UseLimits(db, cfg.streams)
	chans := channel.NewService(db, b, ids, medias, cfg.channels, log)
	accounts.OnDelete(chans.DeleteAccountData)
	chans.OnFollowChange(realtime.FollowNotifier(b, log))
	hub.UseChannels(chans.FollowedIDs)
	mb, err := microblog.NewService(context.Background(), db, b, accounts, ids, medias, chats.Events(), cfg.microblog, log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(mb.Close)
	accounts.OnDelete(mb.DeleteAccountData)
	accounts.OnErase(mb.EraseAccount)
	accounts.OnErase(medias.EraseOwner)
	accounts.OnDelete(moderation.DeleteAccountData)
	mb.OnFollowChange(realtime.FollowNotifier(b, log))
	chats.OnBlock(mb.BlockHook)
	hub.UseAuthors(mb.FollowedAuthors)
	fanout, stopFanout := context.WithCancel(context.Background())
	fanoutDone := make(chan struct{})
	go func() { defer close(fanoutDone); mb.RunFanout(fanout) }()
	tb.Cleanup(func() { stopFanout(); <-fanoutDone })
	al := audit.New(db)
	accounts.UseAudit(al)
	ids.UseAudit(al)
	chans.UseAudit(al)
	mb.UseAudit(al)
	mcfg2 := moderation.DefaultConfig()
	if !cfg.RateLimits {
		mcfg2.Reports = ratelimit.Rate{}
	}
	mod, err := moderation.NewService(context.Background(), db, accounts, al, chats.Events(), mcfg2, log)
	if err != nil {
		tb.Fatal(err)
	}
	mod.UseDomains(mb, chans, chats)
	exports := export.NewService(db, mstore, q, export.Services{
		Accounts: accounts, Identity: ids, Chat: chats, Media: medias, Channels: chans, Microblog: mb, Moderation: mod,
	}, export.Config{}, log)
	accounts.OnDelete(exports.DeleteAccountData)
	accounts.OnErase(func(ctx context.Context, id plaza.ID, _ account.TxFunc) error { return exports.EraseAccount(ctx, id) })
	exports.AddSection("legacy_contact", LegacyContactSection(accounts))
	jobsCtx, stopJobs := context.WithCancel(context.Background())
	jobsDone := make(chan struct{})
	var startOnce sync.Once
	startJobs := func() {
		startOnce.Do(func() { go func() { defer close(jobsDone); q.Run(jobsCtx) }() })
	}
	tb.Cleanup(func() {
		stopJobs()
		startOnce.Do(func() { close(jobsDone) })
		<-jobsDone
	})
	if !cfg.jobsPaused {
		startJobs()
	}
	api, err := New(cfg.Config, Deps{
		Log: apiLog, Metrics: reg, Gatherer: reg,
		DB: db, Accounts: accounts, Identity: ids, Chat: chats, Hub: hub, Media: medias, Channels: chans, Microblog: mb, Moderation: mod, Exports: exports, Audit: al, Push: pushes,
		UploadBucket: cfg.bucket,
		UI:           cfg.ui,
	})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(api)
	tb.Cleanup(srv.Close)
	tb.Cleanup(hub.Close)
	return &testEnv{t: tb, srv: srv, api: api, db: db, media: mediaDir, accounts: accounts, identity: ids, chat: chats, channels: chans, microblog: mb, mod: mod, exports: exports, push: pushes, startJobs: startJobs, outbox: outbox.Path(), logs: logs, logMu: &lw.mu}
}

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// code returns the error code of an error response.
func (r resp) code() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func (r resp) details() map[string]any {
	if e, ok := r.body["error"].(map[string]any); ok {
		d, _ := e["details"].(map[string]any)
		return d
	}
	return nil
}

// do sends a request; body may be nil, a string (sent as is) or a value
// to encode as JSON.
func (e *testEnv) do(method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, path, err, raw)
		}
	}
	return r
}

// want fails unless r has the status and, for errors, the code.
func (r resp) want(tb testing.TB, status int, code string) resp {
	tb.Helper()
	if r.status != status || r.code() != code {
		tb.Fatalf("got %d %q, want %d %q; body: %s", r.status, r.code(), status, code, r.raw)
	}
	return r
}

// user is a registered account in tests.
type user struct {
	id     plaza.ID
	handle string
	token  string
}

func (e *testEnv) register(handle string) user {
	e.t.Helper()
	r := e.do("POST", "/api/v1/accounts", "", map[string]any{
		"handle": handle, "password": "password-" + handle, "display_name": strings.ToUpper(handle),
		"birth_date": "1990-05-17", "accepted_terms_version": 1,
	}).want(e.t, http.StatusCreated, "")
	acct := r.body["account"].(map[string]any)
	id, err := plaza.ParseID("id", acct["id"].(string))
	if err != nil {
		e.t.Fatal(err)
	}
	return user{id: id, handle: handle, token: r.body["token"].(string)}
}

// withRole registers handle and grants it role.
func (e *testEnv) withRole(handle string, role account.Role) user {
	e.t.Helper()
	u := e.register(handle)
	if err := e.accounts.GrantRole(context.Background(), audit.CLI, u.id, role); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// lockedWriter lets the server's goroutines log into one buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// logText returns what the server logged so far.
func (e *testEnv) logText() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.logs.String()
}
