package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/export"
	"github.com/plaza-im/plaza/internal/httpapi"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/jobs"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/microblog"
	"github.com/plaza-im/plaza/internal/moderation"
	"github.com/plaza-im/plaza/internal/push"
	"github.com/plaza-im/plaza/internal/ratelimit"
	"github.com/plaza-im/plaza/internal/realtime"
)

// Config is everything an operator can set. Defaults live in
// DefaultConfig; flags and PLAZA_* environment variables override them.
type Config struct {
	Listen string
	Data   string
	DB     string // database URL; default sqlite:DATA/plaza.db

	SQLiteSync string

	RateLimits         string // on | off
	LoginRateIP        string
	LoginRateAccountIP string
	LoginRateAccount   string
	RegisterRateIP     string
	TrustedProxies     string // comma-separated CIDRs

	// Per-account limits, as N/DURATION (see chat.Limits).
	SendRate    string
	ContactRate string
	GroupRate   string
	InviteRate  string
	UploadRate  string
	PostRate    string
	FollowRate  string
	LikeRate    string
	ReportRate  string

	// FanoutThreshold is the follower count from which an author's posts
	// are merged into timelines at read time (see microblog.Config).
	FanoutThreshold int64

	MaxStreamsPerAccount int // 0: no cap
	MaxStreamsPerSession int
	StreamTransport      string // nbio | std (realtime.Config.Transport)

	SecretKeyFile          string // default DATA/secret.key
	AuditKeyFile           string // default audit.key beside the secret key
	SMS                    string // outbox | https://gateway…
	SMSSecretFile          string
	VerificationPolicy     string
	PhoneRegion            string
	OneAccountPerPhone     bool
	PhoneRateIP            string
	PhoneRateNumber        string
	PhoneVerifyRateAccount string
	PhoneVerifyRateIP      string
	IdentityProviders      string // name=secret-file,…

	Media           string // file:DIR or s3://bucket?…; default file:DATA/media
	MediaQuota      int64
	MaxUnfinished   int // resumable uploads in progress per account
	MinFreeBytes    int64
	Bus             string
	BusPrefix       string
	DirectMessages  string
	MaxGroupMembers int
	RecallWindow    time.Duration
	SyncRetention   time.Duration
	SyncLogRuns     bool
	DeletionGrace   time.Duration
	ExportExpiry    time.Duration

	MinAge          int
	TimeZone        string
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration
	// DrainWindow is how long the graceful shutdown spreads the closes
	// of the event streams over (0: all at once); it is part of
	// ShutdownTimeout and must be shorter.
	DrainWindow time.Duration

	DebugListen string // pprof, off when empty

	// GCHeapFloor is the heap goal, in bytes, below which the garbage
	// collector's goal is not let fall (0: GOGC alone). The collector is
	// the process's, so runServe applies it, not Main: tests that run
	// several Mains in one process leave it alone.
	GCHeapFloor int64

	// PushSubject is the VAPID contact (mailto: or https:) push services
	// may write to; PushAllowLoopback lets subscriptions name loopback
	// endpoints (tests, development).
	PushSubject       string
	PushAllowLoopback bool
	// PushServices lists the push services' hosts subscriptions may name
	// (comma-separated), or "any".
	PushServices string

	LogFormat string // auto | text | json
	LogLevel  string // debug | info | warn | error
}

