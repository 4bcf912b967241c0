package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		listen, path, want string
		wantErr            bool
	}{
		{listen: "127.0.0.1:8080", path: "/readyz", want: "http://127.0.0.1:8080/readyz"},
		{listen: ":8080", path: "/readyz", want: "http://127.0.0.1:8080/readyz"},
		{listen: "0.0.0.0:9000", path: "/readyz", want: "http://127.0.0.1:9000/readyz"},
		{listen: "[::]:8080", path: "/readyz", want: "http://[::1]:8080/readyz"},
		{listen: "[fd00::5]:8080", path: "/readyz", want: "http://[fd00::5]:8080/readyz"},
		{listen: "plaza.internal:80", path: "/readyz", want: "http://plaza.internal:80/readyz"},
		{listen: ":8080", path: "/livez", want: "http://127.0.0.1:8080/livez"},
		{listen: "[::]:8080", path: "/livez", want: "http://[::1]:8080/livez"},
		{listen: "127.0.0.1:0", path: "/readyz", wantErr: true},
		{listen: "8080", path: "/readyz", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.listen+tt.path, func(t *testing.T) {
			got, err := checkURL(tt.listen, tt.path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("checkURL(%q, %q): got error %v, want error %v", tt.listen, tt.path, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("checkURL(%q, %q): got %q, want %q", tt.listen, tt.path, got, tt.want)
			}
		})
	}
}

// TestHealthcheckExitStatus runs the subcommand against servers that
// answer in each way a container runtime must tell apart.
func TestHealthcheckExitStatus(t *testing.T) {
	clearPlazaEnv(t)
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, `{"status":"ready"}`)
	}))
	defer ready.Close()
	// draining answers as a server does while it drains or has lost its
	// database: not ready, but alive.
	draining := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/livez" {
			io.WriteString(w, `{"status":"alive"}`)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"draining"}`)
	}))
	defer draining.Close()
	// stuck accepts the request and never answers.
	release := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer stuck.Close()
	defer close(release)
	// closed is an address nothing listens on any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOutput string // in stdout on success, in stderr otherwise
	}{
		{"ready by listen address", []string{"--listen", strings.TrimPrefix(ready.URL, "http://")}, 0, `200 {"status":"ready"}`},
		{"ready by URL", []string{"--url", ready.URL + "/readyz"}, 0, "200"},
		{"draining", []string{"--url", draining.URL + "/readyz"}, 1, `503 {"status":"draining"}`},
		{"draining, readyz by default", []string{"--listen", strings.TrimPrefix(draining.URL, "http://")}, 1, `/readyz: 503 {"status":"draining"}`},
		{"draining but alive", []string{"--listen", strings.TrimPrefix(draining.URL, "http://"), "--path", "/livez"}, 0, `/livez: 200 {"status":"alive"}`},
		{"path not served", []string{"--listen", strings.TrimPrefix(ready.URL, "http://"), "--path=/livez"}, 1, "/livez: 404"},
		{"wrong path", []string{"--url", ready.URL + "/nope"}, 1, "404"},
		{"nothing listening", []string{"--listen", closed}, 1, "connection refused"},
		{"no answer in time", []string{"--url", stuck.URL + "/readyz", "--timeout", "100ms"}, 1, "no answer in time"},
		{"port 0", []string{"--listen", "127.0.0.1:0"}, 2, "no fixed port"},
		{"not a URL", []string{"--url", "localhost:8080/readyz"}, 2, "--url must be"},
		{"argument", []string{"extra"}, 2, "takes no arguments"},
		{"relative path", []string{"--path", "livez"}, 2, "--path must be a path"},
		{"path with a query", []string{"--path", "/livez?x=1"}, 2, "--path must be a path"},
		{"path and URL", []string{"--url", ready.URL + "/readyz", "--path", "/livez"}, 2, "--path and --url exclude each other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runInProcess(t, append([]string{"healthcheck"}, tt.args...)...)
			if res.code != tt.wantCode {
				t.Errorf("got exit %d, want %d; stdout %q, stderr %q", res.code, tt.wantCode, res.stdout, res.stderr)
			}
			out := res.stderr
			if tt.wantCode == 0 {
				out = res.stdout
			}
			if !strings.Contains(out, tt.wantOutput) {
				t.Errorf("got output %q, want it to contain %q", out, tt.wantOutput)
			}
		})
	}
}

// TestHealthcheckReadsListenFromEnvironment: a container image sets
// PLAZA_LISTEN once, and the health check finds the server from it.
func TestHealthcheckReadsListenFromEnvironment(t *testing.T) {
	clearPlazaEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"status":"ready"}`)
	}))
	defer srv.Close()
	t.Setenv("PLAZA_LISTEN", strings.TrimPrefix(srv.URL, "http://"))
	if res := runInProcess(t, "healthcheck"); res.code != 0 {
		t.Errorf("got exit %d, want 0; stderr %q", res.code, res.stderr)
	}
}

// TestHealthcheckFollowsDrain checks the subcommand against a real server:
// ready while it serves, not ready from the moment it starts draining,
// which is when a container runtime or load balancer must stop sending.
func TestHealthcheckFollowsDrain(t *testing.T) {
	clearPlazaEnv(t)
	cfg := DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	m := &Main{Config: cfg, LogOutput: io.Discard}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Open(ctx); err != nil {
		m.Close()
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- m.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-ran:
		case <-time.After(exitTimeout):
			t.Errorf("Run did not return within %v of cancel", exitTimeout)
		}
		m.Close()
	}()

	if res := runInProcess(t, "healthcheck", "--listen", m.Addr()); res.code != 0 || !strings.Contains(res.stdout, `"ready"`) {
		t.Fatalf("serving: got exit %d, stdout %q, stderr %q; want 0 and ready", res.code, res.stdout, res.stderr)
	}
	if res := runInProcess(t, "healthcheck", "--listen", m.Addr(), "--path", "/livez"); res.code != 0 || !strings.Contains(res.stdout, "/livez: 200") {
		t.Fatalf("serving, /livez: got exit %d, stdout %q, stderr %q; want 0 and 200", res.code, res.stdout, res.stderr)
	}
	m.API.Drain(ctx, 0)
	if res := runInProcess(t, "healthcheck", "--listen", m.Addr()); res.code != 1 || !strings.Contains(res.stderr, `"draining"`) {
		t.Errorf("draining: got exit %d, stderr %q; want 1 and draining", res.code, res.stderr)
	}
	// A runtime that replaces unhealthy containers must not replace one
	// that drains: /livez stays 200.
	if res := runInProcess(t, "healthcheck", "--listen", m.Addr(), "--path", "/livez"); res.code != 0 {
		t.Errorf("draining, /livez: got exit %d, stderr %q; want 0", res.code, res.stderr)
	}
}
