// Package push sends Web Push notifications (RFC 8030, with RFC 8291
// message encryption and RFC 8292 VAPID) to the browsers of accounts that
// have no device connected to any node: new messages (not in a muted
// conversation, unless they mention the account), microblog mentions and
// replies, and moderation decisions.
//
// It sees every stored event once, on the node that committed it, through
// Tap, which wraps the bus the sync log publishes on; nothing on the send
// path waits for it: events go to a bounded queue, and background workers
// look up subscriptions and presence in batches and send. Presence comes
// from the realtime hub (Hub.UsePresence → Presence): each node writes the
// accounts connected to it to the database in batches, under a node lease
// that a crashed node stops renewing.
package push

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Config tunes push.
type Config struct {
	// Subject is the VAPID contact push services may write to about this
	// server: "mailto:…" or "https://…".
	Subject string
	// AllowLoopback lets subscriptions name loopback endpoints (and then
	// over http as well as https), for tests and development. Off, an
	// endpoint must be https and the sender never connects to a loopback,
	// private or link-local address.
	AllowLoopback bool
	// QueueLen bounds the events waiting for the workers, and the pushes
	// waiting to be sent; past either, new ones are dropped (counted as
	// result "dropped").
	QueueLen int
	// Senders is how many pushes are sent at once.
	Senders int
	// Attempts bounds the tries of one push that fails for a reason other
	// than a gone subscription (a 5xx, a 429, a network error); tries are
	// RetryBase, 2×RetryBase, … apart.
	Attempts  int
	RetryBase time.Duration
	// Timeout bounds one request to a push service. A request that runs
	// out of it is not tried again: an endpoint that never answers must
	// not hold the senders that everyone's pushes share.
	Timeout time.Duration
	// Services are the push services subscriptions may name: a host
	// matches an entry equal to it or ending in "." and the entry. Empty
	// allows any public host. Browsers get their endpoints from their
	// vendor's service, so the default list holds those; naming anything
	// else would only let a client make the server post to a host of its
	// choosing.
	Services []string
	// TTL is how long a push service keeps a push for an offline browser.
	TTL time.Duration
	// Lease is how long a node's presence counts after its last renewal
	// (renewed every Lease/3); FlushDelay is how long presence changes
	// gather before they are written in one transaction.
	Lease      time.Duration
	FlushDelay time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Subject: "mailto:admin@localhost", QueueLen: 4096, Senders: 4, Attempts: 3, RetryBase: 5 * time.Second,
		Timeout: 5 * time.Second, TTL: 24 * time.Hour, Services: DefaultServices, Lease: 30 * time.Second, FlushDelay: 100 * time.Millisecond,
	}
}

// DefaultServices are the push services of the browsers in use: Google's
// (Chrome, Edge on Android, Opera, Samsung Internet, Brave), Mozilla's
// (Firefox), Microsoft's (Edge on Windows) and Apple's (Safari).
var DefaultServices = []string{"googleapis.com", "push.services.mozilla.com", "notify.windows.com", "push.apple.com"}