// DefaultConfig returns the embedded defaults: everything under
// ./plaza-data, listening on 127.0.0.1:8080.
func DefaultConfig() Config {
	return Config{
		Listen:                 "127.0.0.1:8080",
		Data:                   "plaza-data",
		SQLiteSync:             "FULL",
		RateLimits:             "on",
		LoginRateIP:            "10/1m",
		LoginRateAccountIP:     "10/1m",
		LoginRateAccount:       "100/1h",
		RegisterRateIP:         "5/1h",
		SendRate:               "30/30s",
		ContactRate:            "30/1h",
		GroupRate:              "20/1h",
		InviteRate:             "200/1h",
		UploadRate:             "60/1h",
		PostRate:               "60/1h",
		FollowRate:             "200/1h",
		LikeRate:               "600/1h",
		ReportRate:             "30/1h",
		FanoutThreshold:        10_000,
		MaxStreamsPerAccount:   10,
		MaxStreamsPerSession:   3,
		StreamTransport:        realtime.TransportNBIO,
		SMS:                    "outbox",
		OneAccountPerPhone:     true,
		PhoneRateIP:            "10/1h",
		PhoneRateNumber:        "5/1h",
		PhoneVerifyRateAccount: "30/1h",
		PhoneVerifyRateIP:      "60/1h",
		MediaQuota:             2 << 30,
		MaxUnfinished:          5,
		MinFreeBytes:           256 << 20,
		GCHeapFloor:            64 << 20,
		Bus:                    "local",
		BusPrefix:              "plaza",
		DirectMessages:         "contacts",
		MaxGroupMembers:        500,
		RecallWindow:           2 * time.Minute,
		SyncRetention:          30 * 24 * time.Hour,
		SyncLogRuns:            true,
		DeletionGrace:          account.DefaultDeletionGrace,
		ExportExpiry:           7 * 24 * time.Hour,
		MinAge:                 14,
		TimeZone:               "UTC",
		MaxBodyBytes:           1 << 20,
		ShutdownTimeout:        20 * time.Second,
		DrainWindow:            10 * time.Second,
		PushSubject:            push.DefaultConfig().Subject,
		PushServices:           strings.Join(push.DefaultServices, ","),
		LogFormat:              "auto",
		LogLevel:               "info",
	}
}

// dataFlags registers the flags every command that touches the data needs.
func (c *Config) dataFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Data, "data", c.Data, "data `dir`ectory: the SQLite database, media and generated keys live here")
	fs.StringVar(&c.DB, "db", c.DB, "database `url`: sqlite:PATH or postgres://… (default sqlite:DATA/plaza.db)")
	fs.StringVar(&c.SQLiteSync, "sqlite-synchronous", c.SQLiteSync, "SQLite synchronous `mode`: FULL (every acknowledged write survives power loss) or NORMAL")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log `format`: auto (text on a terminal, JSON otherwise), text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log `level`: debug, info, warn or error")
	fs.StringVar(&c.SecretKeyFile, "secret-key-file", c.SecretKeyFile, "`file` with the 32-byte hex key that encrypts legal identities (default DATA/secret.key, generated at first start)")
	fs.StringVar(&c.AuditKeyFile, "audit-key-file", c.AuditKeyFile, "`file` with the keys that sign the audit log (default audit.key beside the secret key, generated at first start)")
}

