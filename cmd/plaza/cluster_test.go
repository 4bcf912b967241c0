package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// natsEnv names the environment variable with the NATS server the
// cluster tests share (each test uses its own subject prefix).
const natsEnv = "PLAZA_TEST_NATS"

// twoNodes is a cluster of two plaza nodes on one PostgreSQL database and
// one NATS server, each with its own data dir and the same identity key,
// with Alice registered on node A and Bob on node B: phones verified,
// contacts, and their direct conversation open.
type twoNodes struct {
	a, b       *server
	alice, bob user
	conv       string
	db         string // the database's URL
}

// startTwoNodes starts the cluster, or skips the test unless both
// PLAZA_TEST_POSTGRES and PLAZA_TEST_NATS are set; extra flags go to
// both nodes.
func startTwoNodes(t *testing.T, extra ...string) twoNodes {
	t.Helper()
	natsURL := os.Getenv(natsEnv)
	if os.Getenv(sqldbtest.PostgresEnv) == "" || natsURL == "" {
		t.Skipf("set %s=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable and %s=nats://127.0.0.1:4222 to run two nodes on PostgreSQL and NATS", sqldbtest.PostgresEnv, natsEnv)
	}
	dbURL := sqldbtest.URL(t, sqldb.Postgres)
	prefix := "plazatest" + randomHex(t, 6)
	keyFile := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(keyFile, []byte(randomHex(t, 32)+"\n"), 0o600); err != nil {
		t.Fatalf("write the key file: %v", err)
	}
	node := func() (*server, string) {
		data := t.TempDir()
		args := append([]string{"--data", data, "--db", dbURL, "--bus", natsURL, "--bus-prefix", prefix, "--secret-key-file", keyFile}, extra...)
		return startServer(t, args...), data
	}
	a, dataA := node()
	b, dataB := node()

	c := twoNodes{a: a, b: b, alice: register(t, a.URL, "alice"), bob: register(t, b.URL, "bob"), db: dbURL}
	verifyPhone(t, a.URL, dataA, c.alice)
	verifyPhone(t, b.URL, dataB, c.bob)
	befriend(t, a.URL, c.alice, b.URL, c.bob)
	c.conv = openDirect(t, a.URL, c.alice, c.bob)
	return c
}

// checkSameEverywhere checks that both nodes serve the conversation's
// history as want, to both members, and the same sync log.
func (c twoNodes) checkSameEverywhere(t *testing.T, want []messageJSON) {
	t.Helper()
	byID := map[string]messageJSON{}
	for _, m := range want {
		byID[m.ID] = m
	}
	for _, r := range []struct {
		who, url string
		u        user
	}{{"Alice on A", c.a.URL, c.alice}, {"Alice on B", c.b.URL, c.alice}, {"Bob on A", c.a.URL, c.bob}, {"Bob on B", c.b.URL, c.bob}} {
		if got := history(t, r.url, r.u.Token, c.conv); !equalMessages(got, want) {
			t.Errorf("history read by %s: got %+v, want %+v", r.who, got, want)
		}
	}
	for _, u := range []user{c.alice, c.bob} {
		onA, curA := syncAll(t, c.a.URL, u.Token, 0)
		onB, curB := syncAll(t, c.b.URL, u.Token, 0)
		if curA != curB || !equalFrames(onA, onB) {
			t.Errorf("sync of %s from 0: node A gives %d events up to %d, node B %d up to %d, or they differ; want the same", u.Handle, len(onA), curA, len(onB), curB)
		}
		checkLog(t, "sync of "+u.Handle, onA, 0, byID)
	}
}

