package main

// Helpers for the end-to-end tests: they build the real plaza binary once,
// run it as a subprocess on port 0 in a temp dir, and talk to it over HTTP
// and through its admin CLI, as an operator and a client would.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Deadlines for the subprocesses. They are generous because a loaded CI
// machine (and -race) can be slow; a passing run never waits for them.
const (
	startTimeout = 60 * time.Second
	exitTimeout  = 30 * time.Second
	cliTimeout   = 60 * time.Second
)

// testPassword is every test account's password.
const testPassword = "correct horse battery staple"

var (
	binDir    string // holds the built binary; removed by TestMain
	buildOnce sync.Once
	binPath   string
	buildErr  error
	// raceBuild is set by race_test.go so that, when the tests run with
	// -race, the server under test is race-checked too.
	raceBuild bool
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "plaza-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create binary dir:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// plazaBinary builds the plaza binary from this package on first use and
// returns its path. Tests that only call run in-process never pay for it.
func plazaBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("find the go tool: %w", err)
			return
		}
		binPath = filepath.Join(binDir, "plaza")
		// The plazatest tag lets PLAZA_TEST_* variables set the test
		// hooks (testhooks.go); a released binary has none.
		args := []string{"build", "-tags", "plazatest", "-o", binPath}
		if raceBuild {
			args = append(args, "-race")
		}
		cmd := exec.Command(goTool, append(args, ".")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if buildErr != nil {
		tb.Fatalf("build plaza: %v", buildErr)
	}
	return binPath
}

// childEnv returns this process's environment without any PLAZA_ variable
// (so an operator's shell settings cannot leak into the server under test),
// plus extra. PLAZA_TEST_STREAM_TRANSPORT=std runs the servers on the
// event stream's other transport.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PLAZA_") {
			env = append(env, kv)
		}
	}
	if tr := os.Getenv("PLAZA_TEST_STREAM_TRANSPORT"); tr != "" {
		env = append(env, "PLAZA_STREAM_TRANSPORT="+tr)
	}
	return append(env, extra...)
}

// server is a running `plaza serve` subprocess.
type server struct {
	URL string // http://127.0.0.1:PORT

	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited
	err    error         // cmd.Wait's result, set before exited closes

	mu    sync.Mutex
	lines []string // stderr, line by line
}

// startServer runs `plaza serve` on 127.0.0.1:0 with JSON logs and rate
// limits off, plus args (which should include --data), and returns once
// it logs that it is serving. The test's cleanup kills it if it still
// runs.
func startServer(tb testing.TB, args ...string) *server {
	tb.Helper()
	base := []string{"serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--rate-limits", "off"}
	return startProcess(tb, nil, append(base, args...)...)
}

// startProcess runs the plaza binary with args and the extra environment
// and waits until it logs "plaza serving".
func startProcess(tb testing.TB, env []string, args ...string) *server {
	tb.Helper()
	s := &server{cmd: exec.Command(plazaBinary(tb), args...), exited: make(chan struct{})}
	s.cmd.Env = childEnv(env...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		tb.Fatalf("stderr pipe: %v", err)
	}
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start plaza %s: %v", strings.Join(args, " "), err)
	}
	addrc := make(chan string, 1)
	// This goroutine owns stderr: it drains it to EOF (the process exits),
	// then reaps the process.
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.lines = append(s.lines, line)
			s.mu.Unlock()
			if rec, ok := parseLog(line); ok && rec["msg"] == "plaza serving" {
				if addr, ok := rec["addr"].(string); ok {
					select {
					case addrc <- addr:
					default:
					}
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr) // after an over-long line
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	tb.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			select {
			case <-s.exited:
			case <-time.After(exitTimeout):
				tb.Errorf("plaza (pid %d) did not exit after SIGKILL", s.cmd.Process.Pid)
			}
		}
		if logs := s.logs(); tb.Failed() || strings.Contains(logs, "DATA RACE") {
			if strings.Contains(logs, "DATA RACE") {
				tb.Errorf("the race detector reported a data race in the server")
			}
			tb.Logf("plaza %s stderr:\n%s", strings.Join(args, " "), logs)
		}
	})
	select {
	case addr := <-addrc:
		s.URL = addr
		return s
	case <-s.exited:
		tb.Fatalf("plaza %s exited before serving (%v); stderr:\n%s", strings.Join(args, " "), s.err, s.logs())
	case <-time.After(startTimeout):
		tb.Fatalf("plaza %s did not log \"plaza serving\" within %v; stderr:\n%s", strings.Join(args, " "), startTimeout, s.logs())
	}
	return nil
}

// parseLog decodes one JSON log line.
func parseLog(line string) (map[string]any, bool) {
	var rec map[string]any
	if json.Unmarshal([]byte(line), &rec) != nil {
		return nil, false
	}
	return rec, true
}

