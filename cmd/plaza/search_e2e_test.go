package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/plazatest"
)

// searchTexts returns the texts GET /messages/search finds for q as u.
func searchTexts(tb testing.TB, baseURL string, u user, q string) []string {
	tb.Helper()
	var out struct {
		Items []struct {
			Message messageJSON `json:"message"`
		} `json:"items"`
	}
	call(tb, "GET", baseURL+"/api/v1/messages/search?q="+url.QueryEscape(q), u.Token, nil).want(tb, http.StatusOK, &out)
	texts := []string{}
	for _, it := range out.Items {
		texts = append(texts, it.Message.Text)
	}
	return texts
}

// TestSearchMessagesServe: the server indexes messages for search in the
// background, within moments of their send, and carries on after a
// restart on the same data.
func TestSearchMessagesServe(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	srv := startServer(t, "--data", data)
	ann, bob := register(t, srv.URL, "ann"), register(t, srv.URL, "bob")
	verifyPhone(t, srv.URL, data, ann)
	verifyPhone(t, srv.URL, data, bob)
	befriend(t, srv.URL, ann, srv.URL, bob)
	conv := openDirect(t, srv.URL, ann, bob)
	sendText(t, srv.URL, ann, conv, "c1", "今天天气很好", http.StatusCreated)
	wantFound := func(baseURL string, u user, q string, want []string) {
		t.Helper()
		plazatest.Eventually(t, 10*time.Second, func() error {
			if got := searchTexts(t, baseURL, u, q); !slices.Equal(got, want) {
				return fmt.Errorf("search %q: found %q, want %q", q, got, want)
			}
			return nil
		})
	}
	wantFound(srv.URL, bob, "天气", []string{"今天天气很好"})

	srv.terminate(t)
	if code := srv.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("plaza serve exited with %d, want 0:\n%s", code, srv.logs())
	}
	srv = startServer(t, "--data", data)
	sendText(t, srv.URL, bob, conv, "c2", "明天天气也好", http.StatusCreated)
	wantFound(srv.URL, ann, "天气", []string{"明天天气也好", "今天天气很好"})
}