// serveFlags registers the server's flags.
func (c *Config) serveFlags(fs *flag.FlagSet) {
	c.dataFlags(fs)
	fs.StringVar(&c.Listen, "listen", c.Listen, "`address` to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&c.DebugListen, "debug-listen", c.DebugListen, "`address` for Go's profiler (/debug/pprof/); off by default, never expose it publicly")
	fs.StringVar(&c.RateLimits, "rate-limits", c.RateLimits, "on, or off to disable every rate limit (tests and benchmarks only)")
	fs.StringVar(&c.LoginRateIP, "login-rate-ip", c.LoginRateIP, "sign-in attempts allowed per client address, as N/DURATION")
	fs.StringVar(&c.LoginRateAccountIP, "login-rate-account-ip", c.LoginRateAccountIP, "sign-in attempts allowed per account from one client address, as N/DURATION")
	fs.StringVar(&c.LoginRateAccount, "login-rate-account", c.LoginRateAccount, "sign-in attempts allowed per account from all addresses together (a ceiling against distributed guessing), as N/DURATION")
	fs.StringVar(&c.RegisterRateIP, "register-rate-ip", c.RegisterRateIP, "registrations allowed per client address, as N/DURATION")
	fs.StringVar(&c.SendRate, "send-rate", c.SendRate, "messages each account may send (REST and stream together), as N/DURATION: bursts of N, N per DURATION sustained")
	fs.StringVar(&c.ContactRate, "contact-rate", c.ContactRate, "contact requests each account may send, as N/DURATION")
	fs.StringVar(&c.GroupRate, "group-rate", c.GroupRate, "groups each account may create, as N/DURATION")
	fs.StringVar(&c.InviteRate, "invite-rate", c.InviteRate, "people each account may add to groups (at creation or later), as N/DURATION")
	fs.StringVar(&c.UploadRate, "upload-rate", c.UploadRate, "uploads each account may start (whole or resumable), as N/DURATION")
	fs.StringVar(&c.PostRate, "post-rate", c.PostRate, "microblog posts each account may publish (replies and reposts included), as N/DURATION")
	fs.StringVar(&c.FollowRate, "follow-rate", c.FollowRate, "follows and unfollows each account may make, as N/DURATION")
	fs.StringVar(&c.LikeRate, "like-rate", c.LikeRate, "likes and unlikes each account may give, as N/DURATION")
	fs.StringVar(&c.ReportRate, "report-rate", c.ReportRate, "reports each account may file, as N/DURATION")
	fs.Int64Var(&c.FanoutThreshold, "fanout-threshold", c.FanoutThreshold, "follower `count` from which an author's posts are merged into timelines at read time instead of written to every follower's")
	fs.IntVar(&c.MaxStreamsPerAccount, "max-streams-per-account", c.MaxStreamsPerAccount, "event streams one account may hold open across all nodes; past it the oldest closes (0: no cap; off with --rate-limits off)")
	fs.IntVar(&c.MaxStreamsPerSession, "max-streams-per-session", c.MaxStreamsPerSession, "event streams one session may hold open across all nodes; past it the oldest closes (0: no cap; off with --rate-limits off)")
	fs.StringVar(&c.StreamTransport, "stream-transport", c.StreamTransport, "WebSocket `transport` of the event stream: nbio (one event loop, no goroutine per idle device) or std (coder/websocket, a goroutine per device)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies, "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For is trusted")
	fs.StringVar(&c.SMS, "sms", c.SMS, "SMS sender: outbox (append to DATA/outbox/sms.jsonl, for development) or an https:// `URL` of a gateway webhook")
	fs.StringVar(&c.SMSSecretFile, "sms-secret-file", c.SMSSecretFile, "`file` with the secret that signs requests to the SMS webhook")
	fs.StringVar(&c.VerificationPolicy, "verification-policy", c.VerificationPolicy, "overrides of which actions need which level, as `ACTION=LEVEL,…` (levels none, phone, identity)")
	fs.StringVar(&c.PhoneRegion, "phone-region", c.PhoneRegion, "default `region` (e.g. CN) for phone numbers typed without +; empty requires international form")
	fs.BoolVar(&c.OneAccountPerPhone, "one-account-per-phone", c.OneAccountPerPhone, "refuse a phone number already verified on another account")
	fs.StringVar(&c.PhoneRateIP, "phone-rate-ip", c.PhoneRateIP, "verification codes per client address, as N/DURATION")
	fs.StringVar(&c.PhoneRateNumber, "phone-rate-number", c.PhoneRateNumber, "verification codes per phone number, as N/DURATION")
	fs.StringVar(&c.PhoneVerifyRateAccount, "phone-verify-rate-account", c.PhoneVerifyRateAccount, "phone code entries per account, as N/DURATION")
	fs.StringVar(&c.PhoneVerifyRateIP, "phone-verify-rate-ip", c.PhoneVerifyRateIP, "phone code entries per client address, as N/DURATION")
	fs.StringVar(&c.IdentityProviders, "identity-providers", c.IdentityProviders, "verification providers allowed to call the identity webhook, as `NAME=SECRET_FILE,…`")
	fs.StringVar(&c.Media, "media", c.Media, "media store `url`: file:DIR or s3://bucket?endpoint=…&region=… (default file:DATA/media)")
	fs.Int64Var(&c.MediaQuota, "media-quota", c.MediaQuota, "media `bytes` each account may store")
	fs.Int64Var(&c.GCHeapFloor, "gc-heap-floor", c.GCHeapFloor, "`bytes` the heap may grow to before the garbage collector runs, while the live heap is small: fewer collections for memory a small server has spare (0: GOGC alone; GOMEMLIMIT still caps the heap)")
	fs.Int64Var(&c.MinFreeBytes, "min-free-bytes", c.MinFreeBytes, "free `bytes` in the data directory below which /healthz answers 503 (0: no check)")
	fs.IntVar(&c.MaxUnfinished, "max-unfinished-uploads", c.MaxUnfinished, "resumable uploads one account may have in progress at once")
	fs.StringVar(&c.Bus, "bus", c.Bus, "event bus: local (one node) or nats://host:port[,…] (a cluster)")
	fs.StringVar(&c.BusPrefix, "bus-prefix", c.BusPrefix, "`prefix` of every bus subject, so clusters can share a NATS server")
	fs.StringVar(&c.DirectMessages, "direct-messages", c.DirectMessages, "who may message and invite whom: contacts or anyone")
	fs.IntVar(&c.MaxGroupMembers, "max-group-members", c.MaxGroupMembers, "largest group")
	fs.DurationVar(&c.RecallWindow, "recall-window", c.RecallWindow, "how long after sending a message may be recalled")
	fs.DurationVar(&c.SyncRetention, "sync-retention", c.SyncRetention, "how long the sync log keeps events; older cursors get cursor_expired")
	fs.BoolVar(&c.SyncLogRuns, "sync-log-runs", c.SyncLogRuns, "store a batch's messages to one conversation as one sync log row per member and up to 32 messages; set it to false while any node still runs a release before migration 00025, and see Upgrades in docs/operations.md before going back to one")
	fs.DurationVar(&c.DeletionGrace, "deletion-grace", c.DeletionGrace, "how long after its owner asks an account is erased; until then they may sign in and cancel (1s to 8760h)")
	fs.DurationVar(&c.ExportExpiry, "export-expiry", c.ExportExpiry, "how long a data export may be downloaded once written; then its ZIP is deleted")
	fs.IntVar(&c.MinAge, "min-age", c.MinAge, "minimum age in `years` to register")
	fs.StringVar(&c.TimeZone, "time-zone", c.TimeZone, "the operator's IANA time `zone`, for ages and quotas")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest JSON request body in `bytes`")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long the graceful shutdown may take: the drain window, then in-flight requests finishing")
	fs.DurationVar(&c.DrainWindow, "drain-window", c.DrainWindow, "at shutdown, spread the closes of the event streams over this `duration` (0: all at once); less than --shutdown-timeout")
	fs.StringVar(&c.PushSubject, "push-subject", c.PushSubject, "the contact push services may write to about this server's Web Push: mailto:ADDRESS or an https:// URL")
	fs.StringVar(&c.PushServices, "push-services", c.PushServices, "comma-separated `hosts` of the push services subscriptions may name (a host matches itself and its subdomains), or any")
	fs.BoolVar(&c.PushAllowLoopback, "push-allow-loopback", c.PushAllowLoopback, "let push subscriptions name loopback endpoints, over http too (for tests and development only)")
}

// parse parses args into the flag set, filling every flag not given on the
// command line from PLAZA_<FLAG> (dashes become underscores).
//
// After it, given tells whether a flag was set either way.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if onCommandLine[f.Name] {
			return
		}
		env := "PLAZA_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q is not a valid value for --%s (%s)", env, v, f.Name, f.Usage))
			}
		}
	})
	return errors.Join(errs...)
}

