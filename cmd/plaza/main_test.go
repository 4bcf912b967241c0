package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// runResult is the outcome of run, as main would report it.
type runResult struct {
	code           int
	stdout, stderr string
}

// runInProcess calls run as main does and returns what main would print
// and its exit status. The context's deadline keeps a `serve` that was
// expected to fail from hanging the test if it starts after all.
func runInProcess(tb testing.TB, args ...string) runResult {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, args, &stdout, &stderr)
	res := runResult{stdout: stdout.String()}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			stderr.WriteString("plaza: " + err.Error() + "\n")
		}
		res.code = exitCode(err)
	}
	res.stderr = stderr.String()
	if ctx.Err() != nil {
		tb.Fatalf("plaza %s ran until its %v deadline", strings.Join(args, " "), cliTimeout)
	}
	return res
}

// clearPlazaEnv unsets every PLAZA_ variable but the test suite's own
// PLAZA_TEST_ ones, so the developer's environment cannot change what run
// sees. Callers cannot be parallel (t.Setenv).
func clearPlazaEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "PLAZA_") && !strings.HasPrefix(k, "PLAZA_TEST_") {
			t.Setenv(k, "") // restores the value at cleanup
			os.Unsetenv(k)
		}
	}
}

// dataArg in a test table's args stands for a fresh temp data dir.
const dataArg = "$DATA"

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
		notStderr  []string
	}{
		{name: "version", args: []string{"version"}, wantStdout: []string{"plaza " + version + "\n"}},
		{name: "help", args: []string{"help"}, wantStdout: []string{"Usage:", "plaza serve", "PLAZA_LISTEN"}},
		{name: "no command", args: nil, wantCode: 2, wantStderr: []string{"Usage:", "no command given"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantStderr: []string{"Usage:", `unknown command "frobnicate"`}},
		{
			name: "bad --rate-limits", args: []string{"serve", "--data", dataArg, "--rate-limits", "maybe"},
			wantCode: 2, wantStderr: []string{`--rate-limits must be on or off, not "maybe"`},
		},
		{
			name: "every problem at once", args: []string{"serve", "--data", dataArg, "--rate-limits", "maybe", "--min-age", "200", "--log-format", "xml", "--db", "mysql://x"},
			wantCode: 2, wantStderr: []string{"--rate-limits", "--min-age must be 0–130 years", "--log-format must be auto, text or json", "--db must start with sqlite: or postgres://"},
		},
		{
			name: "bad --deletion-grace", args: []string{"serve", "--data", dataArg, "--deletion-grace", "0s"},
			wantCode: 2, wantStderr: []string{"--deletion-grace must be 1s to 8760h"},
		},
		{name: "unknown flag", args: []string{"serve", "--colour"}, wantCode: 2, wantStderr: []string{"flag provided but not defined: -colour"}},
		{name: "stray argument", args: []string{"serve", "--data", dataArg, "now"}, wantCode: 2, wantStderr: []string{"plaza serve takes no arguments"}},
		{
			name: "PLAZA_RATE_LIMITS", env: map[string]string{"PLAZA_RATE_LIMITS": "bogus"}, args: []string{"serve", "--data", dataArg},
			wantCode: 2, wantStderr: []string{`--rate-limits must be on or off, not "bogus"`},
		},
		{
			// --min-age makes the configuration invalid whatever happens, so
			// the server never starts on the default 127.0.0.1:8080.
			name: "PLAZA_LISTEN", env: map[string]string{"PLAZA_LISTEN": ""}, args: []string{"serve", "--data", dataArg, "--min-age", "200"},
			wantCode: 2, wantStderr: []string{"--listen must be host:port", "--min-age"},
		},
		{
			name: "flag beats environment", env: map[string]string{"PLAZA_RATE_LIMITS": "bogus"}, args: []string{"serve", "--data", dataArg, "--rate-limits", "off", "--min-age", "200"},
			wantCode: 2, wantStderr: []string{"--min-age"}, notStderr: []string{"--rate-limits"},
		},
		{
			name: "PLAZA_MIN_AGE not a number", env: map[string]string{"PLAZA_MIN_AGE": "old"}, args: []string{"serve", "--data", dataArg},
			wantCode: 2, wantStderr: []string{"PLAZA_MIN_AGE"},
		},
		{name: "admin without command", args: []string{"admin"}, wantCode: 2, wantStderr: []string{"plaza admin needs a command"}},
		{name: "admin unknown command", args: []string{"admin", "promote", "--data", dataArg}, wantCode: 2, wantStderr: []string{`unknown admin command "promote"`}},
		{name: "admin audit without verify", args: []string{"admin", "audit"}, wantCode: 2, wantStderr: []string{"needs the command verify"}},
		{name: "admin grant without role", args: []string{"admin", "grant", "--data", dataArg, "alice"}, wantCode: 2, wantStderr: []string{"needs HANDLE and ROLE"}},
		{name: "admin grant unknown role", args: []string{"admin", "grant", "--data", dataArg, "alice", "overlord"}, wantCode: 2, wantStderr: []string{`unknown role "overlord"`}},
		{name: "admin grant unknown account", args: []string{"admin", "grant", "--data", dataArg, "nobody", "admin"}, wantCode: 1, wantStderr: []string{`account "nobody"`, "not found"}},
		{name: "admin revoke unknown account", args: []string{"admin", "revoke", "--data", dataArg, "nobody", "moderator"}, wantCode: 1, wantStderr: []string{`account "nobody"`}},
		{name: "audit verify of an empty log", args: []string{"admin", "audit", "verify", "--data", dataArg}, wantStdout: []string{"audit log OK: 0 rows"}},
		{name: "audit verify with arguments", args: []string{"admin", "audit", "verify", "--data", dataArg, "now"}, wantCode: 2, wantStderr: []string{"takes no arguments"}},
		{name: "admin backup without OUT", args: []string{"admin", "backup", "--data", dataArg}, wantCode: 2, wantStderr: []string{"Usage:", "plaza admin backup needs one OUT directory"}},
		{name: "admin restore without --data", args: []string{"admin", "restore", dataArg}, wantCode: 2, wantStderr: []string{"plaza admin restore needs one BACKUP directory and --data NEWDIR"}},
		{name: "admin help lists backup", args: []string{"admin", "help"}, wantStdout: []string{"plaza admin backup", "plaza admin restore BACKUP --data NEWDIR"}},
		{name: "migrate unknown command", args: []string{"migrate", "sideways"}, wantCode: 2, wantStderr: []string{"plaza migrate takes up or status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearPlazaEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				if a == dataArg {
					a = t.TempDir()
				}
				args[i] = a
			}
			res := runInProcess(t, args...)
			if res.code != tt.wantCode {
				t.Errorf("got exit %d, want %d; stdout %q, stderr %q", res.code, tt.wantCode, res.stdout, res.stderr)
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("got stdout %q, want it to contain %q", res.stdout, want)
				}
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("got stderr %q, want it to contain %q", res.stderr, want)
				}
			}
			for _, not := range tt.notStderr {
				if strings.Contains(res.stderr, not) {
					t.Errorf("got stderr %q, want it not to contain %q", res.stderr, not)
				}
			}
		})
	}
}

