package main

// Helpers for the end-to-end chat tests (kill_test.go, cluster_test.go):
// phones, contacts, direct conversations, history, sync and the WebSocket
// stream, driven over HTTP as a client would.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// frameTimeout bounds the wait for one stream frame.
const frameTimeout = 15 * time.Second

// messageJSON is a message as the API returns it.
type messageJSON struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	SenderID       string `json:"sender_id"`
	ClientID       string `json:"client_id"`
	Kind           string `json:"kind"`
	Text           string `json:"text"`
}

// frameJSON is a sync event or a stream frame. Cursor is "" for frames
// outside the sync log (ready has one; acks and errors do not).
type frameJSON struct {
	Type   string          `json:"type"`
	ID     string          `json:"id"`
	Cursor string          `json:"cursor"`
	Data   json.RawMessage `json:"data"`
}

// cursor returns the frame's cursor as a number, failing on a malformed one.
func (f frameJSON) cursor(tb testing.TB) int64 {
	tb.Helper()
	n, err := strconv.ParseInt(f.Cursor, 10, 64)
	if err != nil {
		tb.Fatalf("%s frame: cursor %q is not a decimal string", f.Type, f.Cursor)
	}
	return n
}

// message decodes a message frame's data.
func (f frameJSON) message(tb testing.TB) messageJSON {
	tb.Helper()
	var m messageJSON
	if err := json.Unmarshal(f.Data, &m); err != nil {
		tb.Fatalf("%s frame: data %s: %v", f.Type, f.Data, err)
	}
	return m
}

var phoneCounter atomic.Int64

// newPhone returns a valid Chinese mobile number no other test account of
// this process uses.
func newPhone() string { return fmt.Sprintf("+86139%08d", phoneCounter.Add(1)) }

// verifyPhone verifies a fresh phone number for u with the code from the
// development SMS outbox of the node at baseURL, whose data dir is data.
func verifyPhone(tb testing.TB, baseURL, data string, u user) {
	tb.Helper()
	phone := newPhone()
	call(tb, "POST", baseURL+"/api/v1/me/phone", u.Token, map[string]any{"phone": phone}).want(tb, http.StatusAccepted, nil)
	code := outboxCode(tb, data, phone)
	call(tb, "POST", baseURL+"/api/v1/me/phone/verify", u.Token, map[string]any{"code": code}).want(tb, http.StatusOK, nil)
}

// befriend makes a and b contacts: a asks through aURL, b accepts through
// bURL (two nodes of one cluster, or the same server twice).
func befriend(tb testing.TB, aURL string, a user, bURL string, b user) {
	tb.Helper()
	var req struct {
		ID string `json:"id"`
	}
	call(tb, "POST", aURL+"/api/v1/contacts/requests", a.Token, map[string]any{"account_id": b.ID, "note": "hello"}).want(tb, http.StatusCreated, &req)
	call(tb, "POST", bURL+"/api/v1/contacts/requests/"+req.ID+"/accept", b.Token, nil).want(tb, http.StatusOK, nil)
}

// openDirect creates the direct conversation of a and b and returns its ID.
func openDirect(tb testing.TB, baseURL string, a, b user) string {
	tb.Helper()
	var c struct {
		ID        string   `json:"id"`
		MemberIDs []string `json:"member_ids"`
	}
	call(tb, "POST", baseURL+"/api/v1/conversations", a.Token, map[string]any{"kind": "direct", "member_ids": []string{b.ID}}).want(tb, http.StatusCreated, &c)
	if c.ID == "" || len(c.MemberIDs) != 2 {
		tb.Fatalf("open direct %s–%s: got id %q and members %q, want an id and both members", a.Handle, b.Handle, c.ID, c.MemberIDs)
	}
	return c.ID
}

// sendText posts a text message and wants status (201 for a new one, 200
// for a resent client_id).
func sendText(tb testing.TB, baseURL string, u user, conv, clientID, text string, status int) messageJSON {
	tb.Helper()
	var m messageJSON
	call(tb, "POST", baseURL+"/api/v1/conversations/"+conv+"/messages", u.Token,
		map[string]any{"client_id": clientID, "kind": "text", "text": text}).want(tb, status, &m)
	return m
}