// logs returns everything the server wrote to stderr so far.
func (s *server) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// logRecord returns the first JSON log record whose msg starts with
// prefix.
func (s *server) logRecord(prefix string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range s.lines {
		if rec, ok := parseLog(line); ok {
			if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, prefix) {
				return rec, true
			}
		}
	}
	return nil, false
}

// terminate sends SIGTERM, as an init system does.
func (s *server) terminate(tb testing.TB) {
	tb.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		tb.Fatalf("send SIGTERM: %v", err)
	}
}

// wait waits up to timeout for the process to exit and returns its exit
// status (-1 when a signal killed it).
func (s *server) wait(tb testing.TB, timeout time.Duration) int {
	tb.Helper()
	select {
	case <-s.exited:
	case <-time.After(timeout):
		tb.Fatalf("plaza did not exit within %v", timeout)
	}
	var ee *exec.ExitError
	if s.err != nil && !errors.As(s.err, &ee) {
		tb.Fatalf("wait for plaza: %v", s.err)
	}
	return s.cmd.ProcessState.ExitCode()
}

// cliResult is the outcome of one plaza command.
type cliResult struct {
	code           int
	stdout, stderr string
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// runCLI runs the plaza binary with args to completion.
func runCLI(tb testing.TB, args ...string) cliResult {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, plazaBinary(tb), args...)
	cmd.Env = childEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		tb.Fatalf("plaza %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		tb.Fatalf("plaza %s did not finish within %v", strings.Join(args, " "), cliTimeout)
	}
	return cliResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// wantCLI runs the plaza binary and fails unless it exits with wantCode
// and stdout contains wantStdout.
func wantCLI(tb testing.TB, wantCode int, wantStdout string, args ...string) cliResult {
	tb.Helper()
	res := runCLI(tb, args...)
	if res.code != wantCode || !strings.Contains(res.stdout, wantStdout) {
		tb.Fatalf("plaza %s: got %v\nwant exit %d and stdout containing %q", strings.Join(args, " "), res, wantCode, wantStdout)
	}
	return res
}

// response is an HTTP response, read in full.
type response struct {
	req    string // "METHOD URL", for messages
	status int
	body   []byte
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// call sends a request with an optional bearer token and JSON body.
func call(tb testing.TB, method, url, token string, body any) response {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			tb.Fatalf("encode request body: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{req: method + " " + url, status: resp.StatusCode, body: b}
}

// want fails unless the response has status; it then decodes the body
// into out, if out is not nil.
func (r response) want(tb testing.TB, status int, out any) {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("%s: got status %d, want %d; body: %s", r.req, r.status, status, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			tb.Fatalf("%s: decode %s: %v", r.req, r.body, err)
		}
	}
}

// apiError is the API's error shape.
type apiError struct {
	Error struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

// wantError fails unless the response is an error with status and code,
// and returns it.
func (r response) wantError(tb testing.TB, status int, code string) apiError {
	tb.Helper()
	var e apiError
	r.want(tb, status, &e)
	if e.Error.Code != code {
		tb.Fatalf("%s: got error code %q, want %q; body: %s", r.req, e.Error.Code, code, r.body)
	}
	return e
}

// meJSON is the part of GET /api/v1/me the tests look at.
type meJSON struct {
	ID           string   `json:"id"`
	Handle       string   `json:"handle"`
	Roles        []string `json:"roles"`
	Status       string   `json:"status"`
	StatusReason string   `json:"status_reason"`
}

// user is a registered account and its session token.
type user struct {
	ID, Handle, Token string
}

// register opens an account with testPassword, accepting terms version 1.
func register(tb testing.TB, baseURL, handle string) user {
	tb.Helper()
	var out struct {
		Account meJSON `json:"account"`
		Token   string `json:"token"`
	}
	call(tb, "POST", baseURL+"/api/v1/accounts", "", map[string]any{
		"handle": handle, "password": testPassword, "display_name": strings.ToUpper(handle[:1]) + handle[1:],
		"birth_date": "1990-05-17", "accepted_terms_version": 1,
	}).want(tb, http.StatusCreated, &out)
	if out.Account.ID == "" || out.Account.Handle != handle || !strings.HasPrefix(out.Token, "plz_") {
		tb.Fatalf("register %s: got account %+v and token %q, want an id, handle %q and a plz_ token", handle, out.Account, out.Token, handle)
	}
	return user{ID: out.Account.ID, Handle: handle, Token: out.Token}
}

// getMe returns the caller's own account.
func getMe(tb testing.TB, baseURL, token string) meJSON {
	tb.Helper()
	var me meJSON
	call(tb, "GET", baseURL+"/api/v1/me", token, nil).want(tb, http.StatusOK, &me)
	return me
}
