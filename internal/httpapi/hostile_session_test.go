package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/realtime"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// eachEngineOpt runs fn once per database engine (PostgreSQL when
// PLAZA_TEST_POSTGRES is set), passing the option that selects it, for
// tests that build their envs themselves.
func eachEngineOpt(t *testing.T, fn func(t *testing.T, opt envOption)) {
	t.Helper()
	for _, eng := range sqldbtest.Engines() {
		t.Run(string(eng), func(t *testing.T) { fn(t, withEngine(eng)) })
	}
}

// closedWith reads the stream until the server closes it and fails unless
// it closed with code. Any frame before the close must not be an ack.
func (s *stream) closedWith(code websocket.StatusCode) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, data, err := s.ws.Read(ctx)
		if err != nil {
			if got := websocket.CloseStatus(err); got != code {
				s.t.Fatalf("stream ended with %v (close code %d), want close code %d", err, got, code)
			}
			return
		}
		if len(data) > 0 && containsAck(data) {
			s.t.Fatalf("got an ack %s on a stream that should close with %d", data, code)
		}
	}
}

// fieldsOf returns the fields an invalid_request names.
func fieldsOf(r resp) []string {
	var out []string
	fs, _ := r.details()["fields"].([]any)
	for _, f := range fs {
		if m, ok := f.(map[string]any); ok {
			out = append(out, fmt.Sprint(m["field"]))
		}
	}
	return out
}

func containsAck(frame []byte) bool {
	return len(frame) > 20 && string(frame[:20]) == `{"type":"message.ack`
}

// login opens another session for u and returns its token.
func (e *testEnv) login(u user) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": u.handle, "password": "password-" + u.handle}).want(e.t, 201, "")
	return r.body["token"].(string)
}

// sessionID returns the ID of the session token belongs to.
func (e *testEnv) sessionID(token string) string {
	e.t.Helper()
	for _, it := range e.do("GET", "/api/v1/me/sessions", token, nil).want(e.t, 200, "").body["items"].([]any) {
		if s := it.(map[string]any); s["current"] == true {
			return s["id"].(string)
		}
	}
	e.t.Fatal("no current session")
	return ""
}

// standingCases are the ways a session or an account's standing ends:
// each acts on bob, whose stream runs in session `victim`, from his
// other session `other` or as an admin; and says how the stream must
// close and how REST must then answer bob's victim session.
var standingCases = []struct {
	name       string
	act        func(e *testEnv, bob user, other string, admin user)
	code       websocket.StatusCode
	restStatus int
	restCode   string
}{
	{"revoke", func(e *testEnv, bob user, other string, _ user) {
		e.do("DELETE", "/api/v1/me/sessions/"+e.sessionID(bob.token), other, nil).want(e.t, 204, "")
	}, realtime.StatusSessionEnded, 401, "unauthenticated"},
	{"logout", func(e *testEnv, bob user, _ string, _ user) {
		e.do("DELETE", "/api/v1/sessions/current", bob.token, nil).want(e.t, 204, "")
	}, realtime.StatusSessionEnded, 401, "unauthenticated"},
	{"password change", func(e *testEnv, bob user, other string, _ user) {
		e.do("POST", "/api/v1/me/password", other, map[string]any{"current_password": "password-bob", "new_password": "a new long password"}).want(e.t, 204, "")
	}, realtime.StatusSessionEnded, 401, "unauthenticated"},
	{"delete", func(e *testEnv, bob user, other string, _ user) {
		e.do("DELETE", "/api/v1/me", other, map[string]any{"password": "password-bob"}).want(e.t, 202, "")
	}, realtime.StatusSessionEnded, 401, "unauthenticated"},
	{"memorialise", func(e *testEnv, bob user, _ string, admin user) {
		e.do("POST", "/api/v1/admin/accounts/"+bob.id.String()+"/memorialisation", admin.token, map[string]any{"reason": "his family asked"}).want(e.t, 200, "")
	}, realtime.StatusSessionEnded, 401, "unauthenticated"},
	{"suspend", func(e *testEnv, bob user, _ string, admin user) {
		e.do("POST", "/api/v1/admin/accounts/"+bob.id.String()+"/suspension", admin.token, map[string]any{"reason": "spam"}).want(e.t, 200, "")
	}, realtime.StatusAccountRestricted, 403, "account_suspended"},
	{"close", func(e *testEnv, bob user, _ string, admin user) {
		e.do("POST", "/api/v1/admin/accounts/"+bob.id.String()+"/closure", admin.token, map[string]any{"reason": "fraud"}).want(e.t, 200, "")
	}, realtime.StatusAccountRestricted, 403, "account_closed"},
	{"re-consent", func(e *testEnv, _ user, _ string, admin user) {
		e.do("POST", "/api/v1/admin/terms", admin.token, map[string]any{"title": "Terms v2", "body": "New rules.", "requires_reconsent": true}).want(e.t, 201, "")
	}, realtime.StatusTermsRequired, 403, "terms_acceptance_required"},
}

