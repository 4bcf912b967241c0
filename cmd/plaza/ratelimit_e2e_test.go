package main

import (
	"fmt"
	"net/http"
	"testing"
)

// TestHostileTwoNodesShareSendBudget: Alice sends through both nodes of a
// cluster on one PostgreSQL database; the nodes enforce one budget
// between them, not one each, and Bob's is his own.
func TestHostileTwoNodesShareSendBudget(t *testing.T) {
	c := startTwoNodes(t, "--rate-limits", "on", "--send-rate", "4/1h")
	for i, url := range []string{c.a.URL, c.b.URL, c.a.URL, c.b.URL} {
		sendText(t, url, c.alice, c.conv, fmt.Sprint("m", i), "hi", http.StatusCreated)
	}
	for _, url := range []string{c.a.URL, c.b.URL} {
		r := call(t, "POST", url+"/api/v1/conversations/"+c.conv+"/messages", c.alice.Token,
			map[string]any{"client_id": "over", "kind": "text", "text": "one too many"})
		r.want(t, http.StatusTooManyRequests, nil)
	}
	sendText(t, c.b.URL, c.bob, c.conv, "b", "Bob has his own budget", http.StatusCreated)
}

// TestHostileRateLimitsFlag: the same send limit refuses the third message
// with --rate-limits on and nothing with --rate-limits off.
func TestHostileRateLimitsFlag(t *testing.T) {
	for _, tc := range []struct {
		limits string
		status int // of the third message
	}{{"on", http.StatusTooManyRequests}, {"off", http.StatusCreated}} {
		t.Run(tc.limits, func(t *testing.T) {
			data := t.TempDir()
			s := startServer(t, "--data", data, "--rate-limits", tc.limits, "--send-rate", "2/1h")
			alice, bob := register(t, s.URL, "alice"), register(t, s.URL, "bob")
			verifyPhone(t, s.URL, data, alice)
			verifyPhone(t, s.URL, data, bob)
			befriend(t, s.URL, alice, s.URL, bob)
			conv := openDirect(t, s.URL, alice, bob)
			sendText(t, s.URL, alice, conv, "m1", "one", http.StatusCreated)
			sendText(t, s.URL, alice, conv, "m2", "two", http.StatusCreated)
			call(t, "POST", s.URL+"/api/v1/conversations/"+conv+"/messages", alice.Token,
				map[string]any{"client_id": "m3", "kind": "text", "text": "three"}).want(t, tc.status, nil)
		})
	}
}
