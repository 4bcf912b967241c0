package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// killParams size a run of TestNoAcknowledgedMessageIsLost.
type killParams struct {
	pairs      int // direct conversations, of two accounts each
	perAccount int // senders per account, each with its own client_ids
	kills      int
	// minAcks is how many sends must be acknowledged after a (re)start
	// before the next kill, so that every kill lands in a busy server.
	minAcks            int
	pauseMin, pauseMax time.Duration // then a jittered pause, then SIGKILL
	deadline           time.Duration // for the whole run
}

// killParamsFor returns the short run (go test), or the long one when
// PLAZA_LONG_TESTS=1.
func killParamsFor() (killParams, bool) {
	if os.Getenv("PLAZA_LONG_TESTS") == "1" {
		return killParams{pairs: 8, perAccount: 2, kills: 12, minAcks: 300,
			pauseMin: 200 * time.Millisecond, pauseMax: 1500 * time.Millisecond, deadline: 15 * time.Minute}, true
	}
	return killParams{pairs: 4, perAccount: 1, kills: 3, minAcks: 40,
		pauseMin: 50 * time.Millisecond, pauseMax: 300 * time.Millisecond, deadline: 3 * time.Minute}, false
}

// TestNoAcknowledgedMessageIsLost checks "A message's way" and "Delivery
// semantics" against the real binary with its default durability (SQLite
// with synchronous=FULL): senders post messages while the server is
// SIGKILLed and restarted on the same data several times. A send whose
// outcome is unknown (no answer, or a 5xx) is retried with the same
// client_id once the server is back. Then every acknowledged message must
// be in its conversation's history exactly once with the id and seq of
// its ack, seqs must run 1..N with no gap, no client_id may appear twice,
// and each account's sync log must carry a message.created for every
// message under gap-free cursors: over GET /sync from 0, over the
// WebSocket replay from 0, and on a device that stayed on the stream
// through the kills, reconnecting with since=CURSOR.
//
// It runs on SQLite, and again on PostgreSQL when PLAZA_TEST_POSTGRES is
// set. The short run (3 kills, 8 senders) takes a few seconds. Set
// PLAZA_LONG_TESTS=1 for the long one: 12 kills, 32 senders, more load
// between kills.
func TestNoAcknowledgedMessageIsLost(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testNoAcknowledgedMessageIsLost(t, nil)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testNoAcknowledgedMessageIsLost(t, []string{"--db", sqldbtest.URL(t, sqldb.Postgres)})
	})
}

