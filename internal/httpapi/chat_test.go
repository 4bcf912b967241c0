package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

var phoneCounter atomic.Int64

// verified registers handle and verifies a fresh phone number.
func (e *testEnv) verified(handle string) user {
	e.t.Helper()
	u := e.register(handle)
	e.verifyPhone(u, fmt.Sprintf("+86139%08d", phoneCounter.Add(1)))
	return u
}

// befriend makes a and b contacts.
func (e *testEnv) befriend(a, b user) {
	e.t.Helper()
	req := e.do("POST", "/api/v1/contacts/requests", a.token, map[string]any{"account_id": b.id.String(), "note": "hi"}).want(e.t, 201, "")
	e.do("POST", "/api/v1/contacts/requests/"+req.body["id"].(string)+"/accept", b.token, nil).want(e.t, 200, "")
}

// direct opens the direct conversation of two contacts and returns its ID.
func (e *testEnv) direct(a, b user) string {
	e.t.Helper()
	return e.do("POST", "/api/v1/conversations", a.token, map[string]any{"kind": "direct", "member_ids": []string{b.id.String()}}).body["id"].(string)
}

func (e *testEnv) send(u user, conv, clientID, text string) resp {
	e.t.Helper()
	return e.do("POST", "/api/v1/conversations/"+conv+"/messages", u.token, map[string]any{"client_id": clientID, "kind": "text", "text": text})
}

// stream is a test device on the WebSocket stream.
type stream struct {
	t  testing.TB
	ws *websocket.Conn
}

func (e *testEnv) dial(u user, query string) *stream {
	e.t.Helper()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/api/v1/stream" + query
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + u.token}}})
	if err != nil {
		e.t.Fatalf("dial stream: %v", err)
	}
	s := &stream{t: e.t, ws: ws}
	e.t.Cleanup(func() { ws.CloseNow() })
	return s
}

// next returns the next frame, failing after a deadline.
func (s *stream) next() map[string]any {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := s.ws.Read(ctx)
	if err != nil {
		s.t.Fatalf("read stream: %v", err)
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		s.t.Fatalf("frame %s: %v", data, err)
	}
	return f
}

// until returns the next frame of type typ, skipping others.
func (s *stream) until(typ string) map[string]any {
	s.t.Helper()
	for {
		if f := s.next(); f["type"] == typ {
			return f
		}
	}
}

func (s *stream) sendFrame(v any) {
	s.t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.ws.Write(ctx, websocket.MessageText, b); err != nil {
		s.t.Fatal(err)
	}
}

