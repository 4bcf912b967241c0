package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/coder/websocket"

	"github.com/plaza-im/plaza/internal/realtime"
)

// closedWith reads c until the server closes it and fails unless the
// close code is code.
func (c *wsClient) closedWith(code websocket.StatusCode) {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), frameTimeout)
	defer cancel()
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			if got := websocket.CloseStatus(err); got != code {
				c.tb.Fatalf("stream ended with %v (close code %d), want close code %d", err, got, code)
			}
			return
		}
		c.tb.Logf("frame before the close: %s", data)
	}
}

// signIn opens another session for u on the node at baseURL.
func signIn(tb testing.TB, baseURL string, u user) string {
	tb.Helper()
	var out struct {
		Token string `json:"token"`
	}
	call(tb, "POST", baseURL+"/api/v1/sessions", "", map[string]any{"handle": u.Handle, "password": testPassword}).want(tb, http.StatusCreated, &out)
	return out.Token
}

// currentSession returns the ID of token's session.
func currentSession(tb testing.TB, baseURL, token string) string {
	tb.Helper()
	var out struct {
		Items []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"items"`
	}
	call(tb, "GET", baseURL+"/api/v1/me/sessions", token, nil).want(tb, http.StatusOK, &out)
	for _, s := range out.Items {
		if s.Current {
			return s.ID
		}
	}
	tb.Fatal("no current session")
	return ""
}

// TestHostileClusterRevokeClosesStreamOnOtherNode: revoking a session on
// node A must close its stream on node B at once (the news crosses on
// NATS), and node B must refuse the token from then on.
func TestHostileClusterRevokeClosesStreamOnOtherNode(t *testing.T) {
	t.Parallel()
	c := startTwoNodes(t)
	bob := c.bob
	other := signIn(t, c.a.URL, bob)
	ws := dialStream(t, c.b.URL, bob.Token, "")
	ws.untilReady()

	call(t, "DELETE", c.a.URL+"/api/v1/me/sessions/"+currentSession(t, c.b.URL, bob.Token), other, nil).want(t, http.StatusNoContent, nil)
	ws.closedWith(realtime.StatusSessionEnded)
	call(t, "GET", c.b.URL+"/api/v1/conversations", bob.Token, nil).wantError(t, http.StatusUnauthorized, "unauthenticated")

	// The other session's stream, on node B, is untouched.
	ws2 := dialStream(t, c.b.URL, other, "")
	ws2.untilReady()
	m := sendText(t, c.a.URL, c.alice, c.conv, "after-revoke", "still reaching the other session", http.StatusCreated)
	ws2.waitCreated(m.ID)
}

// TestHostileClusterStreamCap: the cap on streams per account holds
// across nodes: the oldest stream is closed with 4009 on whichever node
// holds it.
func TestHostileClusterStreamCap(t *testing.T) {
	t.Parallel()
	c := startTwoNodes(t, "--rate-limits", "on", "--max-streams-per-account", "2", "--max-streams-per-session", "0")
	bob := c.bob
	oldest := dialStream(t, c.b.URL, bob.Token, "")
	oldest.untilReady()
	s2 := dialStream(t, c.a.URL, bob.Token, "")
	s2.untilReady()
	s3 := dialStream(t, c.a.URL, signIn(t, c.a.URL, bob), "")
	s3.untilReady()
	oldest.closedWith(realtime.StatusReplaced)

	m := sendText(t, c.a.URL, c.alice, c.conv, "after-cap", "to the two newest", http.StatusCreated)
	s2.waitCreated(m.ID)
	s3.waitCreated(m.ID)
}