// TestSubcommandHelp checks that asking a subcommand for help prints its
// flags and succeeds, as `plaza help` does and as exitCode intends (its
// flag.ErrHelp case).
func TestSubcommandHelp(t *testing.T) {
	tests := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"serve", "-h"}, "-listen"},
		{[]string{"migrate", "--help"}, "-data"},
		{[]string{"admin", "grant", "-h"}, "plaza admin grant"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			clearPlazaEnv(t)
			res := runInProcess(t, tt.args...)
			if res.code != 0 {
				t.Errorf("got exit %d, want 0 (help was asked for and given)", res.code)
			}
			if !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("got stderr %q, want the usage, containing %q", res.stderr, tt.wantStderr)
			}
			if strings.Contains(res.stderr, "plaza: ") {
				t.Errorf("got stderr %q, want no error line", res.stderr)
			}
		})
	}
}

// TestRunServeInProcess drives Main through run on port 0, the way the
// binary does, and stops it by cancelling the context as the signal
// handler would.
func TestRunServeInProcess(t *testing.T) {
	clearPlazaEnv(t)
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := newLineWriter()
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--log-format", "json"}, &bytes.Buffer{}, pw)
	}()
	var addr string
	deadline := time.After(startTimeout)
	for addr == "" {
		select {
		case line := <-pr:
			if rec, ok := parseLog(line); ok && rec["msg"] == "plaza serving" {
				addr, _ = rec["addr"].(string)
			}
		case err := <-errc:
			t.Fatalf("run serve returned %v before serving", err)
		case <-deadline:
			t.Fatalf("run serve did not log \"plaza serving\" within %v", startTimeout)
		}
	}
	call(t, "GET", addr+"/healthz", "", nil).want(t, 200, nil)
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("run serve after cancel: got %v, want nil", err)
		}
	case <-time.After(exitTimeout):
		t.Fatalf("run serve did not return within %v of cancel", exitTimeout)
	}
}

// lineWriter hands each complete line written to it to a channel, so a
// test can read an in-process server's log as it is written. Lines nobody
// reads are dropped rather than blocking the server.
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	lines chan string
}

func newLineWriter() (<-chan string, *lineWriter) {
	w := &lineWriter{lines: make(chan string, 256)}
	return w.lines, w
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		select {
		case w.lines <- string(w.buf[:i]):
		default:
		}
		w.buf = w.buf[i+1:]
	}
}