// history pages through a conversation's whole history, oldest first.
func history(tb testing.TB, baseURL, token, conv string) []messageJSON {
	tb.Helper()
	const limit = 200
	var all []messageJSON
	after := int64(0)
	for page := 0; ; page++ {
		if page > 100_000 {
			tb.Fatalf("history of %s: more than 100,000 pages", conv)
		}
		var out struct {
			Items      []messageJSON `json:"items"`
			NextCursor string        `json:"next_cursor"`
		}
		u := fmt.Sprintf("%s/api/v1/conversations/%s/messages?after_seq=%d&limit=%d", baseURL, conv, after, limit)
		call(tb, "GET", u, token, nil).want(tb, http.StatusOK, &out)
		all = append(all, out.Items...)
		if len(out.Items) < limit {
			return all
		}
		after = out.Items[len(out.Items)-1].Seq
		if out.NextCursor != strconv.FormatInt(after, 10) {
			tb.Fatalf("history of %s: full page ending at seq %d has next_cursor %q, want %q", conv, after, out.NextCursor, strconv.FormatInt(after, 10))
		}
	}
}

// syncAll pages through GET /api/v1/sync from since until more is false
// and returns the events and the final cursor. It checks that the page
// cursors follow the events.
func syncAll(tb testing.TB, baseURL, token string, since int64) ([]frameJSON, int64) {
	tb.Helper()
	var all []frameJSON
	cursor := since
	for page := 0; ; page++ {
		if page > 100_000 {
			tb.Fatalf("sync: more than 100,000 pages")
		}
		var out struct {
			Events []frameJSON `json:"events"`
			Cursor string      `json:"cursor"`
			More   bool        `json:"more"`
		}
		call(tb, "GET", fmt.Sprintf("%s/api/v1/sync?since=%d&limit=1000", baseURL, cursor), token, nil).want(tb, http.StatusOK, &out)
		next, err := strconv.ParseInt(out.Cursor, 10, 64)
		if err != nil {
			tb.Fatalf("sync since %d: cursor %q is not a decimal string", cursor, out.Cursor)
		}
		if n := len(out.Events); n > 0 && out.Events[n-1].Cursor != out.Cursor {
			tb.Fatalf("sync since %d: page cursor %s, want the last event's %s", cursor, out.Cursor, out.Events[n-1].Cursor)
		}
		if len(out.Events) == 0 && (out.More || next != cursor) {
			tb.Fatalf("sync since %d: an empty page with more=%v and cursor %d, want more=false and cursor %d", cursor, out.More, next, cursor)
		}
		all = append(all, out.Events...)
		cursor = next
		if !out.More {
			return all, cursor
		}
	}
}

// headCursor returns the account's current cursor (GET /api/v1/sync
// without since).
func headCursor(tb testing.TB, baseURL, token string) int64 {
	tb.Helper()
	var out struct {
		Events []frameJSON `json:"events"`
		Cursor string      `json:"cursor"`
	}
	call(tb, "GET", baseURL+"/api/v1/sync", token, nil).want(tb, http.StatusOK, &out)
	n, err := strconv.ParseInt(out.Cursor, 10, 64)
	if err != nil || len(out.Events) != 0 {
		tb.Fatalf("GET /api/v1/sync without since: got cursor %q and %d events, want a decimal cursor and none", out.Cursor, len(out.Events))
	}
	return n
}

// wsClient is a device connected to GET /api/v1/stream.
type wsClient struct {
	tb  testing.TB
	ws  *websocket.Conn
	log []frameJSON // every frame read, in order
}