// knownService reports whether host is one of services (see Config.Services).
func knownService(host string, services []string) bool {
	if len(services) == 0 {
		return true
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, s := range services {
		if host == s || strings.HasSuffix(host, "."+s) {
			return true
		}
	}
	return false
}

// MaxSubscriptions is how many subscriptions an account keeps; a new one
// beyond it replaces the account's oldest.
const MaxSubscriptions = 10

// Service stores subscriptions and sends pushes.
type Service struct {
	db    *sqldb.DB
	cfg   Config
	log   *slog.Logger
	keys  vapidKeys
	pres  *presence
	http  *http.Client
	sent  *prometheus.CounterVec
	queue chan candidate
	sends chan job

	accounts *account.Service
	chat     *chat.Service

	stopOnce sync.Once
	stop     chan struct{}
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
}

// NewService loads the VAPID keys (creating them at the cluster's first
// start) and registers this node for presence. Start starts the workers.
func NewService(ctx context.Context, db *sqldb.DB, cfg Config, log *slog.Logger) (*Service, error) {
	def := DefaultConfig()
	if cfg.Subject == "" {
		cfg.Subject = def.Subject
	}
	if !strings.HasPrefix(cfg.Subject, "mailto:") && !strings.HasPrefix(cfg.Subject, "https://") {
		return nil, fmt.Errorf("push subject must start with mailto: or https:// (got %q)", cfg.Subject)
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = def.QueueLen
	}
	if cfg.Senders <= 0 {
		cfg.Senders = def.Senders
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = def.Attempts
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = def.RetryBase
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = def.Timeout
	}
	if cfg.TTL <= 0 {
		cfg.TTL = def.TTL
	}
	if cfg.Lease <= 0 {
		cfg.Lease = def.Lease
	}
	if cfg.FlushDelay <= 0 {
		cfg.FlushDelay = def.FlushDelay
	}
	keys, err := loadKeys(ctx, db)
	if err != nil {
		return nil, err
	}
	s := &Service{
		db: db, cfg: cfg, log: log, keys: keys,
		http: newClient(cfg),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_push_sent_total",
			Help: "Web Push notifications by result: sent, gone (the subscription answered 404 or 410 and was deleted), failed (after every try), dropped (a full queue).",
		}, []string{"result"}),
		queue: make(chan candidate, cfg.QueueLen),
		sends: make(chan job, cfg.QueueLen),
		stop:  make(chan struct{}),
	}
	for _, r := range []string{resultSent, resultGone, resultFailed, resultDropped} {
		s.sent.WithLabelValues(r)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if s.pres, err = newPresence(ctx, db, cfg, log); err != nil {
		return nil, err
	}
	return s, nil
}

// Results of plaza_push_sent_total.
const (
	resultSent    = "sent"
	resultGone    = "gone"
	resultFailed  = "failed"
	resultDropped = "dropped"
)

// Start starts the workers, which read what pushes show from accounts and
// chat, until Close.
func (s *Service) Start(accounts *account.Service, c *chat.Service) {
	s.accounts, s.chat = accounts, c
	s.pres.start(&s.wg, s.stop)
	s.wg.Add(1 + s.cfg.Senders)
	go s.worker()
	for range s.cfg.Senders {
		go s.sender()
	}
}

// Close stops the workers (pushes still queued are not sent: they are
// nudges, and the devices sync when they connect) and removes this node's
// presence.
func (s *Service) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.cancel()
		s.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.pres.leave(ctx)
	})
}

// Collectors returns the metrics, for the caller to register.
func (s *Service) Collectors() []prometheus.Collector { return []prometheus.Collector{s.sent} }

// PublicKey returns the VAPID public key, base64url (no padding) of the
// uncompressed P-256 point, for browsers' applicationServerKey.
func (s *Service) PublicKey() string { return s.keys.publicB64 }

// Presence is the realtime hub's presence hook (Hub.UsePresence): it
// notes that account's first device connected to this node (online) or
// its last one left. It never blocks.
func (s *Service) Presence(account plaza.ID, online bool) { s.pres.set(account, online) }

// FlushPresence writes the presence changes noted so far, for tests.
func (s *Service) FlushPresence(ctx context.Context) error { return s.pres.flush(ctx) }

// newClient returns the HTTP client pushes go out with: bounded in time,
// never following redirects, and (unless AllowLoopback) refusing to
// connect to addresses inside the operator's network, whatever an
// endpoint's name resolves to.
func newClient(cfg Config) *http.Client {
	d := &net.Dialer{Timeout: cfg.Timeout, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip := net.ParseIP(host)
		if ip == nil {
			return fmt.Errorf("push: dial %s: not an IP address", address)
		}
		if !publicIP(ip) && !(cfg.AllowLoopback && ip.IsLoopback()) {
			return fmt.Errorf("push: refusing to connect to %s: not a public address", ip)
		}
		return nil
	}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = d.DialContext
	tr.Proxy = nil
	tr.MaxIdleConnsPerHost = 4
	return &http.Client{Transport: tr, Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// publicIP reports whether ip is a global unicast address outside the
// private, loopback, link-local and unspecified ranges.
func publicIP(ip net.IP) bool {
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast()
}