// DatabaseURL returns the database URL, defaulting to SQLite in the data
// directory.
func (c *Config) DatabaseURL() string {
	if c.DB != "" {
		return c.DB
	}
	return "sqlite:" + filepath.Join(c.Data, "plaza.db")
}

// ValidateData checks the settings every command shares (dataFlags),
// reporting every problem at once.
func (c *Config) ValidateData() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Data == "" {
		bad("--data must name a directory")
	}
	if u := c.DB; u != "" && !strings.HasPrefix(u, "sqlite:") && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		bad("--db must start with sqlite: or postgres://")
	}
	if s := strings.ToUpper(c.SQLiteSync); s != "FULL" && s != "NORMAL" {
		bad("--sqlite-synchronous must be FULL or NORMAL, not %q", c.SQLiteSync)
	}
	if c.LogFormat != "auto" && c.LogFormat != "text" && c.LogFormat != "json" {
		bad("--log-format must be auto, text or json")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		bad("--log-level: %v", err)
	}
	return errors.Join(errs...)
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if err := c.ValidateData(); err != nil {
		errs = append(errs, err)
	}
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Listen == "" {
		bad("--listen must be host:port")
	}
	if c.RateLimits != "on" && c.RateLimits != "off" {
		bad("--rate-limits must be on or off, not %q", c.RateLimits)
	}
	for name, v := range map[string]string{"--login-rate-ip": c.LoginRateIP, "--login-rate-account-ip": c.LoginRateAccountIP,
		"--login-rate-account": c.LoginRateAccount, "--register-rate-ip": c.RegisterRateIP, "--phone-rate-ip": c.PhoneRateIP,
		"--phone-rate-number": c.PhoneRateNumber, "--phone-verify-rate-account": c.PhoneVerifyRateAccount,
		"--phone-verify-rate-ip": c.PhoneVerifyRateIP, "--send-rate": c.SendRate, "--contact-rate": c.ContactRate,
		"--group-rate": c.GroupRate, "--invite-rate": c.InviteRate, "--upload-rate": c.UploadRate,
		"--post-rate": c.PostRate, "--follow-rate": c.FollowRate, "--like-rate": c.LikeRate, "--report-rate": c.ReportRate} {
		if _, err := ratelimit.ParseRate(v); err != nil {
			bad("%s: %v", name, err)
		}
	}
	if c.FanoutThreshold < 1 {
		bad("--fanout-threshold must be at least 1")
	}
	if c.MaxStreamsPerAccount < 0 || c.MaxStreamsPerAccount > 10_000 {
		bad("--max-streams-per-account must be 0–10000")
	}
	if c.MaxStreamsPerSession < 0 || c.MaxStreamsPerSession > 10_000 {
		bad("--max-streams-per-session must be 0–10000")
	}
	if c.StreamTransport != realtime.TransportNBIO && c.StreamTransport != realtime.TransportStd {
		bad("--stream-transport must be nbio or std, not %q", c.StreamTransport)
	}
	if _, err := c.proxies(); err != nil {
		bad("--trusted-proxies: %v", err)
	}
	if c.SMS != "outbox" && !strings.HasPrefix(c.SMS, "https://") && !strings.HasPrefix(c.SMS, "http://") {
		bad("--sms must be outbox or a gateway URL (https://…)")
	}
	if c.SMSSecretFile != "" && c.SMS == "outbox" {
		bad("--sms-secret-file needs --sms set to a gateway URL")
	}
	if _, err := identity.ParsePolicy(c.VerificationPolicy); err != nil {
		bad("--verification-policy: %v", err)
	}
	if r := c.PhoneRegion; r != "" && (len(r) != 2 || strings.ToUpper(r) != r) {
		bad("--phone-region must be a two-letter region code such as CN")
	}
	if _, err := c.providers(); err != nil {
		bad("--identity-providers: %v", err)
	}
	if m := c.Media; m != "" && !strings.HasPrefix(m, "file:") && !strings.HasPrefix(m, "s3://") {
		bad("--media must be file:DIR or s3://bucket?…")
	}
	if c.MediaQuota < 1<<20 {
		bad("--media-quota must be at least 1 MiB (1048576)")
	}
	if c.MinFreeBytes < 0 {
		bad("--min-free-bytes must not be negative")
	}
	if f := c.GCHeapFloor; f != 0 && (f < 4<<20 || f > 1<<40) {
		bad("--gc-heap-floor must be 0 (off) or 4 MiB (4194304) to 1 TiB")
	}
	if c.MaxUnfinished < 1 {
		bad("--max-unfinished-uploads must be at least 1")
	}
	if c.Bus != "local" && !strings.HasPrefix(c.Bus, "nats://") && !strings.HasPrefix(c.Bus, "tls://") {
		bad("--bus must be local or nats://host:port[,…]")
	}
	if c.BusPrefix == "" || strings.ContainsAny(c.BusPrefix, " .*>") {
		bad("--bus-prefix must be a word without spaces, dots, * or >")
	}
	if c.DirectMessages != "contacts" && c.DirectMessages != "anyone" {
		bad("--direct-messages must be contacts or anyone")
	}
	if c.MaxGroupMembers < 2 || c.MaxGroupMembers > 100_000 {
		bad("--max-group-members must be 2–100000")
	}
	if c.RecallWindow < 0 {
		bad("--recall-window must not be negative")
	}
	if c.SyncRetention < time.Hour {
		bad("--sync-retention must be at least 1h")
	}
	if c.DeletionGrace < time.Second || c.DeletionGrace > maxDeletionGrace {
		bad("--deletion-grace must be 1s to 8760h (a year)")
	}
	if c.ExportExpiry < time.Hour || c.ExportExpiry > 90*24*time.Hour {
		bad("--export-expiry must be 1h to 2160h (90 days)")
	}
	if c.MinAge < 0 || c.MinAge > 130 {
		bad("--min-age must be 0–130 years")
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		bad("--time-zone: %v", err)
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		bad("--max-body-bytes must be 1 KiB to 64 MiB")
	}
	if c.ShutdownTimeout <= 0 {
		bad("--shutdown-timeout must be positive")
	}
	if c.DrainWindow < 0 || c.DrainWindow >= c.ShutdownTimeout {
		bad("--drain-window must be 0 or more and less than --shutdown-timeout (%v)", c.ShutdownTimeout)
	}
	if !strings.HasPrefix(c.PushSubject, "mailto:") && !strings.HasPrefix(c.PushSubject, "https://") || len(c.PushSubject) > 256 {
		bad("--push-subject must be mailto:ADDRESS or an https:// URL, at most 256 characters")
	}
	return errors.Join(errs...)
}