// TestHostileStreamClosesWhenStandingEnds: an open stream used to outlive
// its session and its account's standing, delivering private messages
// and acking sends. Now it closes at once, with a code that says why.
func TestHostileStreamClosesWhenStandingEnds(t *testing.T) {
	eachEngineOpt(t, func(t *testing.T, opt envOption) {
		for _, tc := range standingCases {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, opt)
				admin := e.withRole("root", account.Admin)
				alice, bob := e.verified("alice"), e.verified("bob")
				e.befriend(alice, bob)
				conv := e.direct(alice, bob)
				other := e.login(bob)
				dev := e.dial(bob, "")
				dev.until("ready")

				tc.act(e, bob, other, admin)
				dev.closedWith(tc.code)

				// A send frame on it goes nowhere: the socket is closed.
				b := []byte(`{"type":"message.send","id":"F1","data":{"conversation_id":"` + conv + `","client_id":"x","kind":"text","text":"still here?"}}`)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := dev.ws.Write(ctx, websocket.MessageText, b); err == nil {
					if _, data, err := dev.ws.Read(ctx); err == nil {
						t.Fatalf("closed stream answered %s", data)
					}
				}
				e.do("GET", "/api/v1/conversations", bob.token, nil).want(t, tc.restStatus, tc.restCode)
				if tc.restCode == "terms_acceptance_required" {
					e.do("POST", "/api/v1/me/consents", alice.token, map[string]any{"version": 2}).want(t, 204, "")
				}
				// Nothing bob's stream sent was stored.
				for _, m := range e.do("GET", "/api/v1/conversations/"+conv+"/messages", alice.token, nil).want(t, 200, "").body["items"].([]any) {
					if m.(map[string]any)["text"] == "still here?" {
						t.Fatal("a send on the closed stream was stored")
					}
				}
			})
		}
	})
}

// dropControls is a bus that loses every control message (and event) on
// the subjects of one account and on realtime.AllSubject: the news of a
// standing change never reaches the stream.
type dropControls struct {
	bus.Bus
	subject string
}

func (d *dropControls) Publish(ctx context.Context, subject string, data []byte) error {
	if subject == d.subject || subject == realtime.AllSubject {
		return nil
	}
	return d.Bus.Publish(ctx, subject, data)
}

// TestHostileStreamSendChecksStanding loses the bus message that would
// close the stream: a send frame must still be refused the way REST
// refuses it, never acked.
func TestHostileStreamSendChecksStanding(t *testing.T) {
	eachEngineOpt(t, func(t *testing.T, opt envOption) {
		for _, tc := range standingCases {
			if tc.name == "logout" {
				continue // same as revoke from the stream's side
			}
			t.Run(tc.name, func(t *testing.T) {
				d := &dropControls{}
				e := newEnv(t, opt, func(c *envConfig) {
					c.wrapBus = func(b bus.Bus) bus.Bus { d.Bus = b; return d }
				})
				admin := e.withRole("root", account.Admin)
				alice, bob := e.verified("alice"), e.verified("bob")
				d.subject = "acct." + bob.id.String()
				e.befriend(alice, bob)
				conv := e.direct(alice, bob)
				other := e.login(bob)
				dev := e.dial(bob, "")
				dev.until("ready")

				tc.act(e, bob, other, admin)
				dev.sendFrame(map[string]any{"type": "message.send", "id": "F1", "data": map[string]any{"conversation_id": conv, "client_id": "late", "kind": "text", "text": "after the end"}})
				f := dev.next()
				if f["type"] != "error" || f["id"] != "F1" {
					t.Fatalf("got %v, want an error frame for F1", f)
				}
				if got := f["data"].(map[string]any)["code"]; got != tc.restCode {
					t.Errorf("got error code %v, want %s", got, tc.restCode)
				}
			})
		}
	})
}

// TestHostileSendToClosedAccount: messages to a closed or deleted account
// were accepted though nobody would ever read them.
func TestHostileSendToClosedAccount(t *testing.T) {
	eachEngineOpt(t, func(t *testing.T, opt envOption) {
		e := newEnv(t, opt)
		admin := e.withRole("root", account.Admin)
		alice, bob, carol := e.verified("alice"), e.verified("bob"), e.verified("carol")
		e.befriend(alice, bob)
		e.befriend(alice, carol)
		toBob, toCarol := e.direct(alice, bob), e.direct(alice, carol)
		e.send(alice, toBob, "b1", "hi").want(t, 201, "")

		e.do("POST", "/api/v1/admin/accounts/"+bob.id.String()+"/closure", admin.token, map[string]any{"reason": "fraud"}).want(t, 200, "")
		e.do("DELETE", "/api/v1/me", carol.token, map[string]any{"password": "password-carol"}).want(t, 202, "")
		if err := e.accounts.Erase(t.Context(), carol.id); err != nil {
			t.Fatal(err)
		}

		r := e.send(alice, toBob, "b2", "are you there?").want(t, http.StatusGone, "gone")
		if r.details()["status"] != "closed" {
			t.Errorf("got details %v, want status closed", r.details())
		}
		e.send(alice, toCarol, "c1", "hello?").want(t, http.StatusGone, "gone")
		dev := e.dial(alice, "")
		dev.until("ready")
		dev.sendFrame(map[string]any{"type": "message.send", "id": "F1", "data": map[string]any{"conversation_id": toBob, "client_id": "b3", "kind": "text", "text": "hello"}})
		if f := dev.until("error"); f["data"].(map[string]any)["code"] != "gone" {
			t.Errorf("got %v, want a gone error", f)
		}
	})
}

