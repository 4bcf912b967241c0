package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/export"
	"github.com/plaza-im/plaza/internal/heapfloor"
	"github.com/plaza-im/plaza/internal/httpapi"
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
	"github.com/plaza-im/plaza/internal/webui"
)

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("plaza serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.serveFlags(fs)
	if err := parse(fs, args); err != nil {
		return usageError("%w", err)
	}
	if fs.NArg() > 0 {
		return usageError("plaza serve takes no arguments, got %q", fs.Args())
	}
	m := &Main{Config: cfg, LogOutput: stderr}
	if err := m.Open(ctx); err != nil {
		m.Close()
		return err
	}
	defer m.Close()
	// The floor is the process's, so it is held here rather than in Main,
	// which tests run several of in one process; the deferred call is the
	// stop that Start returns.
	defer heapfloor.Start(uint64(m.Config.GCHeapFloor))()
	if f := m.Config.GCHeapFloor; f > 0 {
		m.Log.Info("garbage collector heap floor", "bytes", f, "GOGC", os.Getenv("GOGC"), "GOMEMLIMIT", os.Getenv("GOMEMLIMIT"))
	}
	return m.Run(ctx)
}

// Main is the running program: it opens the database, wires the services
// and serves HTTP. End-to-end tests use it directly on port 0 in a temp
// dir.
type Main struct {
	Config    Config
	LogOutput io.Writer

	Log      *slog.Logger
	DB       *sqldb.DB
	Accounts *account.Service
	Identity *identity.Service
	Chat     *chat.Service
	Media    *media.Service
	Channels *channel.Service
	// Microblog runs posts, follows and timelines; its fan-out worker
	// runs with the server and stops with it.
	Microblog  *microblog.Service
	Moderation *moderation.Service
	Hub        *realtime.Hub
	Bus        bus.Bus
	Audit      *audit.Log
	// Jobs runs background work that survives restarts (exports, account
	// erasure); services register their handlers on it while Open wires
	// them, and it starts before the API does.
	Jobs *jobs.Queue
	// Exports writes people's data exports, as jobs on Jobs.
	Exports *export.Service
	// Push sends Web Push to accounts with no device connected.
	Push *push.Service
	API  *httpapi.Server

	// setupToken is the one-time first-run token, set when the server
	// started without an administrator.
	setupToken string

	server   *http.Server
	listener net.Listener
	debug    *http.Server
	stop     context.CancelFunc // stops background work (pruning)
	// background counts the goroutines Open starts; Close waits for them,
	// so nothing of the server outlives it.
	background sync.WaitGroup
}

// goBackground runs fn in a goroutine that Close waits for.
func (m *Main) goBackground(fn func()) { m.background.Go(fn) }