func (c *Config) proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(c.TrustedProxies, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// providers reads --identity-providers into name → secret.
func (c *Config) providers() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, item := range strings.Split(c.IdentityProviders, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, file, ok := strings.Cut(item, "=")
		if !ok || name == "" || file == "" {
			return nil, fmt.Errorf("%q: want NAME=SECRET_FILE", item)
		}
		secret, err := readSecretFile(file)
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", name, err)
		}
		out[name] = secret
	}
	return out, nil
}

// readSecretFile reads a secret of at least 16 bytes, trimming whitespace.
func readSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) < 16 {
		return nil, fmt.Errorf("%s: the secret must be at least 16 characters", path)
	}
	return b, nil
}

// KeyFile returns the path of the identity encryption key.
func (c *Config) KeyFile() string {
	if c.SecretKeyFile != "" {
		return c.SecretKeyFile
	}
	return filepath.Join(c.Data, "secret.key")
}

// AuditKeyPath returns the path of the audit log's signing keys: beside
// the identity key unless given.
func (c *Config) AuditKeyPath() string {
	if c.AuditKeyFile != "" {
		return c.AuditKeyFile
	}
	return filepath.Join(filepath.Dir(c.KeyFile()), "audit.key")
}

// identityConfig derives the identity rules; call after Validate.
func (c *Config) identityConfig() identity.Config {
	ic := identity.DefaultConfig()
	ic.Policy, _ = identity.ParsePolicy(c.VerificationPolicy)
	ic.OneAccountPerPhone = c.OneAccountPerPhone
	ic.DefaultRegion = c.PhoneRegion
	return ic
}

