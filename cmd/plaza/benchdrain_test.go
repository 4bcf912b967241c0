package main

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/bench"
)

// streamsOpen reads plaza_realtime_connections from the server's metrics
// (-1 if it does not answer).
func streamsOpen(tb testing.TB, base string) int {
	tb.Helper()
	res, err := httpClient.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.WriteString(string(buf[:n]))
		if err != nil {
			break
		}
	}
	m := regexp.MustCompile(`(?m)^plaza_realtime_connections (\d+)$`).FindStringSubmatch(b.String())
	if res.StatusCode != http.StatusOK || m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// pollFor polls cond until it holds, failing after exitTimeout.
func pollFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(exitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBenchDevicesReconnectThroughARestart runs the load generator's
// devices while the server restarts: each is closed with 1012 by the
// drain, reconnects to the new process on the same address with
// since=its cursor, and goes on sending; none gives up.
func TestBenchDevicesReconnectThroughARestart(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	flags := []string{"--data", data, "--drain-window", "1s", "--direct-messages", "anyone",
		"--verification-policy", "message.send=none,conversation.create=none,contact.request=none,channel.apply=none,channel.publish=none"}
	srv := startServer(t, flags...)
	ctx := context.Background()
	const devices = 4
	accounts, err := bench.Register(ctx, srv.URL, "drain", devices)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		rep bench.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := bench.Run(ctx, bench.Config{URL: srv.URL, Accounts: accounts, Rate: 40, Duration: 20 * time.Second})
		done <- result{rep, err}
	}()
	pollFor(t, "the devices to connect", func() bool { return streamsOpen(t, srv.URL) == devices })

	srv.terminate(t)
	if code := srv.wait(t, exitTimeout); code != 0 {
		t.Fatalf("after SIGTERM: got exit status %d, want 0; stderr:\n%s", code, srv.logs())
	}
	again := startServer(t, append(flags, "--listen", strings.TrimPrefix(srv.URL, "http://"))...)
	pollFor(t, "the devices to reconnect", func() bool { return streamsOpen(t, again.URL) == devices })

	res := <-done
	if res.err != nil {
		t.Fatalf("bench: %v", res.err)
	}
	rep := res.rep
	if rep.Reconnects < devices || rep.Gone != 0 || rep.Errors != 0 || rep.Acked == 0 {
		t.Errorf("got %d reconnects, %d devices gone, %d errors, %d acked; want at least %d reconnects, none gone, no errors, some acked",
			rep.Reconnects, rep.Gone, rep.Errors, rep.Acked, devices)
	}
}
