package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestBenchDefaultValue(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"--group"}, []string{"--group=500"}},
		{[]string{"-group", "--json"}, []string{"-group=500", "--json"}},
		{[]string{"--group", "30", "--json"}, []string{"--group", "30", "--json"}},
		{[]string{"--group=30"}, []string{"--group=30"}},
		{[]string{"--devices", "4"}, []string{"--devices", "4"}},
		{[]string{"--", "--group"}, []string{"--", "--group"}},
	} {
		if got := defaultValue(c.in, "group", "500"); !slices.Equal(got, c.want) {
			t.Errorf("defaultValue(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// benchTarget starts a server that lets bench's accounts talk freely and
// returns its URL and data dir.
func benchTarget(t *testing.T) (string, string) {
	t.Helper()
	data := t.TempDir()
	srv := startServer(t, "--data", data, "--direct-messages", "anyone",
		"--verification-policy", "message.send=none,conversation.create=none,contact.request=none,channel.apply=none,channel.publish=none")
	return srv.URL, data
}

// runBenchJSON runs plaza bench in-process with --json and decodes its
// report into out; it returns the exit status and stderr.
func runBenchJSON(t *testing.T, out any, args ...string) (int, string) {
	t.Helper()
	res := runInProcess(t, append([]string{"bench", "--json"}, args...)...)
	if res.stdout != "" {
		if err := json.Unmarshal([]byte(res.stdout), out); err != nil {
			t.Fatalf("plaza bench %q: decode the report: %v\n%s", args, err, res.stdout)
		}
	}
	return res.code, res.stderr
}

// TestBenchGroup runs the group fan-out small: every member's device has
// every message.
func TestBenchGroup(t *testing.T) {
	t.Parallel()
	url, data := benchTarget(t)
	var rep struct {
		Members, Devices, Messages, Expected, Received int
		Latency                                        struct{ N int }
		PerMessage                                     []struct{ N int }
		Last                                           struct{ N int }
	}
	code, stderr := runBenchJSON(t, &rep, "--url", url, "--data", data, "--group", "6", "--messages", "3", "--interval", "10ms")
	if code != 0 {
		t.Fatalf("plaza bench --group 6: exit status %d, stderr:\n%s", code, stderr)
	}
	if rep.Members != 6 || rep.Devices != 6 || rep.Messages != 3 || rep.Expected != 18 || rep.Received != 18 || rep.Latency.N != 18 {
		t.Errorf("got members %d, devices %d, messages %d, expected %d, received %d, timed %d; want 6, 6, 3, 18, 18, 18",
			rep.Members, rep.Devices, rep.Messages, rep.Expected, rep.Received, rep.Latency.N)
	}
	if len(rep.PerMessage) != 3 || rep.PerMessage[2].N != 6 || rep.Last.N != 3 {
		t.Errorf("got %d per-message summaries (%+v), last delivery over %d messages; want 3 of 6 deliveries each, over 3", len(rep.PerMessage), rep.PerMessage, rep.Last.N)
	}
}

// TestBenchReconnect runs a small storm: every device gets ready again
// and has exactly the messages sent while it was away.
func TestBenchReconnect(t *testing.T) {
	t.Parallel()
	url, data := benchTarget(t)
	var rep struct {
		Devices, AwayMessages, NotReady      int
		Expected, Received, Lost, Duplicated int
		OutOfOrder                           int
		Ready                                struct{ N int }
		AllReady                             time.Duration
		OK                                   bool `json:"ok"`
	}
	code, stderr := runBenchJSON(t, &rep, "--url", url, "--data", data, "--reconnect", "--devices", "6", "--away", "3")
	if code != 0 || !rep.OK {
		t.Fatalf("plaza bench --reconnect: exit status %d, ok %v, stderr:\n%s", code, rep.OK, stderr)
	}
	if rep.Devices != 6 || rep.AwayMessages != 9 || rep.Expected != 18 || rep.Received != 18 || rep.Ready.N != 6 || rep.AllReady <= 0 {
		t.Errorf("got %+v; want 6 devices, 9 messages away, 18 events expected and received, 6 ready", rep)
	}
}

// TestBenchChannelLastDelivery: the fan-out run times each post to its
// first and last connected follower; without --server-pid it does not
// pass its own CPU off as the server's.
func TestBenchChannelLastDelivery(t *testing.T) {
	t.Parallel()
	url, data := benchTarget(t)
	var rep struct {
		Expected, Received int
		Last, First        struct{ N int }
		ServerCPU          *float64 `json:"server_cpu_ms_per_post"`
	}
	code, stderr := runBenchJSON(t, &rep, "--url", url, "--data", data, "--channel", "--followers", "12", "--devices", "10", "--posts", "2")
	if code != 0 {
		t.Fatalf("plaza bench --channel: exit status %d, stderr:\n%s", code, stderr)
	}
	if rep.Expected != 20 || rep.Received != 20 || rep.Last.N != 2 || rep.First.N != 2 {
		t.Errorf("got expected %d, received %d, first and last delivery over %d and %d posts; want 20, 20, 2, 2", rep.Expected, rep.Received, rep.First.N, rep.Last.N)
	}
	if rep.ServerCPU != nil {
		t.Errorf("server CPU %v ms per post without --server-pid, want none (not measured)", *rep.ServerCPU)
	}
}

func TestBenchModesRefused(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--group", "--reconnect"},
		{"--group", "1"},
		{"--reconnect", "--away", "0"},
		{"--database", "mysql://x"},
		{"--database", "postgres://127.0.0.1/x", "--url", "http://127.0.0.1:1"},
		{"--trace-writer", "30s", "--duration", "10s"},
		{"--trace-writer", "1s", "--group"},
		{"--trace-writer", "1s", "--url", "http://127.0.0.1:1"},
		{"--trace-writer", "10ms"},
		{"--trace-writer", "1s", "--debug-url", "http://127.0.0.1:1"},
		{"--trace-writer", "1s", "--url", "http://127.0.0.1:1", "--debug-url", "127.0.0.1:1"},
		{"--sync-log-runs", "--url", "http://127.0.0.1:1"},
		{"--sync-log-runs=false", "--url", "http://127.0.0.1:1"},
	} {
		if res := runInProcess(t, append([]string{"bench"}, args...)...); res.code != 2 {
			t.Errorf("plaza bench %q: exit status %d, want 2 (stderr %q)", args, res.code, res.stderr)
		}
	}
}

// TestBenchPostgres runs the pairs small against a server that bench
// starts on a fresh PostgreSQL database, and checks the database is gone
// afterwards.
func TestBenchPostgres(t *testing.T) {
	base := os.Getenv(sqldbtest.PostgresEnv)
	if base == "" {
		t.Skipf("%s is not set", sqldbtest.PostgresEnv)
	}
	bin := plazaBinary(t)
	benchServerBinary = func() (string, error) { return bin, nil }
	t.Cleanup(func() { benchServerBinary = os.Executable })
	var rep benchPairsReport
	// Runs off here and on (the default) in TestBenchSearchLag: the
	// server bench starts must take the setting either way.
	code, stderr := runBenchJSON(t, &rep, "--database", base, "--devices", "4", "--duration", "1s", "--warmup", "200ms", "--sync-log-runs=false")
	if code != 0 {
		t.Fatalf("plaza bench --database: exit status %d, stderr:\n%s", code, stderr)
	}
	if rep.Engine != "postgres" || rep.Delivered == 0 || rep.Errors != 0 {
		t.Errorf("got engine %q, delivered %d, errors %d; want postgres, some, 0", rep.Engine, rep.Delivered, rep.Errors)
	}
	if rep.SyncLogRuns == nil || *rep.SyncLogRuns || !strings.Contains(stderr, "--sync-log-runs=false") {
		t.Errorf("sync_log_runs %v, stderr %q: want false, and the setting named", rep.SyncLogRuns, stderr)
	}
	rep.checkSearch(t)
	m := regexp.MustCompile(`fresh database (plaza_bench_[0-9a-f]+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("stderr does not name the fresh database:\n%s", stderr)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM pg_database WHERE datname = $1", m[1]).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after the run", m[1])
	}
}

// benchPairsReport is what the tests read of the pairs' report.
type benchPairsReport struct {
	Engine      string `json:"engine"`
	SyncLogRuns *bool  `json:"sync_log_runs"`
	Delivered   int64
	Errors      int64
	Search      *struct {
		Behind   int64 `json:"behind"`
		CaughtUp bool  `json:"caught_up"`
		Left     int64 `json:"left"`
	} `json:"search"`
}

// checkSearch checks that the report says how far message search trailed
// and that it caught up.
func (r *benchPairsReport) checkSearch(t *testing.T) {
	t.Helper()
	if r.Search == nil {
		t.Fatal("the report has no search figures")
	}
	if !r.Search.CaughtUp || r.Search.Left != 0 || r.Search.Behind < 0 {
		t.Errorf("search %+v: want caught up, none left", *r.Search)
	}
}

// TestBenchSearchLag runs the pairs small on SQLite and checks the report
// says when message search had indexed every message sent.
func TestBenchSearchLag(t *testing.T) {
	bin := plazaBinary(t)
	benchServerBinary = func() (string, error) { return bin, nil }
	t.Cleanup(func() { benchServerBinary = os.Executable })
	var rep benchPairsReport
	code, stderr := runBenchJSON(t, &rep, "--devices", "4", "--duration", "1s", "--warmup", "200ms")
	if code != 0 {
		t.Fatalf("plaza bench: exit status %d, stderr:\n%s", code, stderr)
	}
	if rep.Engine != "sqlite" || rep.Delivered == 0 || rep.Errors != 0 {
		t.Errorf("got engine %q, delivered %d, errors %d; want sqlite, some, 0", rep.Engine, rep.Delivered, rep.Errors)
	}
	if rep.SyncLogRuns == nil || !*rep.SyncLogRuns {
		t.Errorf("sync_log_runs %v, want true (the server's default)", rep.SyncLogRuns)
	}
	rep.checkSearch(t)
}

// benchCalls is what the tests read of a kind of system call.
type benchCalls struct {
	N     int64 `json:"n"`
	Total int64 `json:"total_ns"`
}

// TestBenchTraceWriter runs the pairs small with --trace-writer and checks
// the report: on SQLite with synchronous=FULL every commit syncs the log,
// so the writer's syncs are there, within the time the trace covers.
func TestBenchTraceWriter(t *testing.T) {
	bin := plazaBinary(t)
	benchServerBinary = func() (string, error) { return bin, nil }
	t.Cleanup(func() { benchServerBinary = os.Executable })
	var rep struct {
		Delivered   int64
		WriterTrace *struct {
			Span   int64 `json:"span_ns"`
			Writer struct {
				Observed int64                 `json:"observed_ns"`
				Syscall  int64                 `json:"syscall_ns"`
				Calls    map[string]benchCalls `json:"calls"`
			}
		} `json:"writer_trace"`
	}
	code, stderr := runBenchJSON(t, &rep, "--devices", "4", "--duration", "2s", "--warmup", "200ms", "--trace-writer", "1s", "--search-wait", "0")
	if code != 0 {
		t.Fatalf("plaza bench --trace-writer: exit status %d, stderr:\n%s", code, stderr)
	}
	if rep.WriterTrace == nil {
		t.Fatalf("the report has no writer_trace; stderr:\n%s", stderr)
	}
	tr := rep.WriterTrace
	if w := tr.Writer; w.Observed <= 0 || w.Observed > tr.Span || tr.Span > int64(2*time.Second) {
		t.Errorf("the writer was observed for %d ns of a trace of %d ns, asked for 1 s", w.Observed, tr.Span)
	}
	sync := tr.Writer.Calls["sync"]
	if rep.Delivered > 0 && (sync.N == 0 || sync.Total > tr.Writer.Syscall) {
		t.Errorf("writer's syncs %+v (in system calls %d ns) with %d messages delivered: want some, within its system calls", sync, tr.Writer.Syscall, rep.Delivered)
	}
}