func TestDirectChatEndToEnd(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.verified("alice"), e.verified("bob")
	stranger := e.verified("stranger")

	// Not contacts yet.
	e.do("POST", "/api/v1/conversations", alice.token, map[string]any{"kind": "direct", "member_ids": []string{bob.id.String()}}).want(t, 403, "not_a_contact")
	e.befriend(alice, bob)
	created := e.do("POST", "/api/v1/conversations", alice.token, map[string]any{"kind": "direct", "member_ids": []string{bob.id.String()}}).want(t, 201, "")
	again := e.do("POST", "/api/v1/conversations", bob.token, map[string]any{"kind": "direct", "member_ids": []string{alice.id.String()}}).want(t, 200, "")
	conv := created.body["id"].(string)
	if again.body["id"] != conv {
		t.Fatalf("reopening gave %v, want %v", again.body["id"], conv)
	}
	if ids := created.body["member_ids"].([]any); len(ids) != 2 {
		t.Errorf("member_ids = %v, want both", ids)
	}

	bobStream := e.dial(bob, "")
	ready := bobStream.until("ready")
	if ready["cursor"] == nil {
		t.Fatalf("ready frame %v lacks cursor", ready)
	}

	m1 := e.send(alice, conv, "c-1", "hello bob").want(t, 201, "")
	if m1.body["seq"] != float64(1) || m1.body["sender_id"] != alice.id.String() || m1.body["text"] != "hello bob" {
		t.Errorf("send answered %s", m1.raw)
	}
	dup := e.send(alice, conv, "c-1", "hello bob").want(t, 200, "")
	if dup.body["id"] != m1.body["id"] || dup.body["seq"] != float64(1) {
		t.Errorf("resend answered %s, want the same message", dup.raw)
	}
	got := bobStream.until("message.created")
	if got["data"].(map[string]any)["id"] != m1.body["id"] || got["cursor"] == nil {
		t.Errorf("bob got %v", got)
	}

	// Send over the socket, with an ack.
	bobStream.sendFrame(map[string]any{"type": "message.send", "id": "F1", "data": map[string]any{"conversation_id": conv, "client_id": "b-1", "kind": "text", "text": "hi alice"}})
	ack := bobStream.until("message.ack")
	if ack["id"] != "F1" || ack["data"].(map[string]any)["seq"] != float64(2) {
		t.Errorf("ack = %v", ack)
	}
	bobStream.sendFrame(map[string]any{"type": "message.send", "id": "F2", "data": map[string]any{"conversation_id": conv, "client_id": "b-2", "kind": "text", "text": ""}})
	if f := bobStream.until("error"); f["id"] != "F2" || f["data"].(map[string]any)["code"] != "invalid_request" {
		t.Errorf("error frame = %v", f)
	}

	// History both ways, and strangers see nothing.
	hist := e.do("GET", "/api/v1/conversations/"+conv+"/messages?after_seq=0&limit=10", alice.token, nil).want(t, 200, "")
	if items := hist.body["items"].([]any); len(items) != 2 || items[1].(map[string]any)["text"] != "hi alice" {
		t.Errorf("history = %s", hist.raw)
	}
	before := e.do("GET", "/api/v1/conversations/"+conv+"/messages?before_seq=2", alice.token, nil).want(t, 200, "")
	if items := before.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["seq"] != float64(1) {
		t.Errorf("before_seq page = %s", before.raw)
	}
	e.do("GET", "/api/v1/conversations/"+conv+"/messages", stranger.token, nil).want(t, 404, "not_found")
	e.send(stranger, conv, "s-1", "let me in").want(t, 404, "not_found")
	e.do("GET", "/api/v1/conversations/"+conv, stranger.token, nil).want(t, 404, "not_found")

	// Unread counts and read positions.
	list := e.do("GET", "/api/v1/conversations", alice.token, nil).want(t, 200, "")
	s := list.body["items"].([]any)[0].(map[string]any)
	if s["unread_count"] != float64(1) || s["last_message"].(map[string]any)["text"] != "hi alice" {
		t.Errorf("alice's list = %s", list.raw)
	}
	e.do("POST", "/api/v1/conversations/"+conv+"/read", alice.token, map[string]any{"seq": 2}).want(t, 204, "")
	if f := bobStream.until("conversation.read"); f["data"].(map[string]any)["seq"] != float64(2) {
		t.Errorf("read receipt = %v", f)
	}
	e.do("POST", "/api/v1/conversations/"+conv+"/read", alice.token, map[string]any{"seq": 99}).want(t, 400, "invalid_request")
	if s := e.do("GET", "/api/v1/conversations", alice.token, nil).body["items"].([]any)[0].(map[string]any); s["unread_count"] != float64(0) {
		t.Errorf("unread after read = %v", s["unread_count"])
	}

	// Recall.
	mid := m1.body["id"].(string)
	e.do("POST", "/api/v1/conversations/"+conv+"/messages/"+mid+"/recall", bob.token, nil).want(t, 403, "forbidden")
	rec := e.do("POST", "/api/v1/conversations/"+conv+"/messages/"+mid+"/recall", alice.token, nil).want(t, 200, "")
	if rec.body["recalled"] != true || rec.body["text"] != "" || rec.body["seq"] != float64(1) || rec.body["id"] != mid {
		t.Errorf("recall answered %s", rec.raw)
	}
	if f := bobStream.until("message.recalled"); f["data"].(map[string]any)["id"] != mid {
		t.Errorf("recall frame = %v", f)
	}

	// Sync replays everything from a cursor.
	sync := e.do("GET", "/api/v1/sync?since=0&limit=1000", bob.token, nil).want(t, 200, "")
	types := []string{}
	for _, ev := range sync.body["events"].([]any) {
		types = append(types, ev.(map[string]any)["type"].(string))
	}
	if strings.Join(types, ",") != "contact.request,contact.accepted,conversation.updated,message.created,message.created,conversation.read,message.recalled" {
		t.Errorf("sync types = %v", types)
	}
	page := e.do("GET", "/api/v1/sync?since=0&limit=2", bob.token, nil).want(t, 200, "")
	if page.body["more"] != true || len(page.body["events"].([]any)) != 2 {
		t.Errorf("limited sync = %s", page.raw)
	}
	head := e.do("GET", "/api/v1/sync", bob.token, nil).want(t, 200, "")
	if head.body["cursor"] != sync.body["cursor"] || len(head.body["events"].([]any)) != 0 {
		t.Errorf("sync without since = %s, want cursor %v", head.raw, sync.body["cursor"])
	}
	e.do("GET", "/api/v1/sync?since=999999", bob.token, nil).want(t, 400, "invalid_request")

	// A second device resuming from cursor 3 gets the rest, then ready.
	dev2 := e.dial(bob, "?since=3")
	first := dev2.next()
	if first["type"] != "message.created" || first["cursor"] != "4" {
		t.Errorf("resumed device's first frame = %v", first)
	}
	dev2.until("ready")
}

