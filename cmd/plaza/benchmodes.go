package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plaza-im/plaza/internal/bench"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// defaultValue lets an int flag be given without its value: "--name"
// (or "-name") followed by nothing, or by another flag, becomes
// "--name=value". "--name N" and "--name=N" are left as they are.
func defaultValue(args []string, name, value string) []string {
	out := make([]string, 0, len(args)+1)
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		out = append(out, a)
		if a != "-"+name && a != "--"+name {
			continue
		}
		if i+1 < len(args) {
			if _, err := strconv.Atoi(args[i+1]); err == nil {
				continue
			}
		}
		out[len(out)-1] = a + "=" + value
	}
	return out
}

// createBenchDatabase creates a fresh database on the PostgreSQL server
// at admin (as the tests do), returning its URL and a function that drops
// it.
func createBenchDatabase(ctx context.Context, admin string) (dbURL, name string, drop func(), err error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", "", nil, usageError("--database: %v", err)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", "", nil, fmt.Errorf("--database %s: %w", sqldb.Redact(admin), err)
	}
	defer db.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name = "plaza_bench_" + hex.EncodeToString(b[:])
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(cctx, "CREATE DATABASE "+name); err != nil {
		return "", "", nil, fmt.Errorf("create database %s on %s: %w", name, sqldb.Redact(admin), err)
	}
	drop = func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	u.Path = "/" + name
	return u.String(), name, drop, nil
}

// engineName says which engine a bench run's server used.
func engineName(cfg *Config) string {
	if strings.HasPrefix(cfg.DB, "postgres") {
		return "postgres"
	}
	return "sqlite"
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// benchGroup measures one group's fan-out: n members, every one with a
// device connected, one of them sending.
func benchGroup(ctx context.Context, cfg *Config, base string, n, messages int, interval time.Duration, asJSON bool, stdout io.Writer, progress func(string)) error {
	progress(fmt.Sprintf("creating %d accounts", n))
	accts, err := benchAccounts(ctx, cfg, base, n)
	if err != nil {
		return err
	}
	rep, err := bench.RunGroup(ctx, bench.GroupConfig{URL: base, Sender: accts[0], Members: accts[1:], Messages: messages, Interval: interval, Progress: progress})
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, struct {
			bench.GroupReport
			Engine   string  `json:"engine"`
			Interval float64 `json:"interval_ms"`
		}{rep, engineName(cfg), float64(interval.Microseconds()) / 1000})
	}
	fmt.Fprintf(stdout, "group of %d members, %d devices connected, %d messages %s apart (%s)\n", rep.Members, rep.Devices, rep.Messages, interval, engineName(cfg))
	fmt.Fprintf(stdout, "delivered %d of %d\n", rep.Received, rep.Expected)
	fmt.Fprintf(stdout, "send→delivery, all deliveries: p50 %s  p95 %s  p99 %s  max %s\n", ms(rep.Latency.P50), ms(rep.Latency.P95), ms(rep.Latency.P99), ms(rep.Latency.Max))
	fmt.Fprintf(stdout, "per message, p99 of its %d deliveries: p50 %s  max %s; last delivery: p50 %s  max %s\n", rep.Devices, ms(rep.PerMessageP99.P50), ms(rep.PerMessageP99.Max), ms(rep.Last.P50), ms(rep.Last.Max))
	printReadLag(stdout, rep.ReadLag)
	if rep.Received < rep.Expected {
		return fmt.Errorf("group: %d of %d deliveries did not arrive within 10 s of the last send", rep.Expected-rep.Received, rep.Expected)
	}
	return nil
}

// benchReconnect runs a reconnect storm and fails loudly when any event
// was lost, repeated or out of order.
func benchReconnect(ctx context.Context, cfg *Config, base string, pid, devices, away int, asJSON bool, stdout io.Writer, progress func(string)) error {
	progress(fmt.Sprintf("creating %d accounts", devices))
	accts, err := benchAccounts(ctx, cfg, base, devices)
	if err != nil {
		return err
	}
	// CPU over the storm, by the server and by this generator, to show
	// which of the two the time went to.
	var serverCPU, benchCPU [2]time.Duration
	onMeasure := func(start bool) {
		i := 1
		if start {
			i = 0
		}
		serverCPU[i], benchCPU[i] = bench.ProcessCPU(pid), bench.ProcessCPU(0)
	}
	rep, err := bench.RunReconnect(ctx, bench.ReconnectConfig{URL: base, Accounts: accts, Away: away, Progress: progress, OnMeasure: onMeasure})
	if err != nil {
		return err
	}
	var serverMS, benchMS float64
	if pid > 0 && serverCPU[0] > 0 {
		serverMS = float64((serverCPU[1] - serverCPU[0]).Milliseconds())
	}
	benchMS = float64((benchCPU[1] - benchCPU[0]).Milliseconds())
	if asJSON {
		if err := writeJSON(stdout, struct {
			bench.ReconnectReport
			Engine    string  `json:"engine"`
			OK        bool    `json:"ok"`
			ServerCPU float64 `json:"server_cpu_ms,omitempty"`
			BenchCPU  float64 `json:"bench_cpu_ms"`
		}{rep, engineName(cfg), rep.OK(), serverMS, benchMS}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "reconnect storm: %d devices in %d direct conversations, %d messages posted while away (%s)\n", rep.Devices, rep.Conversations, rep.AwayMessages, engineName(cfg))
		fmt.Fprintf(stdout, "ready after reconnecting: p50 %s  p99 %s  max %s; all ready: %s (not ready: %d, dials retried: %d)\n",
			ms(rep.Ready.P50), ms(rep.Ready.P99), ms(rep.Ready.Max), allReady(rep), rep.NotReady, rep.Retries)
		fmt.Fprintf(stdout, "CPU from the first dial to the last ready: server %.0f ms, load generator %.0f ms\n", serverMS, benchMS)
		fmt.Fprintf(stdout, "events after the cursors: expected %d, received %d, lost %d, duplicated %d, out of order %d\n", rep.Expected, rep.Received, rep.Lost, rep.Duplicated, rep.OutOfOrder)
	}
	if !rep.OK() {
		return fmt.Errorf("reconnect storm FAILED: %d devices not ready, %d events lost, %d duplicated, %d out of order (of %d expected)", rep.NotReady, rep.Lost, rep.Duplicated, rep.OutOfOrder, rep.Expected)
	}
	return nil
}

func allReady(rep bench.ReconnectReport) string {
	if rep.AllReady == 0 {
		return "never"
	}
	return ms(rep.AllReady)
}
