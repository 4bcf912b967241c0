// Package httpapi serves Plaza's HTTP API: routing, authentication, the
// error shape and status mapping, request limits, rate limits, metrics and
// the OpenAPI document. Domain packages know nothing of HTTP; this package
// translates between them and the wire.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/export"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/microblog"
	"github.com/plaza-im/plaza/internal/moderation"
	"github.com/plaza-im/plaza/internal/push"
	"github.com/plaza-im/plaza/internal/ratelimit"
	"github.com/plaza-im/plaza/internal/realtime"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Config holds the HTTP layer's settings.
type Config struct {
	// MaxBodyBytes bounds JSON request bodies.
	MaxBodyBytes int64
	// RateLimits turns every rate limit on or off.
	RateLimits bool
	// LoginPerIP, LoginPerAccountIP and LoginPerAccount limit sign-in
	// attempts per client address, per (account, address) and per
	// account. The per-account limit is a much higher ceiling that only
	// stops guessing spread over many addresses, so someone guessing from
	// one address cannot lock the owner out everywhere else.
	LoginPerIP        ratelimit.Rate
	LoginPerAccountIP ratelimit.Rate
	LoginPerAccount   ratelimit.Rate
	// RegisterPerIP limits registrations.
	RegisterPerIP ratelimit.Rate
	// TransparencyPerIP limits the public transparency report, each of
	// which may read a period's audit rows.
	TransparencyPerIP ratelimit.Rate
	// TrustedProxies are the networks whose X-Forwarded-For is believed
	// when working out a client's address.
	TrustedProxies []netip.Prefix
	// PhonePerIP and PhonePerNumber limit verification codes sent.
	PhonePerIP     ratelimit.Rate
	PhonePerNumber ratelimit.Rate
	// UploadsPerAccount limits uploads started (whole or resumable) per
	// account; on PostgreSQL all nodes share the budget.
	UploadsPerAccount ratelimit.Rate
	// PhoneVerifyPerAccount and PhoneVerifyPerIP limit attempts to enter
	// a phone code, on top of the per-code attempt cap.
	PhoneVerifyPerAccount ratelimit.Rate
	PhoneVerifyPerIP      ratelimit.Rate
	// SMSOutbox says codes go to the development outbox file rather than
	// to phones; the verification screen tells people so.
	SMSOutbox bool
	// PhoneRegion is the default region for phone numbers typed without
	// a country code ("" requires the + form).
	PhoneRegion string
	// IdentityProviders maps a verification provider's name to the secret
	// its webhook signs with.
	IdentityProviders map[string][]byte
	// UploadsDir holds resumable uploads in progress; "" turns them off.
	UploadsDir string
	// UploadMinDeadline is the least time a single-request upload's body
	// may take; larger limits get more (see uploadDeadline).
	UploadMinDeadline time.Duration
	// DataDir is the directory whose free space /healthz and /metrics
	// report; "" skips the check.
	DataDir string
	// MinFreeBytes is the free space below which /healthz answers 503;
	// 0 turns the check off.
	MinFreeBytes int64
	// Version is reported by /healthz.
	Version string
	// LookupHandlePerAccount and LookupPhonePerAccount limit how often
	// one account may look people up by handle and by phone number, so
	// lookups cannot list who is on the server or who has which number.
	LookupHandlePerAccount ratelimit.Rate
	LookupPhonePerAccount  ratelimit.Rate
	// SearchPerAccount limits message searches: a search may read many
	// index entries before it finds the caller's own (docs/api.md).
	SearchPerAccount ratelimit.Rate
	// SetupToken, when set, lets POST /api/v1/setup with it register the
	// first administrator, while the server has none.
	SetupToken string
}

// DefaultConfig returns the defaults: 1 MiB bodies; 10 sign-in attempts a
// minute per IP and per (account, IP), 100 an hour per account; 5
// registrations an hour per IP; 10 phone codes an hour per IP and 5 per
// number; 30 code entries an hour per account and 60 per IP; 60 uploads an
// hour per account; 60 lookups by handle an hour per account and 10 by
// phone number.
func DefaultConfig() Config {
	return Config{
		MaxBodyBytes:           1 << 20,
		RateLimits:             true,
		LoginPerIP:             ratelimit.Rate{N: 10, Per: time.Minute},
		LoginPerAccountIP:      ratelimit.Rate{N: 10, Per: time.Minute},
		LoginPerAccount:        ratelimit.Rate{N: 100, Per: time.Hour},
		RegisterPerIP:          ratelimit.Rate{N: 5, Per: time.Hour},
		TransparencyPerIP:      ratelimit.Rate{N: 30, Per: time.Minute},
		PhonePerIP:             ratelimit.Rate{N: 10, Per: time.Hour},
		PhonePerNumber:         ratelimit.Rate{N: 5, Per: time.Hour},
		PhoneVerifyPerAccount:  ratelimit.Rate{N: 30, Per: time.Hour},
		PhoneVerifyPerIP:       ratelimit.Rate{N: 60, Per: time.Hour},
		UploadsPerAccount:      ratelimit.Rate{N: 60, Per: time.Hour},
		UploadMinDeadline:      time.Minute,
		LookupHandlePerAccount: ratelimit.Rate{N: 60, Per: time.Hour},
		LookupPhonePerAccount:  ratelimit.Rate{N: 10, Per: time.Hour},
		SearchPerAccount:       ratelimit.Rate{N: 60, Per: time.Minute},
	}
}