// TestTwoNodesDeliverAcrossNATS checks "Scale-out": Alice lives on node
// A and Bob on node B; they verify their phones and become contacts
// across the nodes; a message Alice posts on A reaches Bob's WebSocket on
// B, a message Bob sends over his WebSocket on B reaches Alice's on A,
// and both nodes then serve the same history and the same sync log.
func TestTwoNodesDeliverAcrossNATS(t *testing.T) {
	t.Parallel()
	c := startTwoNodes(t)
	alice, bob, conv := c.alice, c.bob, c.conv

	bobWS := dialStream(t, c.b.URL, bob.Token, "")
	_, bobReady := bobWS.untilReady()
	aliceWS := dialStream(t, c.a.URL, alice.Token, "")
	_, aliceReady := aliceWS.untilReady()

	// A → B: posted over HTTP on node A, delivered live on node B.
	m1 := sendText(t, c.a.URL, alice, conv, "alice-1", "hello from node A", http.StatusCreated)
	if got := bobWS.waitCreated(m1.ID).message(t); got != m1 {
		t.Errorf("Bob's stream on node B: message.created carries %+v, want %+v", got, m1)
	}
	aliceWS.waitCreated(m1.ID)

	// B → A: sent over Bob's WebSocket on node B, delivered live on node A.
	bobWS.send(map[string]any{"type": "message.send", "id": "F1", "data": map[string]any{
		"conversation_id": conv, "client_id": "bob-1", "kind": "text", "text": "hello from node B"}})
	ack := bobWS.waitFor("message.ack F1", func(f frameJSON) bool { return f.ID == "F1" })
	if ack.Type != "message.ack" {
		t.Fatalf("Bob's message.send F1 answered %s %s, want message.ack", ack.Type, ack.Data)
	}
	m2 := ack.message(t)
	if m2.Seq != m1.Seq+1 || m2.SenderID != bob.ID || m2.ClientID != "bob-1" || m2.ConversationID != conv {
		t.Errorf("ack of F1 carries %+v, want Bob's bob-1 at seq %d of %s", m2, m1.Seq+1, conv)
	}
	if got := aliceWS.waitCreated(m2.ID).message(t); got != m2 {
		t.Errorf("Alice's stream on node A: message.created carries %+v, want %+v", got, m2)
	}
	bobWS.waitCreated(m2.ID)

	// Each stream delivered both messages, in order, right after ready.
	want := map[string]messageJSON{m1.ID: m1, m2.ID: m2}
	for _, s := range []struct {
		who   string
		c     *wsClient
		ready int64
	}{{"Alice's stream on A", aliceWS, aliceReady}, {"Bob's stream on B", bobWS, bobReady}} {
		var live []frameJSON
		for _, f := range s.c.log {
			if f.Cursor != "" && f.Type != "ready" {
				live = append(live, f)
			}
		}
		checkLog(t, s.who, live, s.ready, want)
	}

	c.checkSameEverywhere(t, []messageJSON{m1, m2})
}

// TestTwoNodesResendThroughTheOtherNode checks that client_id makes a
// send idempotent across nodes: a device whose first attempt timed out
// retries through the other node behind the load balancer while the
// first is still being committed. Both attempts must answer with the same
// message (one 201, one 200), and the conversation must hold it once.
func TestTwoNodesResendThroughTheOtherNode(t *testing.T) {
	t.Parallel()
	c := startTwoNodes(t)
	const n = 20
	var sent []messageJSON
	for i := range n {
		clientID := fmt.Sprintf("twice-%d", i)
		body := map[string]any{"client_id": clientID, "kind": "text", "text": "sent through both nodes at once: " + clientID}
		var rs [2]response
		var errs [2]error
		var wg sync.WaitGroup
		for j, base := range []string{c.a.URL, c.b.URL} {
			wg.Go(func() {
				rs[j], errs[j] = tryCall("POST", base+"/api/v1/conversations/"+c.conv+"/messages", c.alice.Token, body)
			})
		}
		wg.Wait()
		var ms [2]messageJSON
		created := 0
		for j, node := range []string{"A", "B"} {
			if errs[j] != nil {
				t.Fatalf("%s through node %s: %v", clientID, node, errs[j])
			}
			if rs[j].status != http.StatusCreated && rs[j].status != http.StatusOK {
				t.Fatalf("%s sent through both nodes at once: node %s answered %d %s, want 200 or 201 (its log says why)", clientID, node, rs[j].status, rs[j].body)
			}
			if rs[j].status == http.StatusCreated {
				created++
			}
			rs[j].want(t, rs[j].status, &ms[j])
		}
		if created != 1 || ms[0] != ms[1] {
			t.Fatalf("%s sent through both nodes at once: got %d %+v and %d %+v, want the same message, one 201 and one 200", clientID, rs[0].status, ms[0], rs[1].status, ms[1])
		}
		if ms[0].Seq != int64(i+1) {
			t.Fatalf("%s: seq %d, want %d", clientID, ms[0].Seq, i+1)
		}
		sent = append(sent, ms[0])
	}
	c.checkSameEverywhere(t, sent)
}

// randomHex returns n random bytes in hex.
func randomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

func equalFrames(a, b []frameJSON) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Cursor != b[i].Cursor || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}