func TestBlocksAndVerification(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.verified("alice"), e.verified("bob")
	unverified := e.register("nophone")
	e.do("POST", "/api/v1/contacts/requests", unverified.token, map[string]any{"account_id": alice.id.String()}).want(t, 403, "verification_required")
	e.befriend(alice, bob)
	conv := e.direct(alice, bob)
	e.do("POST", "/api/v1/blocks", bob.token, map[string]any{"account_id": alice.id.String()}).want(t, 204, "")
	e.send(alice, conv, "x", "are you there?").want(t, 403, "blocked")
	e.do("POST", "/api/v1/contacts/requests", alice.token, map[string]any{"account_id": bob.id.String()}).want(t, 403, "blocked")
	e.do("DELETE", "/api/v1/blocks/"+alice.id.String(), bob.token, nil).want(t, 204, "")
	// Blocking ended the contact relation.
	e.send(alice, conv, "y", "hello?").want(t, 403, "not_a_contact")
}

func TestGroups(t *testing.T) {
	e := newEnv(t)
	owner, a, b, c := e.verified("owner"), e.verified("amy"), e.verified("ben"), e.verified("cat")
	e.befriend(owner, a)
	e.befriend(owner, b)
	e.do("POST", "/api/v1/conversations", owner.token, map[string]any{"kind": "group", "title": "Team", "member_ids": []string{a.id.String(), c.id.String()}}).want(t, 403, "not_a_contact")
	g := e.do("POST", "/api/v1/conversations", owner.token, map[string]any{"kind": "group", "title": " Team ", "member_ids": []string{a.id.String()}}).want(t, 201, "")
	gid := g.body["id"].(string)
	if g.body["title"] != "Team" || g.body["owner_id"] != owner.id.String() {
		t.Errorf("group = %s", g.raw)
	}
	e.send(a, gid, "a1", "before ben").want(t, 201, "")
	e.do("POST", "/api/v1/conversations/"+gid+"/members", owner.token, map[string]any{"account_ids": []string{b.id.String()}}).want(t, 200, "")
	// Ben sees only what came after he joined.
	if items := e.do("GET", "/api/v1/conversations/"+gid+"/messages", b.token, nil).body["items"].([]any); len(items) != 0 {
		t.Errorf("ben sees %d earlier messages, want 0", len(items))
	}
	e.do("PATCH", "/api/v1/conversations/"+gid, a.token, map[string]any{"title": "Mine"}).want(t, 403, "forbidden")
	e.do("PUT", "/api/v1/conversations/"+gid+"/members/"+a.id.String()+"/role", owner.token, map[string]any{"role": "admin"}).want(t, 200, "")
	e.do("PATCH", "/api/v1/conversations/"+gid, a.token, map[string]any{"title": "Renamed"}).want(t, 200, "")
	e.do("DELETE", "/api/v1/conversations/"+gid+"/members/"+owner.id.String(), a.token, nil).want(t, 403, "forbidden")
	e.do("DELETE", "/api/v1/conversations/"+gid+"/members/"+b.id.String(), a.token, nil).want(t, 204, "")
	e.send(b, gid, "b1", "still here?").want(t, 404, "not_found")
	// The owner leaves: the admin takes over.
	e.do("DELETE", "/api/v1/conversations/"+gid+"/members/"+owner.id.String(), owner.token, nil).want(t, 204, "")
	if got := e.do("GET", "/api/v1/conversations/"+gid, a.token, nil).body["owner_id"]; got != a.id.String() {
		t.Errorf("owner after leave = %v, want amy", got)
	}
	e.do("POST", "/api/v1/conversations", owner.token, map[string]any{"kind": "group", "title": "", "member_ids": []string{}}).want(t, 400, "invalid_request")
}

func TestCursorExpired(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.verified("alice"), e.verified("bob")
	e.befriend(alice, bob)
	conv := e.direct(alice, bob)
	e.send(alice, conv, "1", "one").want(t, 201, "")
	// Simulate retention having pruned the oldest events.
	if _, err := e.db.Write().ExecContext(context.Background(), `DELETE FROM events WHERE account_id = $1 AND seq <= 2`, bob.id); err != nil {
		t.Fatal(err)
	}
	res := e.do("GET", "/api/v1/sync?since=0", bob.token, nil).want(t, 410, "cursor_expired")
	if res.details()["cursor"] == nil {
		t.Errorf("cursor_expired without the current cursor: %s", res.raw)
	}
	e.do("GET", "/api/v1/stream?since=0", bob.token, nil).want(t, 410, "cursor_expired")
	e.do("GET", "/api/v1/sync?since=2", bob.token, nil).want(t, 200, "")
}
