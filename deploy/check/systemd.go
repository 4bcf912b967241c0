package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// unitFile and envFile are the names in deploy/systemd.
const (
	unitFile = "plaza.service"
	envFile  = "plaza.env"
)

// hardening are the [Service] settings the unit must have, with their
// values: the server needs no privilege, device, kernel access or file
// outside its state directory.
var hardening = map[string]string{
	"NoNewPrivileges":       "yes",
	"ProtectSystem":         "strict",
	"ProtectHome":           "yes",
	"PrivateTmp":            "yes",
	"PrivateDevices":        "yes",
	"ProtectKernelTunables": "yes",
	"ProtectKernelModules":  "yes",
	"ProtectKernelLogs":     "yes",
	"ProtectControlGroups":  "yes",
	"CapabilityBoundingSet": "",
	"KillSignal":            "SIGTERM",
}

// readUnit returns a unit file's [Service] settings, each key with its
// values in order (a key may repeat, e.g. SystemCallFilter).
func readUnit(path string) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf("%s: %q is not KEY=VALUE", path, line)
			}
			out[strings.TrimSpace(k)] = append(out[strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return out, sc.Err()
}

// readEnvFile reads KEY=VALUE lines as systemd's EnvironmentFile does
// (comments, optional quotes).
func readEnvFile(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for line := range strings.Lines(string(raw)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: %q is not KEY=VALUE", path, line)
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		}
		out[strings.TrimSpace(k)] = v
	}
	return out, nil
}

// systemdDuration parses a systemd time span: bare seconds, or units
// such as 30s, 1min 30s, 2min.
func systemdDuration(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	s := strings.ReplaceAll(v, " ", "")
	s = strings.ReplaceAll(s, "min", "m")
	s = strings.ReplaceAll(s, "sec", "s")
	return time.ParseDuration(s)
}

// checkSystemd checks dir's unit and example environment file.
// systemd-analyze verify (in .ci/check-deploy) checks the syntax; this
// checks that the hardening is there and the stop timeout covers
// Plaza's graceful shutdown.
func checkSystemd(dir string) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", unitFile, fmt.Sprintf(format, args...)))
	}
	unit, err := readUnit(filepath.Join(dir, unitFile))
	if err != nil {
		return []error{err}
	}
	env, err := readEnvFile(filepath.Join(dir, envFile))
	if err != nil {
		return []error{err}
	}
	last := func(k string) (string, bool) {
		v := unit[k]
		if len(v) == 0 {
			return "", false
		}
		return v[len(v)-1], true
	}
	keys := make([]string, 0, len(hardening))
	for k := range hardening {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if v, ok := last(k); !ok || v != hardening[k] {
			bad("want %s=%s", k, hardening[k])
		}
	}
	if u, ok := last("User"); !ok || u == "" || u == "root" || u == "0" {
		bad("want User= an unprivileged user")
	}
	if v, _ := last("StateDirectory"); v == "" {
		bad("want StateDirectory= (the data directory, the only writable place under ProtectSystem=strict)")
	}
	fams := strings.Fields(strings.Join(unit["RestrictAddressFamilies"], " "))
	slices.Sort(fams)
	if !slices.Equal(fams, []string{"AF_INET", "AF_INET6", "AF_UNIX"}) {
		bad("want RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX, got %q", fams)
	}
	if !slices.Contains(unit["SystemCallFilter"], "@system-service") {
		bad("want SystemCallFilter=@system-service")
	}
	if v, _ := last("LimitNOFILE"); v == "" {
		bad("want LimitNOFILE= high: every event stream holds a descriptor")
	} else if n, err := strconv.Atoi(v); v != "infinity" && (err != nil || n < 65536) {
		bad("LimitNOFILE=%s: want 65536 or more, every event stream holds a descriptor", v)
	}

	// The stop timeout must exceed the shutdown: flags on ExecStart win
	// over the environment file, as in plaza.
	set := map[string]string{}
	for k, v := range env {
		if flag, ok := envFlag(k); ok {
			set[flag] = v
		}
	}
	exec, _ := last("ExecStart")
	for _, f := range strings.Fields(exec) {
		if name, v, ok := strings.Cut(strings.TrimLeft(f, "-"), "="); ok && strings.HasPrefix(f, "-") {
			set[name] = v
		}
	}
	shutdown, drain := defaultShutdownTimeout, defaultDrainWindow
	for flag, d := range map[string]*time.Duration{"shutdown-timeout": &shutdown, "drain-window": &drain} {
		if v, ok := set[flag]; ok {
			if *d, err = time.ParseDuration(v); err != nil {
				bad("--%s %q: %v", flag, v, err)
				return errs
			}
		}
	}
	if drain >= shutdown {
		bad("--drain-window %v must be less than --shutdown-timeout %v", drain, shutdown)
	}
	v, ok := last("TimeoutStopSec")
	if !ok {
		bad("want TimeoutStopSec= above --shutdown-timeout (%v)", shutdown)
		return errs
	}
	stop, err := systemdDuration(v)
	if err != nil {
		bad("TimeoutStopSec=%s: %v", v, err)
	} else if stop <= shutdown {
		bad("TimeoutStopSec=%s must exceed --shutdown-timeout %v (which holds --drain-window %v), or systemd kills plaza mid-drain", v, shutdown, drain)
	}
	return errs
}