// Open validates the configuration, opens and migrates the database, seeds
// the default terms and starts listening (but not yet serving).
func (m *Main) Open(ctx context.Context) error {
	if err := m.Config.Validate(); err != nil {
		return usageError("invalid configuration:\n%w", err)
	}
	if m.LogOutput == nil {
		m.LogOutput = os.Stderr
	}
	m.Log = newLogger(m.LogOutput, m.Config.LogFormat, m.Config.LogLevel)
	if m.Config.RateLimits == "off" {
		m.Log.Warn("rate limiting is OFF (--rate-limits off): use this only for tests and benchmarks")
	}

	if err := os.MkdirAll(filepath.Join(m.Config.Data, "media"), 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	db, err := openDB(ctx, &m.Config, m.Log)
	if err != nil {
		return err
	}
	m.DB = db

	if m.Audit, err = openAudit(ctx, &m.Config, db, m.Log); err != nil {
		return err
	}
	m.Jobs = jobs.New(db, m.Config.jobsConfig(), m.Log)
	m.Accounts = account.NewService(db, m.Config.accountConfig())
	m.Accounts.UseAudit(m.Audit)
	m.Accounts.UseJobs(m.Jobs)
	if err := m.Accounts.SeedTerms(ctx); err != nil {
		return fmt.Errorf("seed terms: %w", err)
	}

	keys, generated, err := identity.LoadKeyring(m.Config.KeyFile(), true)
	if err != nil {
		return err
	}
	if generated {
		m.Log.Warn("generated a new secret key for legal identities: back it up, without it they cannot be read", "file", m.Config.KeyFile())
	}
	sender, err := newSMSSender(&m.Config)
	if err != nil {
		return err
	}
	m.Identity = identity.NewService(db, keys, sender, m.Config.identityConfig())
	m.Identity.UseAudit(m.Audit)
	m.Accounts.OnDelete(identity.DeleteAccountData)

	reg := prometheus.NewRegistry()
	if m.Bus, err = bus.Open(m.Config.Bus, m.Config.BusPrefix, bus.WithLogger(m.Log), bus.WithRegisterer(reg)); err != nil {
		return err
	}
	bg, stop := context.WithCancel(context.Background())
	m.stop = stop
	// Push sees every stored event once, on the node that commits it,
	// through the bus the sync log publishes on.
	if m.Push, err = push.NewService(ctx, db, m.Config.pushConfig(), m.Log); err != nil {
		return err
	}
	reg.MustRegister(m.Push.Collectors()...)
	if m.Chat, err = chat.NewService(ctx, db, m.Push.Tap(m.Bus), m.Accounts, m.Identity, m.Config.chatConfig(), m.Log); err != nil {
		return err
	}
	m.Push.Start(m.Accounts, m.Chat)
	m.goBackground(func() { m.Chat.RunPruner(bg, 10*time.Minute) })
	// Messages become searchable within a poll of their commit; the
	// indexer runs beside the send path, not in it.
	m.goBackground(func() { m.Chat.RunSearchIndexer(bg, 500*time.Millisecond) })
	m.goBackground(func() { ratelimit.RunPruner(bg, db, time.Minute, m.Log) })
	if err := os.MkdirAll(filepath.Join(m.Config.Data, "tmp"), 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	store, err := blob.Open(ctx, m.Config.MediaURL())
	if err != nil {
		return err
	}
	m.Media = media.NewService(db, store, m.Config.mediaConfig(), m.Log)
	// Nothing can be using a temp file before the server starts: any
	// there were left by a crash.
	if n, err := m.Media.CleanTemp(0); err != nil {
		m.Log.Warn("cleaning upload temp files failed", "err", err)
	} else if n > 0 {
		m.Log.Info("removed upload temp files left by an earlier run", "files", n)
	}
	m.goBackground(func() { m.Media.RunTempCleaner(bg, 10*time.Minute) })
	m.Chat.UseMedia(m.Media)
	m.Accounts.OnDelete(m.Chat.DeleteAccountData)
	m.Accounts.OnErase(m.Chat.EraseAccount)

	reg.MustRegister(m.Chat.Collectors()...)
	reg.MustRegister(m.Jobs.Collectors()...)
	// The node's name is here alone: every other metric has none, and
	// Prometheus's instance label joins them to it.
	node, _ := os.Hostname()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "plaza_build_info",
		Help:        "Always 1; its labels name this node's version and host name.",
		ConstLabels: prometheus.Labels{"version": version, "node": node},
	}, func() float64 { return 1 }))
	m.Hub = realtime.NewHub(m.Config.streamConfig(), m.Bus, m.Chat.Events(), httpapi.StreamDomain(m.Chat), m.Log, reg)
	m.Hub.UsePresence(m.Push.Presence)
	// Streams close when their session or their account's standing ends,
	// on every node.
	if err := m.Hub.UseStanding(httpapi.StreamStanding(m.Accounts)); err != nil {
		return err
	}
	m.Accounts.OnStandingChange(realtime.StandingNotifier(m.Bus, m.Log))
	// Every node forgets the standing it remembers when any node changes it.
	if err := m.Accounts.UseBus(m.Bus, m.Log); err != nil {
		return err
	}
	m.Hub.UseLimits(db, m.Config.streamLimits())
	loc, _ := time.LoadLocation(m.Config.TimeZone)
	m.Channels = channel.NewService(db, m.Bus, m.Identity, m.Media, channel.Config{Location: loc, SubscriptionDaily: 1, ServiceMonthly: 4}, m.Log)
	m.Channels.UseAudit(m.Audit)
	m.Accounts.OnDelete(m.Channels.DeleteAccountData)
	m.Channels.OnFollowChange(realtime.FollowNotifier(m.Bus, m.Log))
	m.Hub.UseChannels(m.Channels.FollowedIDs)
	if m.Microblog, err = microblog.NewService(ctx, db, m.Bus, m.Accounts, m.Identity, m.Media, m.Chat.Events(), m.Config.microblogConfig(), m.Log); err != nil {
		return err
	}
	m.Microblog.UseAudit(m.Audit)
	m.Accounts.OnDelete(m.Microblog.DeleteAccountData)
	m.Accounts.OnErase(m.Microblog.EraseAccount)
	// Media goes last: its bytes are the only part outside the database.
	m.Accounts.OnErase(m.Media.EraseOwner)
	m.Accounts.OnDelete(moderation.DeleteAccountData)
	m.Microblog.OnFollowChange(realtime.FollowNotifier(m.Bus, m.Log))
	m.Chat.OnBlock(m.Microblog.BlockHook)
	m.Hub.UseAuthors(m.Microblog.FollowedAuthors)
	m.goBackground(func() { m.Microblog.RunFanout(bg) })
	if m.Moderation, err = moderation.NewService(ctx, db, m.Accounts, m.Audit, m.Chat.Events(), m.Config.moderationConfig(), m.Log); err != nil {
		return err
	}
	m.Moderation.UseDomains(m.Microblog, m.Channels, m.Chat)
	m.Exports = export.NewService(db, store, m.Jobs, export.Services{
		Accounts: m.Accounts, Identity: m.Identity, Chat: m.Chat, Media: m.Media,
		Channels: m.Channels, Microblog: m.Microblog, Moderation: m.Moderation,
	}, m.Config.exportConfig(), m.Log)
	m.Accounts.OnDelete(m.Exports.DeleteAccountData)
	m.Accounts.OnErase(func(ctx context.Context, id plaza.ID, _ account.TxFunc) error { return m.Exports.EraseAccount(ctx, id) })
	m.Exports.AddSection("legacy_contact", httpapi.LegacyContactSection(m.Accounts))
	// No export runs yet: any temp file under exports/ was left by a
	// write a crash interrupted.
	if n, err := m.Exports.CleanTemp(0); err != nil {
		m.Log.Warn("removing the temp files of interrupted exports failed", "err", err)
	} else if n > 0 {
		m.Log.Info("removed the temp files of exports interrupted by an earlier run", "files", n)
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for name, pool := range db.Stats() {
		reg.MustRegister(collectors.NewDBStatsCollector(pool, name))
	}
	// Every handler is registered by now.
	m.goBackground(func() { m.Jobs.Run(bg) })
	// With media in S3, resumable uploads go there too, so any node can
	// continue them.
	uploadBucket, _ := store.(*blob.S3)
	// First run: without an administrator, a one-time link lets the first
	// person register as one in the browser (Run logs it).
	if has, err := m.Accounts.HasAdmin(ctx); err != nil {
		return fmt.Errorf("look for an administrator: %w", err)
	} else if !has {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		m.setupToken = hex.EncodeToString(b[:])
	}
	httpCfg := m.Config.httpConfig()
	httpCfg.SetupToken = m.setupToken
	m.API, err = httpapi.New(httpCfg, httpapi.Deps{
		Log: m.Log, Metrics: reg, Gatherer: reg, DB: db, Accounts: m.Accounts, Identity: m.Identity, Chat: m.Chat, Hub: m.Hub, Media: m.Media, Channels: m.Channels, Microblog: m.Microblog, Moderation: m.Moderation, Exports: m.Exports, Audit: m.Audit,
		Push:         m.Push,
		UploadBucket: uploadBucket,
		UI:           webui.Handler(),
	})
	if err != nil {
		return err
	}
	m.goBackground(func() { m.API.RunUploadPruner(bg) })

	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Listen, err)
	}
	m.listener = ln
	if m.Config.DebugListen != "" {
		if m.debug, err = m.serveDebug(m.Config.DebugListen); err != nil {
			return err
		}
	}
	m.server = &http.Server{
		Handler:           m.API,
		ReadHeaderTimeout: 10 * time.Second,
		// Upload routes extend their own read deadline with their size
		// limit (see httpapi's uploadDeadline).
		ReadTimeout:    60 * time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ConnState:      func(c net.Conn, s http.ConnState) { m.API.ConnState(c, s) },
		ErrorLog:       slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn),
	}
	return nil
}

