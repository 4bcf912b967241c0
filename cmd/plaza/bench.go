package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/bench"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/sqldb"
)

const benchUsage = `Usage: plaza bench [flags]

Starts a server of its own in a temp dir (or targets --url), connects
--devices WebSocket clients paired into direct conversations, has them send
at --rate messages/s in total (0: as fast as acks come back), and reports
sent/acked/delivered counts, throughput, end-to-end latency percentiles and
the server's memory per connection. With --idle the devices only connect.

Against a running server (--url), start it with
  --rate-limits off --direct-messages anyone
  --verification-policy message.send=none,conversation.create=none,contact.request=none
(with --channel add ,channel.apply=none,channel.publish=none to the policy)
and give --data (or --db) so accounts can be created directly; otherwise
they are registered through the API, which costs one password hash each.

Other measurements instead of the pairs:
  --group [N]    one group of N members (500 if N is left out), every
                 member's device connected; one member sends --messages
                 messages --interval apart; send→delivery at all N devices
  --reconnect    --devices connect and send, all sockets drop at once,
                 --away messages per conversation are posted meanwhile,
                 and every device reconnects at once with since=its cursor:
                 time until all are ready, and every missed event checked
                 to arrive once and in order (exit status 1 if not)
  --channel      a public account's fan-out (see --followers, --posts)
With --database postgres://… the server bench starts uses a fresh database
on that PostgreSQL server, dropped after the run.
`

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plaza bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	url := fs.String("url", "", "base `URL` of a running server (default: start one)")
	cfg := DefaultConfig()
	cfg.Data, cfg.DB = "", ""
	fs.StringVar(&cfg.Data, "data", "", "data `dir` of the target server, for the account fast path")
	fs.StringVar(&cfg.DB, "db", "", "database `url` of the target server, for the account fast path")
	devices := fs.Int("devices", 1000, "WebSocket clients (an even number: two per conversation)")
	rate := fs.Float64("rate", 0, "total messages per second; 0 sends as fast as acks come back")
	window := fs.Int("window", 8, "sends in flight per device when --rate is 0")
	duration := fs.Duration("duration", 20*time.Second, "measured time")
	warmup := fs.Duration("warmup", 5*time.Second, "time before measuring")
	idle := fs.Bool("idle", false, "connect the devices and send nothing (memory per connection)")
	pid := fs.Int("server-pid", 0, "`pid` of the target server, to report its memory (with --url)")
	sync := fs.String("sqlite-synchronous", "FULL", "for the server bench starts: FULL or NORMAL")
	runs := fs.Bool("sync-log-runs", true, "for the server bench starts: serve with --sync-log-runs, as plaza serve does by default (false: one sync log row per member and message)")
	bus := fs.String("bus", "local", "for the server bench starts: local or nats://…")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	chanMode := fs.Bool("channel", false, "measure a public account's fan-out instead: --followers follow it, --devices of them connect, the owner publishes --posts posts")
	followers := fs.Int("followers", 100_000, "with --channel: followers of the channel")
	posts := fs.Int("posts", 5, "with --channel: posts to publish")
	serverCPUs := fs.String("server-cpus", "", "pin the server (the one bench starts, or --server-pid) to these `CPUs`, e.g. 0 or 0-1")
	benchCPUs := fs.String("bench-cpus", "", "pin the load generator to these `CPUs`, e.g. 1")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile to `file` (for `go tool pprof`)")
	group := fs.Int("group", 0, "measure one group of `N` members instead (--group alone: 500)")
	messages := fs.Int("messages", 20, "with --group: messages to send")
	interval := fs.Duration("interval", 200*time.Millisecond, "with --group: time between messages")
	reconnect := fs.Bool("reconnect", false, "measure a reconnect storm of --devices instead")
	away := fs.Int("away", 2, "with --reconnect: messages per conversation posted while the devices are away")
	searchWait := fs.Duration("search-wait", 2*time.Minute, "after sending, wait up to this long for message search to index every message sent, and report when it did (0: do not wait)")
	traceFor := fs.Duration("trace-writer", 0, "record a runtime trace of the server for this long (at least 100ms) in the middle of the measured time, and report how its single writer spent it and, on SQLite, how long its syncs to disk took (needs the server's profiler: the one bench starts has it; with --url give --debug-url)")
	debugURL := fs.String("debug-url", "", "with --url and --trace-writer: base `URL` of the server's --debug-listen, e.g. http://127.0.0.1:6061")
	database := fs.String("database", "", "for the server bench starts: a PostgreSQL server `URL` (postgres://…) to create a fresh database on, dropped after the run")
	if err := parse(fs, defaultValue(args, "group", "500")); err != nil {
		return usageError("%w", err)
	}
	modes := 0
	for _, on := range []bool{*chanMode, *group != 0, *reconnect, *idle} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return usageError("--channel, --group, --reconnect and --idle are different measurements: give one")
	}
	if *group != 0 && (*group < 2 || *messages < 1 || *interval < 0) {
		return usageError("--group must be at least 2 (the sender and one more), --messages at least 1 and --interval not negative")
	}
	if *reconnect && *away < 1 {
		return usageError("--away must be at least 1")
	}
	if *database != "" && (*url != "" || !strings.HasPrefix(*database, "postgres://") && !strings.HasPrefix(*database, "postgresql://")) {
		return usageError("--database must be a postgres:// URL, for the server bench starts (with --url, give the server's --db instead)")
	}
	if *traceFor != 0 && (*traceFor < 100*time.Millisecond || *traceFor > *duration || modes > 0) {
		return usageError("--trace-writer must be 100ms to --duration, and goes with the direct pairs only (not --channel, --group, --reconnect or --idle)")
	}
	if given(fs, "sync-log-runs") && *url != "" {
		return usageError("--sync-log-runs (or PLAZA_SYNC_LOG_RUNS) is for the server bench starts (with --url, start that server with the setting you want)")
	}
	if *traceFor > 0 && *url != "" && *debugURL == "" {
		return usageError("--trace-writer with --url needs --debug-url, the server's --debug-listen address")
	}
	if *debugURL != "" {
		if *url == "" || *traceFor == 0 {
			return usageError("--debug-url goes with --url and --trace-writer")
		}
		u, err := neturl.Parse(*debugURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageError("--debug-url must be an http:// URL, the server's --debug-listen address")
		}
		// The address the server logs ends in /debug/pprof/.
		*debugURL = strings.TrimRight(strings.TrimSuffix(strings.TrimRight(*debugURL, "/"), "/debug/pprof"), "/")
	}
	if !*chanMode && (*devices < 2 || *devices%2 != 0) {
		return usageError("--devices must be an even number, at least 2")
	}
	if *chanMode && (*followers < *devices || *devices < 1 || *posts < 1) {
		return usageError("with --channel, --devices must be 1–--followers and --posts at least 1")
	}
	// Progress comes from the run and from the trace's goroutine.
	progressOut := &lockedWriter{w: stderr}
	progress := func(s string) { fmt.Fprintf(progressOut, "bench: %s\n", s) }
	if *cpuProfile != "" {
		// The generator's own profile, to keep it lean: it shares the
		// machine with the server it measures.
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var pinServer []int
	if *serverCPUs != "" {
		var err error
		if pinServer, err = parseCPUs(*serverCPUs); err != nil {
			return usageError("--server-cpus: %v", err)
		}
	}
	if *benchCPUs != "" {
		cpus, err := parseCPUs(*benchCPUs)
		if err != nil {
			return usageError("--bench-cpus: %v", err)
		}
		if err := pin(0, cpus); err != nil {
			return err
		}
	}

	base, serverPID := *url, *pid
	if base == "" {
		dir, err := os.MkdirTemp("", "plaza-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.Data = dir
		if *database != "" {
			db, name, drop, err := createBenchDatabase(ctx, *database)
			if err != nil {
				return err
			}
			defer drop() // after the server stops (deferred below)
			cfg.DB = db
			progress(fmt.Sprintf("the server uses a fresh database %s on %s, dropped after the run", name, sqldb.Redact(*database)))
		}
		// Given either way: the server would otherwise take
		// PLAZA_SYNC_LOG_RUNS from this process's environment.
		extra := []string{"--sync-log-runs=" + strconv.FormatBool(*runs)}
		if !*runs {
			progress("the server stores one sync log row per member and message (--sync-log-runs=false)")
		}
		srv, err := startBenchServer(ctx, dir, cfg.DB, *sync, *bus, *traceFor > 0, stderr, extra...)
		if err != nil {
			return err
		}
		defer srv.stop()
		base, serverPID = srv.url, srv.cmd.Process.Pid
		if *traceFor > 0 {
			*debugURL = srv.debugURL
		}
	}
	if pinServer != nil {
		if serverPID <= 0 {
			return usageError("--server-cpus needs the server's --server-pid with --url")
		}
		if err := pin(serverPID, pinServer); err != nil {
			return err
		}
	}

	switch {
	case *group != 0:
		return benchGroup(ctx, &cfg, base, *group, *messages, *interval, *asJSON, stdout, progress)
	case *reconnect:
		return benchReconnect(ctx, &cfg, base, serverPID, *devices, *away, *asJSON, stdout, progress)
	}
	if *chanMode {
		return benchChannel(ctx, &cfg, base, serverPID, *followers, *devices, *posts, *asJSON, stdout, progress)
	}
	progress(fmt.Sprintf("creating %d accounts", *devices))
	accts, err := benchAccounts(ctx, &cfg, base, *devices)
	if err != nil {
		return err
	}
	rssBefore := rssKiB(serverPID)
	var rssAfter int64
	// CPU used over exactly the measured time, by the server and by this
	// load generator: the figure that noise on a shared machine
	// disturbs least, and the check that the generator is not the limit.
	var serverCPU, benchCPU [2]time.Duration
	var traced <-chan traceResult
	bcfg := bench.Config{URL: base, Accounts: accts, Rate: *rate, Window: *window, Warmup: *warmup, Duration: *duration, Idle: *idle, Progress: progress,
		OnMeasure: func(start bool) {
			i := 1
			if start {
				i = 0
				if *traceFor > 0 {
					traced = recordTrace(ctx, *debugURL, (*duration-*traceFor)/2, *traceFor, progress)
				}
			}
			serverCPU[i], benchCPU[i] = bench.ProcessCPU(serverPID), bench.ProcessCPU(0)
		}}
	if *idle {
		// Sample memory once every device is connected and idle.
		bcfg.Progress = func(s string) {
			progress(s)
			if strings.HasPrefix(s, "all devices connected") {
				time.Sleep(2 * time.Second)
				rssAfter = rssKiB(serverPID)
			}
		}
	}
	rep, err := bench.Run(ctx, bcfg)
	if err != nil {
		return err
	}
	ended := time.Now()
	if !*idle {
		rssAfter = rssKiB(serverPID)
	}
	var lag *searchLag
	switch {
	case *idle || *searchWait <= 0:
	case cfg.Data == "" && cfg.DB == "":
		progress("message search's lag is not measured: give the server's --data or --db")
	default:
		if lag, err = waitForSearch(ctx, &cfg, ended, *searchWait, progress); err != nil {
			return err
		}
	}
	var wt *writerTrace
	if traced != nil {
		// Read after the run and the search's catching up, so that the
		// analysis takes no core from what they measure. A trace that
		// failed costs its own lines, not the run's report.
		res := <-traced
		if err := res.err; err != nil {
			progress(fmt.Sprintf("--trace-writer: %v", err))
		} else if wt, err = analyzeWriterTrace(res.data); err != nil {
			progress(fmt.Sprintf("--trace-writer: %v", err))
		}
	}
	out := struct {
		bench.Report
		Rate              float64      `json:"rate"`
		ServerRSSBefore   int64        `json:"server_rss_kib_before"`
		ServerRSSAfter    int64        `json:"server_rss_kib_after"`
		RSSPerDeviceKiB   float64      `json:"server_rss_kib_per_device"`
		SQLiteSynchronous string       `json:"sqlite_synchronous"`
		SyncLogRuns       *bool        `json:"sync_log_runs,omitempty"` // nil with --url: that server's setting is not known
		Engine            string       `json:"engine"`
		ServerCPUPerMsg   float64      `json:"server_cpu_us_per_msg,omitempty"`
		BenchCPUPerMsg    float64      `json:"bench_cpu_us_per_msg,omitempty"`
		Search            *searchLag   `json:"search,omitempty"`
		WriterTrace       *writerTrace `json:"writer_trace,omitempty"`
	}{Report: rep, Rate: *rate, ServerRSSBefore: rssBefore, ServerRSSAfter: rssAfter, SQLiteSynchronous: *sync, Engine: engineName(&cfg), Search: lag, WriterTrace: wt}
	if *url == "" {
		out.SyncLogRuns = runs
	}
	if rep.Delivered > 0 {
		if serverPID > 0 && serverCPU[0] > 0 {
			out.ServerCPUPerMsg = float64((serverCPU[1] - serverCPU[0]).Microseconds()) / float64(rep.Delivered)
		}
		out.BenchCPUPerMsg = float64((benchCPU[1] - benchCPU[0]).Microseconds()) / float64(rep.Delivered)
	}
	if rssBefore > 0 && rssAfter > 0 {
		out.RSSPerDeviceKiB = float64(rssAfter-rssBefore) / float64(rep.Devices)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "devices %d in %d direct conversations", rep.Devices, rep.Conversations)
	if *rate > 0 {
		fmt.Fprintf(stdout, ", target %.0f msg/s\n", *rate)
	} else {
		fmt.Fprintf(stdout, ", as fast as acked (window %d)\n", *window)
	}
	if !*idle {
		fmt.Fprintf(stdout, "measured %.1fs: sent %d, acked %d, delivered %d, errors %d\n", rep.Duration.Seconds(), rep.Sent, rep.Acked, rep.Delivered, rep.Errors)
		if rep.Reconnects > 0 || rep.Gone > 0 {
			fmt.Fprintf(stdout, "reconnects %d (since=cursor, unacknowledged sends resent by client_id); devices whose session ended %d\n", rep.Reconnects, rep.Gone)
		}
		fmt.Fprintf(stdout, "throughput: %.0f msg/s acked (persisted), %.0f msg/s delivered\n", rep.AckedPerSec, rep.DeliveredPerS)
		fmt.Fprintf(stdout, "end-to-end latency: p50 %s  p95 %s  p99 %s  max %s  (n=%d)\n", ms(rep.E2E.P50), ms(rep.E2E.P95), ms(rep.E2E.P99), ms(rep.E2E.Max), rep.E2E.N)
		fmt.Fprintf(stdout, "ack latency:        p50 %s  p95 %s  p99 %s  max %s\n", ms(rep.Ack.P50), ms(rep.Ack.P95), ms(rep.Ack.P99), ms(rep.Ack.Max))
		printReadLag(stdout, rep.ReadLag)
		if out.ServerCPUPerMsg > 0 {
			fmt.Fprintf(stdout, "CPU per delivered message: server %.0f µs, load generator %.0f µs\n", out.ServerCPUPerMsg, out.BenchCPUPerMsg)
		} else if out.BenchCPUPerMsg > 0 {
			fmt.Fprintf(stdout, "CPU per delivered message: load generator %.0f µs (give --server-pid for the server's)\n", out.BenchCPUPerMsg)
		}
	}
	if wt != nil {
		wt.print(stdout)
	}
	if lag != nil {
		if lag.CaughtUp {
			fmt.Fprintf(stdout, "message search: %d messages not yet indexed when the run ended, all indexed %.1fs later\n", lag.Behind, lag.After.Seconds())
		} else {
			fmt.Fprintf(stdout, "message search: %d messages not yet indexed when the run ended, %d still not after %s\n", lag.Behind, lag.Left, lag.After)
		}
	}
	if rssAfter > 0 {
		fmt.Fprintf(stdout, "server RSS: %.1f MiB before devices, %.1f MiB after: %.1f KiB per device\n", float64(rssBefore)/1024, float64(rssAfter)/1024, out.RSSPerDeviceKiB)
	}
	return nil
}

// searchLag is how far message search trailed sending: the search
// indexer runs behind the writer and, on SQLite, gives way to queued
// sends, so at full load the index falls behind and catches up after.
type searchLag struct {
	Behind   int64         `json:"behind"`    // messages above the indexer's head just after the run ended
	CaughtUp bool          `json:"caught_up"` // whether it reached the last message within --search-wait
	After    time.Duration `json:"after_ns"`  // how long after the run ended it did (or the wait, if not)
	Left     int64         `json:"left"`      // messages still not indexed when the wait ended
}

// waitForSearch measures searchLag, from ended (when the run ended), by
// reading the indexer's head (message_search_state) and the newest
// message from the server's database. It looks at the head alone: on
// PostgreSQL with several nodes a message may commit below the head and be
// indexed later (chat/searchindex.go), which this does not see.
func waitForSearch(ctx context.Context, cfg *Config, ended time.Time, wait time.Duration, progress func(string)) (*searchLag, error) {
	db, err := openDB(ctx, cfg, newLogger(io.Discard, "json", "error"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// The indexer skips recalled messages, so its head stops at the
	// newest message that is not.
	var last int64
	if err := db.Read().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM messages WHERE recalled = false`).Scan(&last); err != nil {
		return nil, fmt.Errorf("newest message: %w", err)
	}
	behind := func() (int64, error) {
		var n int64
		err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM messages
			WHERE id > (SELECT head FROM message_search_state WHERE id = 1) AND id <= $1 AND recalled = false`, last).Scan(&n)
		return n, err
	}
	lag := &searchLag{}
	if lag.Behind, err = behind(); err != nil {
		return nil, fmt.Errorf("search index position: %w", err)
	}
	if lag.Behind > 0 {
		progress(fmt.Sprintf("waiting up to %s for message search to index %d messages", wait, lag.Behind))
	}
	for head := int64(0); lag.Behind > 0 && head < last && time.Since(ended) < wait; {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if err := db.Read().QueryRowContext(ctx, `SELECT head FROM message_search_state WHERE id = 1`).Scan(&head); err != nil {
			return nil, fmt.Errorf("search index position: %w", err)
		}
	}
	if lag.Left, err = behind(); err != nil {
		return nil, fmt.Errorf("search index position: %w", err)
	}
	lag.CaughtUp, lag.After = lag.Left == 0, time.Since(ended)
	return lag, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// benchChannel sets up a channel with followers directly in the database
// (the operator's fast path), then measures its fan-out through the server.
func benchChannel(ctx context.Context, cfg *Config, base string, pid, followers, devices, posts int, asJSON bool, stdout io.Writer, progress func(string)) error {
	if cfg.Data == "" && cfg.DB == "" {
		return usageError("--channel needs the server's --data or --db (or no --url, to start one)")
	}
	db, err := openDB(ctx, cfg, newLogger(io.Discard, "json", "error"))
	if err != nil {
		return err
	}
	defer db.Close()
	accounts := account.NewService(db, account.DefaultConfig())
	if err := accounts.SeedTerms(ctx); err != nil {
		return err
	}
	progress(fmt.Sprintf("creating the owner and %d followers", followers))
	made, err := accounts.CreateBulk(ctx, fmt.Sprintf("c%d_", time.Now().Unix()%100000), followers+1, "bench-password")
	if err != nil {
		return err
	}
	ic := identity.DefaultConfig()
	ic.Policy = identity.Policy{} // the bench process only sets up; the server enforces its own policy
	log := newLogger(io.Discard, "json", "error")
	local := bus.NewLocal("bench-setup")
	defer local.Close()
	chans := channel.NewService(db, local, identity.NewService(db, nil, nil, ic), nil, channel.DefaultConfig(), log)
	owner := made[0]
	app, err := chans.Apply(ctx, owner.ID, channel.ApplicationInput{Handle: fmt.Sprintf("bench%d", time.Now().Unix()%100000), Name: "Bench", Kind: channel.ServiceKind})
	if err != nil {
		return err
	}
	if app, err = chans.DecideApplication(ctx, audit.CLI, app.ID, true, "load test"); err != nil {
		return err
	}
	limit := 10000
	if _, err := chans.SetLimits(ctx, audit.CLI, *app.ChannelID, &limit, &limit); err != nil {
		return err
	}
	if _, err := chans.SetCategory(ctx, audit.CLI, "bench", channel.PolicyOpen, "load tests"); err != nil {
		return err
	}
	ids := make([]plaza.ID, followers)
	for i := range ids {
		ids[i] = made[i+1].ID
	}
	progress(fmt.Sprintf("%d accounts follow the channel", followers))
	if err := chans.FollowBulk(ctx, *app.ChannelID, ids); err != nil {
		return err
	}
	devs := make([]bench.Account, devices)
	for i := range devs {
		devs[i] = bench.Account{ID: made[i+1].ID.String(), Token: made[i+1].Token}
	}
	rssBefore := rssKiB(pid)
	rep, err := bench.RunChannel(ctx, bench.ChannelConfig{URL: base, OwnerToken: owner.Token, ChannelID: app.ChannelID.String(), Devices: devs, Posts: posts, Progress: progress,
		CPU: func() (server, generator time.Duration) {
			if pid > 0 { // else the server's CPU is unknown, not this process's
				server = bench.ProcessCPU(pid)
			}
			return server, bench.ProcessCPU(0)
		}})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			bench.ChannelReport
			Followers int   `json:"followers"`
			RSSBefore int64 `json:"server_rss_kib_before"`
		}{rep, followers, rssBefore})
	}
	fmt.Fprintf(stdout, "channel with %d followers, %d connected, %d posts\n", followers, rep.Devices, rep.Posts)
	fmt.Fprintf(stdout, "delivered %d of %d; within 1 s of the publish call returning: %.1f%%\n", rep.Received, rep.Expected, 100*rep.WithinOneSecond)
	fmt.Fprintf(stdout, "delivery after publish: p50 %s  p95 %s  p99 %s  max %s\n", ms(rep.Latency.P50), ms(rep.Latency.P95), ms(rep.Latency.P99), ms(rep.Latency.Max))
	fmt.Fprintf(stdout, "publish call: p50 %s  max %s\n", ms(rep.PublishCall.P50), ms(rep.PublishCall.Max))
	fmt.Fprintf(stdout, "publish → last connected follower's delivery, per post: p50 %s  max %s  (%d posts)\n", ms(rep.Last.P50), ms(rep.Last.Max), rep.Last.N)
	fmt.Fprintf(stdout, "publish → first follower's delivery, per post: p50 %s  max %s\n", ms(rep.First.P50), ms(rep.First.Max))
	if rep.ServerCPUMS > 0 {
		fmt.Fprintf(stdout, "CPU per post, publish call → last delivery: server %.1fms, load generator %.1fms\n", rep.ServerCPUMS, rep.GeneratorCPUMS)
	} else {
		fmt.Fprintf(stdout, "CPU per post, publish call → last delivery: load generator %.1fms (the server's needs --server-pid)\n", rep.GeneratorCPUMS)
	}
	printReadLag(stdout, rep.ReadLag)
	return nil
}