// TestHostileStreamCaps: an account or session could hold any number of
// streams. Past a cap the oldest is closed with 4009.
func TestHostileStreamCaps(t *testing.T) {
	eachEngineOpt(t, func(t *testing.T, opt envOption) {
		e := newEnv(t, opt, func(c *envConfig) { c.streams = realtime.Limits{PerAccount: 3, PerSession: 2} })
		bob := e.verified("bob")
		s1 := e.dial(bob, "")
		s1.until("ready")
		s2 := e.dial(bob, "")
		s2.until("ready")
		s3 := e.dial(bob, "") // third in the session: s1 goes
		s3.until("ready")
		s1.closedWith(realtime.StatusReplaced)

		other := user{id: bob.id, handle: bob.handle, token: e.login(bob)}
		t1 := e.dial(other, "") // third in the account: fine
		t1.until("ready")
		t2 := e.dial(other, "") // fourth in the account: s2 goes
		t2.until("ready")
		s2.closedWith(realtime.StatusReplaced)

		// The survivors still work.
		alice := e.verified("alice")
		e.befriend(alice, bob)
		conv := e.direct(alice, bob)
		e.send(alice, conv, "m1", "still there").want(t, 201, "")
		for _, s := range []*stream{s3, t1, t2} {
			s.until("message.created")
		}
	})
}

// TestHostileStreamCapsOff: without limits (--rate-limits off) streams
// are not capped.
func TestHostileStreamCapsOff(t *testing.T) {
	e := newEnv(t)
	bob := e.verified("bob")
	var all []*stream
	for range 5 {
		s := e.dial(bob, "")
		s.until("ready")
		all = append(all, s)
	}
	alice := e.verified("alice")
	e.befriend(alice, bob)
	conv := e.direct(alice, bob)
	e.send(alice, conv, "m1", "everyone").want(t, 201, "")
	for _, s := range all {
		s.until("message.created")
	}
}

// TestHostileChangePassword covers POST /api/v1/me/password.
func TestHostileChangePassword(t *testing.T) {
	eachEngineOpt(t, func(t *testing.T, opt envOption) {
		e := newEnv(t, opt, withRateLimits, func(c *envConfig) {
			c.LoginPerAccount.N = 6 // two sign-ins and four password attempts below
		})
		bob := e.verified("bob")
		other := e.login(bob)
		otherStream := e.dial(user{id: bob.id, token: other}, "")
		otherStream.until("ready")
		mine := e.dial(bob, "")
		mine.until("ready")

		e.do("POST", "/api/v1/me/password", "", map[string]any{"current_password": "password-bob", "new_password": "another password"}).want(t, 401, "unauthenticated")
		r := e.do("POST", "/api/v1/me/password", bob.token, map[string]any{"current_password": "password-bob", "new_password": "short"}).want(t, 400, "invalid_request")
		if f := fieldsOf(r); len(f) != 1 || f[0] != "new_password" {
			t.Errorf("got invalid fields %v, want [new_password]", f)
		}
		e.do("POST", "/api/v1/me/password", bob.token, map[string]any{"current_password": "password-bob", "new_password": "password-bob"}).want(t, 400, "invalid_request")
		r = e.do("POST", "/api/v1/me/password", bob.token, map[string]any{"current_password": "wrong guess", "new_password": "another password"}).want(t, 403, "forbidden")
		if r.details()["field"] != "current_password" {
			t.Errorf("got details %v, want field current_password", r.details())
		}
		// Another account is not touched.
		carol := e.verified("carol")

		e.do("POST", "/api/v1/me/password", bob.token, map[string]any{"current_password": "password-bob", "new_password": "another password"}).want(t, 204, "")
		otherStream.closedWith(realtime.StatusSessionEnded)
		e.do("GET", "/api/v1/me", other, nil).want(t, 401, "unauthenticated")
		e.do("GET", "/api/v1/me", bob.token, nil).want(t, 200, "")
		e.do("GET", "/api/v1/me", carol.token, nil).want(t, 200, "")
		e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "bob", "password": "password-bob"}).want(t, 401, "unauthenticated")
		// The current session's stream lives on.
		e.befriend(carol, bob)
		conv := e.direct(carol, bob)
		e.send(carol, conv, "m1", "new password?").want(t, 201, "")
		mine.until("message.created")

		// Guesses of the current password are limited like sign-ins.
		var last resp
		for range 4 {
			last = e.do("POST", "/api/v1/me/password", bob.token, map[string]any{"current_password": "guess", "new_password": "yet another password"})
		}
		last.want(t, 429, "rate_limited")
	})
}