// newSMSSender returns the configured SMS sender.
func newSMSSender(cfg *Config) (sms.Sender, error) {
	if cfg.SMS == "outbox" {
		return sms.NewOutbox(filepath.Join(cfg.Data, "outbox", "sms.jsonl"))
	}
	var secret []byte
	if cfg.SMSSecretFile != "" {
		var err error
		if secret, err = readSecretFile(cfg.SMSSecretFile); err != nil {
			return nil, fmt.Errorf("--sms-secret-file: %w", err)
		}
	}
	return sms.NewWebhook(cfg.SMS, secret), nil
}

// openDB opens and migrates the configured database.
func openDB(ctx context.Context, cfg *Config, log *slog.Logger) (*sqldb.DB, error) {
	db, err := sqldb.Open(ctx, cfg.DatabaseURL(), sqldb.Options{SQLiteSynchronous: cfg.SQLiteSync})
	if err != nil {
		return nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "engine", db.Engine, "versions", applied)
	}
	return db, nil
}

// openAudit returns the audit log signed with the keys in the audit key
// file, which it creates at first start.
func openAudit(ctx context.Context, cfg *Config, db *sqldb.DB, log *slog.Logger) (*audit.Log, error) {
	keys, generated, err := audit.OpenKeys(ctx, db, cfg.AuditKeyPath(), true)
	if err != nil {
		return nil, err
	}
	if generated {
		log.Warn("generated a new key that signs the audit log: back it up with the secret key, without it the log cannot be verified", "file", keys.Path())
	}
	return audit.NewKeyed(db, keys), nil
}