func testNoAcknowledgedMessageIsLost(t *testing.T, dbArgs []string) {
	p, long := killParamsFor()
	if !long {
		t.Log("short run; set PLAZA_LONG_TESTS=1 for the long one (more kills, more senders)")
	}
	started := time.Now()
	data := t.TempDir()
	args := append([]string{"--data", data, "--direct-messages", "anyone",
		"--verification-policy", "message.send=none,contact.request=none,conversation.create=none"}, dbArgs...)
	srv := startServer(t, args...)

	pairs := make([]convPair, p.pairs)
	for i := range pairs {
		a := register(t, srv.URL, fmt.Sprintf("ka%d", i))
		b := register(t, srv.URL, fmt.Sprintf("kb%d", i))
		pairs[i] = convPair{a: a, b: b, conv: openDirect(t, srv.URL, a, b)}
	}

	ctx, cancel := context.WithTimeout(context.Background(), p.deadline)
	defer cancel()
	run := newKillRun(srv.URL)
	// Senders, and a device of every account following its stream
	// through the kills.
	tr := startTraffic(t, ctx, run, pairs, p.perAccount)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	for k := range p.kills {
		run.waitAcks(t, ctx, p.minAcks)
		pause := p.pauseMin + time.Duration(rng.Int64N(int64(p.pauseMax-p.pauseMin)))
		time.Sleep(pause) // the one deliberate sleep: a jittered moment to kill at
		atKill := run.acks.Load()
		srv.kill(t)
		next := startServer(t, args...)
		run.restarted(next.URL)
		t.Logf("kill %d: SIGKILL after %d acknowledged sends (pause %v); restarted on %s", k+1, atKill, pause.Round(time.Millisecond), next.URL)
		srv = next
	}
	run.waitAcks(t, ctx, p.minAcks)
	tr.stopSending(t, ctx)
	if n := run.serverErrors.Load(); n > 0 {
		t.Fatalf("the server answered %d sends with a 5xx (retried, but it should not fail at all); the first: %s", n, *run.firstServerErr.Load())
	}
	sending := time.Since(started)
	connects := tr.drain(t, ctx, srv.URL)
	watchers := tr.watchers

	// What each conversation must hold: every acknowledged message.
	want, total := tr.want()
	for _, pr := range pairs {
		hist := history(t, srv.URL, pr.a.Token, pr.conv)
		checkHistory(t, pr.conv, hist, want[pr.conv])
		if other := history(t, srv.URL, pr.b.Token, pr.conv); !equalMessages(hist, other) {
			t.Errorf("conversation %s: %s reads %d messages, %s reads %d, or they differ; want the same history", pr.conv, pr.a.Handle, len(hist), pr.b.Handle, len(other))
		}
		byID := make(map[string]messageJSON, len(hist))
		for _, m := range hist {
			byID[m.ID] = m
		}
		for _, u := range []user{pr.a, pr.b} {
			events, cursor := syncAll(t, srv.URL, u.Token, 0)
			checkLog(t, "sync of "+u.Handle, events, 0, byID)
			if head := headCursor(t, srv.URL, u.Token); cursor != head {
				t.Errorf("sync of %s from 0 ends at cursor %d, want the head %d", u.Handle, cursor, head)
			}
			replay, ready := dialStream(t, srv.URL, u.Token, "?since=0").untilReady()
			checkLog(t, "stream replay of "+u.Handle, replay, 0, byID)
			if ready != cursor {
				t.Errorf("stream of %s: ready at cursor %d, want %d as sync", u.Handle, ready, cursor)
			}
			checkLog(t, "live stream of "+u.Handle, watchers[u.ID].frames, 0, byID)
		}
	}
	t.Logf("%s: %d kills, %d senders, %d messages acknowledged in %v (%.0f/s); %d sends had an unknown outcome and were retried: %d had been committed before the kill (200), %d had not (201); %d deliberate resends answered 200; %d stream devices connected %d times in all; checks took %v",
		t.Name(), p.kills, 2*p.pairs*p.perAccount, total, sending.Round(time.Millisecond), float64(total)/sending.Seconds(),
		run.unknown.Load(), run.committed.Load(), run.uncommitted.Load(), run.resends.Load(), len(watchers), connects,
		time.Since(started.Add(sending)).Round(time.Millisecond))
}

// checkHistory checks a conversation's full history against the messages
// acknowledged in it (client_id → message).
func checkHistory(tb testing.TB, conv string, hist []messageJSON, acked map[string]messageJSON) {
	tb.Helper()
	ids := map[string]bool{}
	clients := map[string]bool{}
	for i, m := range hist {
		if m.Seq != int64(i+1) {
			tb.Fatalf("conversation %s: message %d of the history has seq %d, want %d (seqs must be 1..N with no gap or repeat)", conv, i+1, m.Seq, i+1)
		}
		if ids[m.ID] {
			tb.Errorf("conversation %s: message id %s appears twice", conv, m.ID)
		}
		if clients[m.ClientID] {
			tb.Errorf("conversation %s: client_id %s appears twice (seq %d)", conv, m.ClientID, m.Seq)
		}
		ids[m.ID], clients[m.ClientID] = true, true
		if a, ok := acked[m.ClientID]; !ok {
			tb.Errorf("conversation %s: seq %d (client_id %s) was never acknowledged, yet every send was retried until answered", conv, m.Seq, m.ClientID)
		} else if m != a {
			tb.Errorf("conversation %s: history has %+v, the ack said %+v", conv, m, a)
		}
	}
	lost := 0
	for cid, a := range acked {
		if !clients[cid] {
			if lost < 5 {
				tb.Errorf("conversation %s: acknowledged message %s (seq %d, client_id %s) is missing from the history", conv, a.ID, a.Seq, cid)
			}
			lost++
		}
	}
	if lost > 0 {
		tb.Errorf("conversation %s: %d of %d acknowledged messages lost", conv, lost, len(acked))
	}
}

func equalMessages(a, b []messageJSON) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// kill sends SIGKILL, as a power cut or the OOM killer would, and waits
// for the process to be gone.
func (s *server) kill(tb testing.TB) {
	tb.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatalf("send SIGKILL: %v", err)
	}
	if code := s.wait(tb, exitTimeout); code != -1 {
		tb.Fatalf("after SIGKILL plaza exited with %d, want -1 (killed by a signal)", code)
	}
}