// MediaURL returns the media store URL, defaulting to the data directory.
func (c *Config) MediaURL() string {
	if c.Media != "" {
		return c.Media
	}
	return "file:" + filepath.Join(c.Data, "media")
}

// mediaConfig derives the upload rules; call after Validate.
// exportConfig derives the data export's settings; call after Validate.
func (c *Config) exportConfig() export.Config {
	ec := export.DefaultConfig()
	ec.Expiry = c.ExportExpiry
	ec.PageDelay = testHooks.exportPageDelay
	if testHooks.exportPageSize > 0 {
		ec.PageSize = testHooks.exportPageSize
	}
	return ec
}

// jobsConfig derives the job queue's settings.
func (c *Config) jobsConfig() jobs.Config {
	jc := jobs.DefaultConfig()
	if testHooks.jobsLease > 0 {
		jc.Lease = testHooks.jobsLease
	}
	return jc
}

func (c *Config) mediaConfig() media.Config {
	mc := media.DefaultConfig()
	mc.Quota = c.MediaQuota
	mc.MaxUnfinished = c.MaxUnfinished
	mc.TempDir = filepath.Join(c.Data, "tmp")
	return mc
}

// chatConfig derives the chat rules; call after Validate.
func (c *Config) pushConfig() push.Config {
	pc := push.DefaultConfig()
	pc.Subject = c.PushSubject
	pc.AllowLoopback = c.PushAllowLoopback
	pc.Services = nil
	if c.PushServices != "any" {
		for _, h := range strings.Split(c.PushServices, ",") {
			if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
				pc.Services = append(pc.Services, h)
			}
		}
	}
	return pc
}