// printReadLag prints the load generator's own wait between a frame's
// arrival at a device's socket, when it counts as delivered, and its
// reading; nothing where arrivals are not stamped.
func printReadLag(stdout io.Writer, lag bench.Percentiles) {
	if lag.N == 0 || lag.Max == 0 {
		return
	}
	fmt.Fprintf(stdout, "load generator's read lag (arrival at the socket → read), not in the figures above: p50 %s  p99 %s  max %s\n", ms(lag.P50), ms(lag.P99), ms(lag.Max))
}

// benchAccounts creates the accounts: directly in the database when bench
// knows it (one password hash for all), else through the API.
func benchAccounts(ctx context.Context, cfg *Config, base string, n int) ([]bench.Account, error) {
	if cfg.Data == "" && cfg.DB == "" {
		return bench.Register(ctx, base, fmt.Sprintf("b%d_", time.Now().Unix()%100000), n)
	}
	if cfg.Data == "" {
		cfg.Data = "."
	}
	db, err := openDB(ctx, cfg, newLogger(io.Discard, "json", "error"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	svc := account.NewService(db, account.DefaultConfig())
	if err := svc.SeedTerms(ctx); err != nil {
		return nil, err
	}
	made, err := svc.CreateBulk(ctx, fmt.Sprintf("b%d_", time.Now().Unix()%100000), n, "bench-password")
	if err != nil {
		return nil, err
	}
	out := make([]bench.Account, len(made))
	for i, a := range made {
		out[i] = bench.Account{ID: a.ID.String(), Token: a.Token}
	}
	return out, nil
}

type benchServer struct {
	cmd      *exec.Cmd
	url      string
	debugURL string // of its profiler, if started with one
	done     chan struct{}
}

func (s *benchServer) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// benchServerBinary names the plaza binary that serves for bench: this
// one, except in tests, which run bench from a test binary.
var benchServerBinary = os.Executable

// startBenchServer runs `plaza serve` as a child process, so its memory
// is measured apart from the load generator's.
// With debug it also serves Go's profiler, on a port of its own.
// extra are more flags for serve.
func startBenchServer(ctx context.Context, dir, db, sync, bus string, debug bool, stderr io.Writer, extra ...string) (*benchServer, error) {
	self, err := benchServerBinary()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--data", dir, "--listen", "127.0.0.1:0", "--rate-limits", "off",
		"--direct-messages", "anyone", "--verification-policy", "message.send=none,conversation.create=none,contact.request=none,channel.apply=none,channel.publish=none",
		"--sqlite-synchronous", sync, "--bus", bus, "--bus-prefix", "bench" + strconv.Itoa(os.Getpid()), "--log-format", "json"}
	if db != "" {
		args = append(args, "--db", db)
	}
	if debug {
		args = append(args, "--debug-listen", "127.0.0.1:0")
	}
	args = append(args, extra...)
	cmd := exec.Command(self, args...)
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &benchServer{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	addr, debugAddr := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			// The profiler starts before the API serves.
			if strings.HasPrefix(rec.Msg, "profiler listening") {
				select {
				case debugAddr <- strings.TrimSuffix(rec.Addr, "/debug/pprof/"):
				default:
				}
			}
			if rec.Msg == "plaza serving" {
				select {
				case addr <- rec.Addr:
				default:
				}
			}
		}
		// A line longer than the scanner takes ends the scan: the rest
		// is still read, or the server would block writing its log.
		_, _ = io.Copy(logf, pr)
		logf.Close()
	}()
	select {
	case a := <-addr:
		s.url = a
		if debug {
			select {
			case s.debugURL = <-debugAddr:
			default:
				s.stop()
				return nil, fmt.Errorf("the bench server did not say where its profiler listens")
			}
		}
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("the bench server exited at start; see its log")
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, fmt.Errorf("the bench server did not start within 30 s")
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
}

// rssKiB returns a process's resident memory in KiB, 0 if unknown.
func rssKiB(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
