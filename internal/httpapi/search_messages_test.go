package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/plazatest"
)

// runSearchIndexer runs the chat search indexer of e until the test ends.
func (e *testEnv) runSearchIndexer(tb testing.TB) {
	tb.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.chat.RunSearchIndexer(ctx, 10*time.Millisecond) }()
	tb.Cleanup(func() { stop(); <-done })
}

// searchMessages asks GET /messages/search with query as u.
func (e *testEnv) searchMessages(u user, query url.Values) resp {
	e.t.Helper()
	return e.do("GET", "/api/v1/messages/search?"+query.Encode(), u.token, nil)
}

// hitTexts returns the message texts of a search page, and fails on a
// hit whose conversation_id is not its message's.
func hitTexts(tb testing.TB, r resp) []string {
	tb.Helper()
	out := []string{}
	items, _ := r.body["items"].([]any)
	for _, it := range items {
		hit := it.(map[string]any)
		msg := hit["message"].(map[string]any)
		if hit["conversation_id"] != msg["conversation_id"] {
			tb.Errorf("hit conversation_id %v, message's %v", hit["conversation_id"], msg["conversation_id"])
		}
		out = append(out, msg["text"].(string))
	}
	return out
}

// TestSearchMessagesAPI: the route finds Chinese without spaces and
// English, only in the caller's conversations, pages with before and
// next, and refuses anonymous callers, other people's conversations and
// bad input.
func TestSearchMessagesAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		e.runSearchIndexer(t)
		ann, bob, cat := e.verified("ann"), e.verified("bob"), e.verified("cat")
		e.befriend(ann, bob)
		conv := e.direct(ann, bob)
		for i, text := range []string{"今天天气很好", "the weather is fine", "明天天气 weather report", "no match here"} {
			e.send(ann, conv, fmt.Sprintf("c%d", i), text).want(t, http.StatusCreated, "")
		}
		// Searchable within moments of the send.
		plazatest.Eventually(t, 10*time.Second, func() error {
			if got := hitTexts(t, e.searchMessages(bob, url.Values{"q": {"weather"}}).want(t, http.StatusOK, "")); len(got) != 2 {
				return fmt.Errorf("found %q, want 2 messages", got)
			}
			return nil
		})
		for _, tc := range []struct {
			q    string
			want []string
		}{
			{"天气", []string{"明天天气 weather report", "今天天气很好"}},
			{"天气 weather", []string{"明天天气 weather report"}},
			{"WEATHER fine", []string{"the weather is fine"}},
			{"雨", []string{}},
		} {
			r := e.searchMessages(bob, url.Values{"q": {tc.q}, "conversation_id": {conv}}).want(t, http.StatusOK, "")
			if got := hitTexts(t, r); !slices.Equal(got, tc.want) {
				t.Errorf("q=%q: got %q, want %q", tc.q, got, tc.want)
			}
		}

		// Paging: two a page, newest first, until next is empty.
		var got []string
		query := url.Values{"q": {"天气"}, "limit": {"1"}}
		for range 3 {
			r := e.searchMessages(ann, query).want(t, http.StatusOK, "")
			got = append(got, hitTexts(t, r)...)
			if r.body["next"] != r.body["next_cursor"] {
				t.Errorf("next %v, next_cursor %v: want them equal", r.body["next"], r.body["next_cursor"])
			}
			if r.body["next"] == "" {
				break
			}
			query.Set("before", r.body["next"].(string))
		}
		if want := []string{"明天天气 weather report", "今天天气很好"}; !slices.Equal(got, want) {
			t.Errorf("pages: got %q, want %q", got, want)
		}

		// Someone else: nothing found, and 404 naming the conversation.
		if got := hitTexts(t, e.searchMessages(cat, url.Values{"q": {"weather"}}).want(t, http.StatusOK, "")); len(got) != 0 {
			t.Errorf("cat finds %q in others' conversation, want nothing", got)
		}
		e.searchMessages(cat, url.Values{"q": {"weather"}, "conversation_id": {conv}}).want(t, http.StatusNotFound, "not_found")
		e.searchMessages(cat, url.Values{"q": {"weather"}, "conversation_id": {"12345"}}).want(t, http.StatusNotFound, "not_found")

		// Anonymous.
		e.do("GET", "/api/v1/messages/search?q=weather", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")

		// Bad input names its field.
		for _, tc := range []struct{ query, field string }{
			{"", "q"},
			{"q=", "q"},
			{"q=%21%3F%E3%80%82", "q"},                      // only punctuation
			{"q=" + strings.Repeat("a", 201), "q"},          // too long
			{"q=a%00b", "q"},                                // NUL
			{"q=ok&limit=0", "limit"},                       //
			{"q=ok&limit=51", "limit"},                      //
			{"q=ok&before=x", "before"},                     //
			{"q=ok&conversation_id=-1", "conversation_id"},  //
			{"q=ok&conversation_id=abc", "conversation_id"}, //
		} {
			r := e.do("GET", "/api/v1/messages/search?"+tc.query, bob.token, nil).want(t, http.StatusBadRequest, "invalid_request")
			if !strings.Contains(string(r.raw), `"`+tc.field+`"`) {
				t.Errorf("?%s: the error does not name %s: %s", tc.query, tc.field, r.raw)
			}
		}
	})
}
