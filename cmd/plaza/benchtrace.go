package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/plaza-im/plaza/internal/bench"
)

// The goroutines --trace-writer reports on: the chat service's single
// writer, which commits every send, and SQLite's background checkpointer.
var traceRoles = []bench.Role{
	{Name: "writer", Func: "/internal/chat.(*writer).run"},
	{Name: "checkpointer", Func: "/internal/sqldb.(*checkpointer).run"},
}

// maxTraceBytes bounds the trace bench holds in memory and reads back: a
// second of the server at full load is a few MB, so this is minutes.
const maxTraceBytes = 256 << 20

type traceResult struct {
	data []byte
	err  error
}

// recordTrace asks the server's profiler at debugURL for a runtime trace
// of length d, starting after wait, and delivers it when done.
func recordTrace(ctx context.Context, debugURL string, wait, d time.Duration, progress func(string)) <-chan traceResult {
	out := make(chan traceResult, 1)
	go func() {
		data, err := fetchTrace(ctx, debugURL, wait, d, progress)
		out <- traceResult{data, err}
	}()
	return out
}

func fetchTrace(ctx context.Context, debugURL string, wait, d time.Duration, progress func(string)) ([]byte, error) {
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	progress(fmt.Sprintf("tracing the server for %s", d))
	// The profiler answers after d; a server that stalls must not hold
	// the bench for ever.
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	u := debugURL + "/debug/pprof/trace?seconds=" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("%s: %s: %s", u, resp.Status, bytes.TrimSpace(msg))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxTraceBytes+1))
	if err == nil && len(data) > maxTraceBytes {
		err = fmt.Errorf("the trace is over %d MB: trace for less time", maxTraceBytes>>20)
	}
	return data, err
}

// writerTrace is what --trace-writer reports.
type writerTrace struct {
	Span         time.Duration `json:"span_ns"` // what the trace covers
	Writer       *bench.GoTime `json:"writer"`
	Checkpointer *bench.GoTime `json:"checkpointer,omitempty"`
}

func analyzeWriterTrace(data []byte) (*writerTrace, error) {
	got, span, err := bench.AnalyzeTrace(bytes.NewReader(data), traceRoles, bench.SQLiteCalls)
	if err != nil {
		return nil, err
	}
	if got["writer"] == nil {
		return nil, fmt.Errorf("no chat writer in the server's trace")
	}
	return &writerTrace{Span: span, Writer: got["writer"], Checkpointer: got["checkpointer"]}, nil
}

func (w *writerTrace) print(out io.Writer) {
	g := w.Writer
	fmt.Fprintf(out, "writer, %.1fs of a %.1fs trace: running %s, in system calls %s, waiting to run %s, idle %s\n",
		g.Observed.Seconds(), w.Span.Seconds(), share(g, g.Running), share(g, g.Syscall), share(g, g.Runnable), share(g, g.Waiting))
	printCalls(out, "writer", g)
	if c := w.Checkpointer; c != nil {
		printCalls(out, "checkpointer", c)
	}
}

func printCalls(out io.Writer, who string, g *bench.GoTime) {
	for _, k := range bench.SQLiteCalls {
		c := g.Calls[k.Name]
		if c == nil {
			continue
		}
		fmt.Fprintf(out, "%s's %ss: %d, %s of its time: p50 %s  p95 %s  p99 %s  max %s\n", who, k.Name, c.N,
			share(g, c.Total), short(c.Dist.P50), short(c.Dist.P95), short(c.Dist.P99), short(c.Dist.Max))
	}
}

// share prints d as a percentage of g's observed time.
func share(g *bench.GoTime, d time.Duration) string { return fmt.Sprintf("%.0f%%", 100*g.Share(d)) }

// short prints d in µs below a millisecond, where ms would print 0.0ms
// for a write of a page.
func short(d time.Duration) string {
	if d < time.Millisecond {
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	}
	return ms(d)
}

// lockedWriter serialises writes to w, for output that several goroutines
// write a line at a time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