// Addr returns the address the server listens on (useful with port 0).
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Run serves until ctx is cancelled, then drains (readiness 503, new
// streams refused, open ones closed over DrainWindow), stops accepting
// connections and waits for in-flight requests, all within
// ShutdownTimeout.
func (m *Main) Run(ctx context.Context) error {
	// Before "plaza serving", which tools wait for.
	if m.setupToken != "" {
		// Not a secret worth hiding from the operator's own log: it only
		// works until an administrator exists, and every node has its own.
		m.Log.Warn("first run: this server has no administrator; open the setup link in a browser to create one (it works until one exists)",
			"setup_link", "http://"+m.Addr()+"/setup#"+m.setupToken)
	}
	m.Log.Info("plaza serving", "version", version, "addr", "http://"+m.Addr(), "db", m.DB.URL(), "data", m.Config.Data)
	errc := make(chan error, 1)
	go func() { errc <- m.server.Serve(m.listener) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	m.Log.Info("shutting down: draining the event streams, then finishing in-flight requests", "drain_window", m.Config.DrainWindow, "timeout", m.Config.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	// Readiness turns 503 at once so the load balancer sends no more, and
	// new streams are refused. WebSockets are hijacked connections that
	// Shutdown does not track: close them first, spread over the drain
	// window with a code that tells devices to reconnect (to another node)
	// at once, so they do not all come back at the same instant.
	m.API.Drain(sctx, m.Config.DrainWindow)
	m.Hub.Close()
	if err := m.server.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	m.Log.Info("stopped")
	return nil
}

// Close releases what Open acquired and waits for the goroutines it
// started. It is safe after a failed Open, and without Run.
func (m *Main) Close() error {
	var err error
	if m.listener != nil {
		_ = m.listener.Close() // already closed after a clean shutdown
	}
	if m.debug != nil {
		_ = m.debug.Close()
	}
	if m.server != nil {
		_ = m.server.Close() // ends what a timed-out Shutdown left
	}
	if m.Hub != nil {
		m.Hub.Close() // done already after Run; waits for the streams
	}
	if m.stop != nil {
		m.stop()
	}
	m.background.Wait() // the fan-out worker and the job queue among them
	if m.Microblog != nil {
		m.Microblog.Close() // commits the posts already queued
	}
	if m.Chat != nil {
		m.Chat.Close() // commits the sends already queued
	}
	if m.Push != nil {
		m.Push.Close() // after the last events; removes this node's presence
	}
	if m.Bus != nil {
		_ = m.Bus.Close()
	}
	if m.DB != nil {
		err = m.DB.Close()
	}
	return err
}