func (c *Config) chatConfig() chat.Config {
	cc := chat.DefaultConfig()
	cc.DirectPolicy = c.DirectMessages
	cc.MaxGroupMembers = c.MaxGroupMembers
	cc.RecallWindow = c.RecallWindow
	cc.Retention = c.SyncRetention
	cc.SyncLogRuns = c.SyncLogRuns
	if c.RateLimits == "on" {
		cc.Limits.Sends, _ = ratelimit.ParseRate(c.SendRate)
		cc.Limits.ContactRequests, _ = ratelimit.ParseRate(c.ContactRate)
		cc.Limits.Groups, _ = ratelimit.ParseRate(c.GroupRate)
		cc.Limits.Invitations, _ = ratelimit.ParseRate(c.InviteRate)
	}
	return cc
}

// microblogConfig derives the microblog's rules; call after Validate.
func (c *Config) microblogConfig() microblog.Config {
	mc := microblog.DefaultConfig()
	mc.FanoutThreshold = c.FanoutThreshold
	if c.RateLimits == "on" {
		mc.Limits.Posts, _ = ratelimit.ParseRate(c.PostRate)
		mc.Limits.Follows, _ = ratelimit.ParseRate(c.FollowRate)
		mc.Limits.Likes, _ = ratelimit.ParseRate(c.LikeRate)
	}
	return mc
}

// moderationConfig derives the moderation rules; call after Validate.
func (c *Config) moderationConfig() moderation.Config {
	mc := moderation.DefaultConfig()
	mc.Reports = ratelimit.Rate{}
	if c.RateLimits == "on" {
		mc.Reports, _ = ratelimit.ParseRate(c.ReportRate)
	}
	return mc
}

// httpConfig derives the API's settings; call after Validate.
func (c *Config) httpConfig() httpapi.Config {
	h := httpapi.DefaultConfig()
	h.MaxBodyBytes = c.MaxBodyBytes
	h.RateLimits = c.RateLimits == "on"
	h.LoginPerIP, _ = ratelimit.ParseRate(c.LoginRateIP)
	h.LoginPerAccountIP, _ = ratelimit.ParseRate(c.LoginRateAccountIP)
	h.LoginPerAccount, _ = ratelimit.ParseRate(c.LoginRateAccount)
	h.RegisterPerIP, _ = ratelimit.ParseRate(c.RegisterRateIP)
	h.TrustedProxies, _ = c.proxies()
	h.PhonePerIP, _ = ratelimit.ParseRate(c.PhoneRateIP)
	h.PhonePerNumber, _ = ratelimit.ParseRate(c.PhoneRateNumber)
	h.UploadsPerAccount, _ = ratelimit.ParseRate(c.UploadRate)
	h.PhoneVerifyPerAccount, _ = ratelimit.ParseRate(c.PhoneVerifyRateAccount)
	h.PhoneVerifyPerIP, _ = ratelimit.ParseRate(c.PhoneVerifyRateIP)
	h.PhoneRegion = c.PhoneRegion
	h.SMSOutbox = c.SMS == "outbox"
	h.IdentityProviders, _ = c.providers()
	h.UploadsDir = filepath.Join(c.Data, "uploads")
	h.DataDir = c.Data
	h.MinFreeBytes = c.MinFreeBytes
	h.Version = version
	return h
}

// accountConfig derives the account rules; call after Validate.
// maxDeletionGrace bounds --deletion-grace: a year is longer than any
// operator needs, and an erasure must not wait for ever.
const maxDeletionGrace = 365 * 24 * time.Hour

func (c *Config) accountConfig() account.Config {
	a := account.DefaultConfig()
	a.MinAge = c.MinAge
	a.DeletionGrace = c.DeletionGrace
	a.Location, _ = time.LoadLocation(c.TimeZone)
	return a
}

// streamLimits derives the caps on open streams; call after Validate.
// streamConfig is the hub's configuration.
func (c *Config) streamConfig() realtime.Config {
	cfg := realtime.DefaultConfig()
	cfg.Transport = c.StreamTransport
	return cfg
}

func (c *Config) streamLimits() realtime.Limits {
	if c.RateLimits == "off" {
		return realtime.Limits{}
	}
	return realtime.Limits{PerAccount: c.MaxStreamsPerAccount, PerSession: c.MaxStreamsPerSession}
}

// given reports whether the flag name was set on fs's command line or, after
// parse, from its environment variable.
func given(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