// Deps are the services the API serves.
type Deps struct {
	Log      *slog.Logger
	Metrics  prometheus.Registerer
	Gatherer prometheus.Gatherer
	DB       *sqldb.DB
	Accounts *account.Service
	Identity *identity.Service
	Chat     *chat.Service
	Hub      *realtime.Hub
	Media    *media.Service
	// UploadBucket, when set, keeps resumable uploads in S3 beside the
	// media (under uploads/), locked through DB, so that any node can
	// continue them; Config.UploadsDir then only holds the part of a
	// request on its way there. Nil: uploads stay in UploadsDir, for one
	// node.
	UploadBucket *blob.S3
	Channels     *channel.Service
	// Microblog serves posts, follows and timelines; nil: none.
	Microblog *microblog.Service
	// Moderation serves reports, decisions, appeals and transparency.
	Moderation *moderation.Service
	// Exports writes and serves data exports; nil: none.
	Exports *export.Service
	// Push serves Web Push subscriptions; nil: none (its routes answer
	// not_found).
	Push  *push.Service
	Audit *audit.Log
	// UI serves the web client for GET and HEAD requests outside the API
	// (see isUIPath); it sets its own Content-Security-Policy. Nil: no UI,
	// and such paths answer the API's JSON 404.
	UI http.Handler
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	cfg        Config
	log        *slog.Logger
	db         *sqldb.DB
	accounts   *account.Service
	identity   *identity.Service
	chat       *chat.Service
	hub        *realtime.Hub
	media      *media.Service
	uploads    *resumable
	channels   *channel.Service
	microblog  *microblog.Service
	moderation *moderation.Service
	push       *push.Service
	exports    *export.Service
	audit      *audit.Log
	ui         http.Handler

	mux     *http.ServeMux
	routes  []route
	metrics *metrics
	storage *storageHealth
	drain   *realtime.Drain
	handler http.Handler

	loginIP, loginAccountIP, loginAccount, registerIP *ratelimit.Limiter
	transparencyIP                                    *ratelimit.Limiter
	phoneIP, phoneNumber                              *ratelimit.Limiter
	phoneVerifyAccount, phoneVerifyIP                 *ratelimit.Limiter
	uploadBudget                                      *ratelimit.Budget
	lookupHandle, lookupPhone, searchBudget           *ratelimit.Budget
}

// rateLimitKeys bounds each limiter's memory.
const rateLimitKeys = 100_000

// New returns a Server with every route registered.
func New(cfg Config, d Deps) (*Server, error) {
	s := &Server{
		cfg:        cfg,
		log:        d.Log,
		db:         d.DB,
		accounts:   d.Accounts,
		identity:   d.Identity,
		chat:       d.Chat,
		hub:        d.Hub,
		media:      d.Media,
		channels:   d.Channels,
		microblog:  d.Microblog,
		moderation: d.Moderation,
		push:       d.Push,
		exports:    d.Exports,
		audit:      d.Audit,
		ui:         d.UI,
		mux:        http.NewServeMux(),
		metrics:    newMetrics(d.Metrics, d.Gatherer),
	}
	s.storage = newStorageHealth(cfg.DataDir, cfg.MinFreeBytes, d.Metrics)
	s.drain = realtime.NewDrain(d.Metrics)
	if cfg.RateLimits {
		s.loginIP = ratelimit.New(cfg.LoginPerIP, rateLimitKeys)
		s.loginAccountIP = ratelimit.New(cfg.LoginPerAccountIP, rateLimitKeys)
		s.loginAccount = ratelimit.New(cfg.LoginPerAccount, rateLimitKeys)
		s.registerIP = ratelimit.New(cfg.RegisterPerIP, rateLimitKeys)
		s.transparencyIP = ratelimit.New(cfg.TransparencyPerIP, rateLimitKeys)
		s.phoneIP = ratelimit.New(cfg.PhonePerIP, rateLimitKeys)
		s.phoneNumber = ratelimit.New(cfg.PhonePerNumber, rateLimitKeys)
		s.uploadBudget = ratelimit.NewBudget(d.DB, "uploads", "uploads", cfg.UploadsPerAccount)
		s.phoneVerifyAccount = ratelimit.New(cfg.PhoneVerifyPerAccount, rateLimitKeys)
		s.phoneVerifyIP = ratelimit.New(cfg.PhoneVerifyPerIP, rateLimitKeys)
		// Shared by every node on PostgreSQL, so that more nodes do not
		// mean more lookups or searches.
		s.lookupHandle = ratelimit.NewBudget(d.DB, "lookup_handle", "lookups by handle", cfg.LookupHandlePerAccount)
		s.lookupPhone = ratelimit.NewBudget(d.DB, "lookup_phone", "lookups by phone number", cfg.LookupPhonePerAccount)
		s.searchBudget = ratelimit.NewBudget(d.DB, "message_search", "message searches", cfg.SearchPerAccount)
	}
	if cfg.UploadsDir != "" && s.media != nil {
		var err error
		if s.uploads, err = s.newResumable(cfg.UploadsDir, d.UploadBucket); err != nil {
			return nil, err
		}
	}
	s.registerRoutes()
	s.handler = s.outer(s.refuseStreamsWhileDraining(s.mux))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// ConnState tracks open connections for the metrics; install it as the
// http.Server's ConnState hook.
func (s *Server) ConnState(_ any, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.metrics.openConns.Inc()
	case http.StateClosed, http.StateHijacked:
		s.metrics.openConns.Dec()
	}
}

// livez answers 200 as long as the process serves HTTP, whatever the
// state of the database and the storage: an orchestrator's liveness check
// that restarts the process only when restarting can help. A node whose
// database is down is not broken; /readyz takes it out of the pool.
func (s *Server) livez(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2e9)
	defer cancel()
	var one int
	if err := s.db.Read().QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		s.log.Error("health check: database unreachable", "err", err)
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database unreachable"})
	}
	if full, reason := s.storage.full(); full {
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}
