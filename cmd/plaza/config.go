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
	"github.com/plaza-im/plaza/internal/httpapi"
	"github.com/plaza-im/plaza/internal/ratelimit"
)

// Config is everything an operator can set. Defaults live in
// DefaultConfig; flags and PLAZA_* environment variables override them.
type Config struct {
	Listen string
	Data   string
	DB     string // database URL; default sqlite:DATA/plaza.db

	SQLiteSync string

	RateLimits       string // on | off
	LoginRateIP      string
	LoginRateAccount string
	RegisterRateIP   string
	TrustedProxies   string // comma-separated CIDRs

	MinAge          int
	TimeZone        string
	MaxBodyBytes    int64
	ShutdownTimeout time.Duration

	LogFormat string // auto | text | json
	LogLevel  string // debug | info | warn | error
}

// DefaultConfig returns the embedded defaults: everything under
// ./plaza-data, listening on 127.0.0.1:8080.
func DefaultConfig() Config {
	return Config{
		Listen:           "127.0.0.1:8080",
		Data:             "plaza-data",
		SQLiteSync:       "FULL",
		RateLimits:       "on",
		LoginRateIP:      "10/1m",
		LoginRateAccount: "10/1m",
		RegisterRateIP:   "5/1h",
		MinAge:           14,
		TimeZone:         "UTC",
		MaxBodyBytes:     1 << 20,
		ShutdownTimeout:  20 * time.Second,
		LogFormat:        "auto",
		LogLevel:         "info",
	}
}

// dataFlags registers the flags every command that touches the data needs.
func (c *Config) dataFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Data, "data", c.Data, "data `dir`ectory: the SQLite database, media and generated keys live here")
	fs.StringVar(&c.DB, "db", c.DB, "database `url`: sqlite:PATH or postgres://… (default sqlite:DATA/plaza.db)")
	fs.StringVar(&c.SQLiteSync, "sqlite-synchronous", c.SQLiteSync, "SQLite synchronous `mode`: FULL (every acknowledged write survives power loss) or NORMAL")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log `format`: auto (text on a terminal, JSON otherwise), text or json")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log `level`: debug, info, warn or error")
}

// serveFlags registers the server's flags.
func (c *Config) serveFlags(fs *flag.FlagSet) {
	c.dataFlags(fs)
	fs.StringVar(&c.Listen, "listen", c.Listen, "`address` to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&c.RateLimits, "rate-limits", c.RateLimits, "on, or off to disable every rate limit (tests and benchmarks only)")
	fs.StringVar(&c.LoginRateIP, "login-rate-ip", c.LoginRateIP, "sign-in attempts allowed per client address, as N/DURATION")
	fs.StringVar(&c.LoginRateAccount, "login-rate-account", c.LoginRateAccount, "sign-in attempts allowed per account, as N/DURATION")
	fs.StringVar(&c.RegisterRateIP, "register-rate-ip", c.RegisterRateIP, "registrations allowed per client address, as N/DURATION")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies, "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For is trusted")
	fs.IntVar(&c.MinAge, "min-age", c.MinAge, "minimum age in `years` to register")
	fs.StringVar(&c.TimeZone, "time-zone", c.TimeZone, "the operator's IANA time `zone`, for ages and quotas")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest JSON request body in `bytes`")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long in-flight requests may take to finish at shutdown")
}

// parse parses args into the flag set, filling every flag not given on the
// command line from PLAZA_<FLAG> (dashes become underscores).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
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
	for name, v := range map[string]string{"--login-rate-ip": c.LoginRateIP, "--login-rate-account": c.LoginRateAccount, "--register-rate-ip": c.RegisterRateIP} {
		if _, err := ratelimit.ParseRate(v); err != nil {
			bad("%s: %v", name, err)
		}
	}
	if _, err := c.proxies(); err != nil {
		bad("--trusted-proxies: %v", err)
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

// httpConfig derives the API's settings; call after Validate.
func (c *Config) httpConfig() httpapi.Config {
	h := httpapi.DefaultConfig()
	h.MaxBodyBytes = c.MaxBodyBytes
	h.RateLimits = c.RateLimits == "on"
	h.LoginPerIP, _ = ratelimit.ParseRate(c.LoginRateIP)
	h.LoginPerAccount, _ = ratelimit.ParseRate(c.LoginRateAccount)
	h.RegisterPerIP, _ = ratelimit.ParseRate(c.RegisterRateIP)
	h.TrustedProxies, _ = c.proxies()
	h.Version = version
	return h
}

// accountConfig derives the account rules; call after Validate.
func (c *Config) accountConfig() account.Config {
	a := account.DefaultConfig()
	a.MinAge = c.MinAge
	a.Location, _ = time.LoadLocation(c.TimeZone)
	return a
}