// dialStream connects to the stream of the node at baseURL as token's
// account; query is "" or "?since=N". The test's cleanup closes it.
func dialStream(tb testing.TB, baseURL, token, query string) *wsClient {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), frameTimeout)
	defer cancel()
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/api/v1/stream" + query
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		tb.Fatalf("dial %s: %v (status %d)", u, err, status)
	}
	// A frame carries one message; leave room above the library's 32 KiB
	// default for long texts in multi-byte characters.
	ws.SetReadLimit(1 << 20)
	tb.Cleanup(func() { ws.CloseNow() })
	return &wsClient{tb: tb, ws: ws}
}

// read returns the next frame, failing after frameTimeout; what says
// what the test waits for.
func (c *wsClient) read(what string) frameJSON {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), frameTimeout)
	defer cancel()
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		c.tb.Fatalf("stream: waiting for %s (after %d frames): %v", what, len(c.log), err)
	}
	var f frameJSON
	if err := json.Unmarshal(data, &f); err != nil {
		c.tb.Fatalf("stream frame %s: %v", data, err)
	}
	c.log = append(c.log, f)
	return f
}

// waitFor returns the first frame, among those read so far and then new
// ones, for which match is true; what describes it in the failure, after
// frameTimeout without one.
func (c *wsClient) waitFor(what string, match func(frameJSON) bool) frameJSON {
	c.tb.Helper()
	for _, f := range c.log {
		if match(f) {
			return f
		}
	}
	for {
		if f := c.read(what); match(f) {
			return f
		}
	}
}

// waitCreated waits for message.created carrying message id.
func (c *wsClient) waitCreated(id string) frameJSON {
	c.tb.Helper()
	return c.waitFor("message.created for "+id, func(f frameJSON) bool {
		return f.Type == "message.created" && f.message(c.tb).ID == id
	})
}

// untilReady reads the replay up to the ready frame and returns the
// replayed frames and ready's cursor.
func (c *wsClient) untilReady() ([]frameJSON, int64) {
	c.tb.Helper()
	var replay []frameJSON
	for {
		f := c.read("ready")
		if f.Type == "ready" {
			return replay, f.cursor(c.tb)
		}
		replay = append(replay, f)
	}
}

// send writes a client frame.
func (c *wsClient) send(v any) {
	c.tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.tb.Fatalf("encode frame: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), frameTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.tb.Fatalf("write stream frame: %v", err)
	}
}

// checkLog checks that events (from a sync or a stream replay starting
// after since) have the cursors since+1, since+2, … with no gap or
// repeat, and that their message.created events are exactly want (message
// ID → message), each once. what names the source for messages.
func checkLog(tb testing.TB, what string, events []frameJSON, since int64, want map[string]messageJSON) {
	tb.Helper()
	next := since + 1
	seen := map[string]bool{}
	for _, ev := range events {
		if c := ev.cursor(tb); c != next {
			tb.Fatalf("%s: event %s has cursor %d, want %d (cursors must increase by one)", what, ev.Type, c, next)
		}
		next++
		if ev.Type != "message.created" {
			continue
		}
		m := ev.message(tb)
		w, ok := want[m.ID]
		switch {
		case !ok:
			tb.Errorf("%s: message.created for message %s (conversation %s, seq %d), which is not in the history", what, m.ID, m.ConversationID, m.Seq)
		case seen[m.ID]:
			tb.Errorf("%s: message.created for message %s twice", what, m.ID)
		case m != w:
			tb.Errorf("%s: message.created carries %+v, want %+v as in the history", what, m, w)
		}
		seen[m.ID] = true
	}
	missing := 0
	for id, m := range want {
		if !seen[id] {
			if missing < 5 {
				tb.Errorf("%s: no message.created for message %s (conversation %s, seq %d)", what, id, m.ConversationID, m.Seq)
			}
			missing++
		}
	}
	if missing > 0 {
		tb.Errorf("%s: %d of %d messages have no message.created event", what, missing, len(want))
	}
}

// tryCall is call for other goroutines than the test's: it returns a
// transport error rather than failing the test.
func tryCall(method, url, token string, body any) (response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return response{}, err
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := httpClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	return response{req: method + " " + url, status: resp.StatusCode, body: rb}, nil
}
