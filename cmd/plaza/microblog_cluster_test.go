package main

import (
	"encoding/json"
	"net/http"
	"testing"
)

// postOn has u post text on the node at baseURL and returns its ID.
func postOn(tb testing.TB, baseURL string, u user, text string) string {
	tb.Helper()
	var out struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	call(tb, "POST", baseURL+"/api/v1/posts", u.Token, map[string]any{"text": text}).want(tb, http.StatusCreated, &out)
	if out.ID == "" || out.Status != "published" {
		tb.Fatalf("post: got %+v, want a published post", out)
	}
	return out.ID
}

// waitPost waits for post.created carrying post id.
func (c *wsClient) waitPost(id string) {
	c.tb.Helper()
	c.waitFor("post.created for "+id, func(f frameJSON) bool {
		var p struct {
			ID string `json:"id"`
		}
		return f.Type == "post.created" && json.Unmarshal(f.Data, &p) == nil && p.ID == id
	})
}

// TestTwoNodesDeliverPosts: Alice posts on node A; Bob, who follows her
// from node B, gets post.created on his stream on node B, both while
// Alice is fanned out per follower and after she crosses the fan-out
// threshold (here 2) and her posts go once to her author subject. Alice's
// stream on node A gets the notification of Bob's follow, and both nodes
// serve the same timeline.
func TestTwoNodesDeliverPosts(t *testing.T) {
	t.Parallel()
	c := startTwoNodes(t, "--fanout-threshold", "2")
	alice, bob := c.alice, c.bob
	bobWS := dialStream(t, c.b.URL, bob.Token, "")
	bobWS.untilReady()
	aliceWS := dialStream(t, c.a.URL, alice.Token, "")
	aliceWS.untilReady()

	call(t, "POST", c.b.URL+"/api/v1/accounts/"+alice.ID+"/follow", bob.Token, nil).want(t, http.StatusNoContent, nil)
	aliceWS.waitFor("notification of bob's follow", func(f frameJSON) bool { return f.Type == "notification" })
	p1 := postOn(t, c.a.URL, alice, "fanned out from node A")
	bobWS.waitPost(p1)

	// A second follower makes Alice an author above the threshold: Bob's
	// node is told to listen on her subject.
	carol := register(t, c.a.URL, "carol")
	call(t, "POST", c.a.URL+"/api/v1/accounts/"+alice.ID+"/follow", carol.Token, nil).want(t, http.StatusNoContent, nil)
	p2 := postOn(t, c.a.URL, alice, "once on the author subject")
	bobWS.waitPost(p2)

	for _, url := range []string{c.a.URL, c.b.URL} {
		var tl struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		call(t, "GET", url+"/api/v1/timeline", bob.Token, nil).want(t, http.StatusOK, &tl)
		if len(tl.Items) != 2 || tl.Items[0].ID != p2 || tl.Items[1].ID != p1 {
			t.Errorf("Bob's timeline on %s = %+v, want %s then %s", url, tl.Items, p2, p1)
		}
	}
}
