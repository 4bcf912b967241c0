package httpapi

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/push"
)

// pushService is a push service for tests. Each subscription it hands out
// has its own key pair and auth secret; it decrypts every push per RFC
// 8291 (aes128gcm, RFC 8188) with them, checks the VAPID Authorization
// header (RFC 8292: an ES256 JWT for the endpoint's origin, signed with
// the server's key), and records what it got.
type pushService struct {
	t     testing.TB
	srv   *httptest.Server
	vapid string // the server's public key, base64url
	// status is what it answers (0: 201 Created).
	status atomic.Int32

	mu   sync.Mutex
	subs map[string]*testSub // by path
	got  []pushed
	errs []error
}

// testSub is a browser's subscription: its endpoint and secrets.
type testSub struct {
	path string
	priv *ecdh.PrivateKey
	auth []byte
}

// pushed is one push as the browser would see it.
type pushed struct {
	path                string
	payload             map[string]any
	ttl, urgency, topic string
}

func newPushService(tb testing.TB, vapid string) *pushService {
	tb.Helper()
	ps := &pushService{t: tb, vapid: vapid, subs: map[string]*testSub{}}
	ps.srv = httptest.NewServer(http.HandlerFunc(ps.serve))
	tb.Cleanup(ps.srv.Close)
	return ps
}

// subscription returns a new subscription's request body.
func (ps *pushService) subscription(name string) (map[string]any, *testSub) {
	ps.t.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		ps.t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	s := &testSub{path: "/push/" + name, priv: priv, auth: auth}
	ps.mu.Lock()
	ps.subs[s.path] = s
	ps.mu.Unlock()
	return map[string]any{"endpoint": ps.srv.URL + s.path, "keys": map[string]any{
		"p256dh": base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		"auth":   base64.RawURLEncoding.EncodeToString(auth),
	}}, s
}

func (ps *pushService) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ps.mu.Lock()
	sub := ps.subs[r.URL.Path]
	ps.mu.Unlock()
	if sub == nil {
		http.NotFound(w, r)
		return
	}
	p, err := ps.check(r, sub, body)
	ps.mu.Lock()
	if err != nil {
		ps.errs = append(ps.errs, err)
	} else {
		ps.got = append(ps.got, p)
	}
	ps.mu.Unlock()
	status := int(ps.status.Load())
	if status == 0 {
		status = http.StatusCreated
	}
	w.WriteHeader(status)
}

// check verifies the VAPID header and decrypts the body.
func (ps *pushService) check(r *http.Request, sub *testSub, body []byte) (pushed, error) {
	if r.Method != "POST" || r.Header.Get("Content-Encoding") != "aes128gcm" {
		return pushed{}, fmt.Errorf("got %s with Content-Encoding %q, want POST aes128gcm", r.Method, r.Header.Get("Content-Encoding"))
	}
	if err := ps.checkVAPID(r.Header.Get("Authorization")); err != nil {
		return pushed{}, err
	}
	plain, err := decryptPush(sub.priv, sub.auth, body)
	if err != nil {
		return pushed{}, err
	}
	var payload map[string]any
	if err := json.Unmarshal(plain, &payload); err != nil {
		return pushed{}, fmt.Errorf("payload %q: %v", plain, err)
	}
	return pushed{path: sub.path, payload: payload, ttl: r.Header.Get("TTL"), urgency: r.Header.Get("Urgency"), topic: r.Header.Get("Topic")}, nil
}

// checkVAPID checks "vapid t=JWT, k=KEY" (RFC 8292).
func (ps *pushService) checkVAPID(h string) error {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return fmt.Errorf("authorization %q is not vapid", h)
	}
	var token, key string
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "t="); ok {
			token = v
		} else if v, ok := strings.CutPrefix(part, "k="); ok {
			key = v
		}
	}
	if key != ps.vapid {
		return fmt.Errorf("vapid k=%q, want the server's key %q", key, ps.vapid)
	}
	pubBytes, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return err
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pubBytes)
	if err != nil {
		return err
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("vapid t is not a JWT: %q", token)
	}
	var header struct{ Alg string }
	var claims struct {
		Aud string
		Sub string
		Exp int64
	}
	for i, v := range []any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return err
		}
	}
	if header.Alg != "ES256" {
		return fmt.Errorf("JWT alg %q, want ES256", header.Alg)
	}
	if claims.Aud != ps.srv.URL {
		return fmt.Errorf("JWT aud %q, want the endpoint's origin %q", claims.Aud, ps.srv.URL)
	}
	if !strings.HasPrefix(claims.Sub, "mailto:") || strings.HasPrefix(claims.Sub, "mailto:mailto:") {
		return fmt.Errorf("JWT sub %q, want one mailto: contact", claims.Sub)
	}
	if exp := time.Unix(claims.Exp, 0); exp.Before(time.Now()) || exp.After(time.Now().Add(24*time.Hour)) {
		return fmt.Errorf("JWT exp %v, want within 24 hours", exp)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("JWT signature is not 64 bytes r||s")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("JWT signature does not verify with the VAPID key")
	}
	return nil
}

// decryptPush decrypts an aes128gcm push body (RFC 8188) with the
// subscription's private key and auth secret, per RFC 8291 §3.3–3.4.
func decryptPush(priv *ecdh.PrivateKey, auth, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("body shorter than its header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen {
		return nil, fmt.Errorf("keyid of %d bytes, want the sender's 65-byte public key", idlen)
	}
	senderPub, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, err
	}
	ciphertext := body[21+idlen:]
	if uint32(len(ciphertext)) > rs || len(ciphertext) < 17 {
		return nil, fmt.Errorf("%d bytes of ciphertext for a record size of %d: want one record", len(ciphertext), rs)
	}
	secret, err := priv.ECDH(senderPub)
	if err != nil {
		return nil, err
	}
	// IKM = HKDF(auth, ecdh_secret, "WebPush: info" || 0 || ua_public || as_public, 32)
	prkKey, err := hkdf.Extract(sha256.New, secret, auth)
	if err != nil {
		return nil, err
	}
	info := "WebPush: info\x00" + string(priv.PublicKey().Bytes()) + string(senderPub.Bytes())
	ikm, err := hkdf.Expand(sha256.New, prkKey, info, 32)
	if err != nil {
		return nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ciphertext, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	// The last record: data, the delimiter 0x02, then zero padding.
	plain = bytes.TrimRight(plain, "\x00")
	if len(plain) == 0 || plain[len(plain)-1] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return plain[:len(plain)-1], nil
}

// pushes returns what arrived so far, failing the test on any push that
// did not decrypt or verify.
func (ps *pushService) pushes() []pushed {
	ps.t.Helper()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, err := range ps.errs {
		ps.t.Errorf("a push failed the checks: %v", err)
	}
	return append([]pushed(nil), ps.got...)
}

// waitPushes waits until n pushes have arrived and returns them.
func (ps *pushService) waitPushes(n int) []pushed {
	ps.t.Helper()
	var got []pushed
	plazatest.Eventually(ps.t, 10*time.Second, func() error {
		if got = ps.pushes(); len(got) < n {
			return fmt.Errorf("got %d pushes, want %d", len(got), n)
		}
		return nil
	})
	return got
}

// oneSender sends pushes one at a time, so they arrive in the order of
// their events: a later push arriving shows that an earlier event sent
// none.
func oneSender(c *envConfig) { c.push = func(pc *push.Config) { pc.Senders = 1 } }

// pushEnv returns a server and a push service for its key.
func pushEnv(t *testing.T) (*testEnv, *pushService) {
	e := newEnv(t, oneSender)
	return e, newPushService(t, e.push.PublicKey())
}

// subscribe subscribes u's session and returns the subscription.
func (e *testEnv) subscribe(ps *pushService, u user, name string) *testSub {
	e.t.Helper()
	body, sub := ps.subscription(name)
	e.do("POST", "/api/v1/me/push-subscriptions", u.token, body).want(e.t, http.StatusCreated, "")
	return sub
}

func TestPushAPI(t *testing.T) {
	e, ps := pushEnv(t)
	alice, bob := e.register("alice"), e.register("bob")

	for _, rt := range []struct{ method, path string }{
		{"GET", "/api/v1/push/vapid-key"},
		{"POST", "/api/v1/me/push-subscriptions"},
		{"GET", "/api/v1/me/push-subscriptions"},
		{"DELETE", "/api/v1/me/push-subscriptions/1"},
		{"PUT", "/api/v1/conversations/1/mute"},
	} {
		e.do(rt.method, rt.path, "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
	}

	key := e.do("GET", "/api/v1/push/vapid-key", alice.token, nil).want(t, 200, "")
	raw, err := base64.RawURLEncoding.DecodeString(key.body["public_key"].(string))
	if err != nil || len(raw) != 65 || raw[0] != 4 {
		t.Fatalf("public_key %v: want base64url of a 65-byte uncompressed point", key.body["public_key"])
	}

	body, _ := ps.subscription("a1")
	created := e.do("POST", "/api/v1/me/push-subscriptions", alice.token, body).want(t, 201, "")
	id := created.body["id"].(string)
	if created.body["endpoint"] != body["endpoint"] || created.body["created_at"] == nil {
		t.Errorf("created %s", created.raw)
	}
	again := e.do("POST", "/api/v1/me/push-subscriptions", alice.token, body).want(t, 200, "")
	if again.body["id"] != id {
		t.Errorf("subscribing again gave id %v, want %v", again.body["id"], id)
	}
	list := e.do("GET", "/api/v1/me/push-subscriptions", alice.token, nil).want(t, 200, "")
	if items := list.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id {
		t.Errorf("list %s, want the one subscription", list.raw)
	}
	if strings.Contains(string(list.raw), "p256dh") || strings.Contains(string(list.raw), "auth") {
		t.Errorf("list shows keys: %s", list.raw)
	}

	// Another account cannot delete it, nor see it.
	e.do("DELETE", "/api/v1/me/push-subscriptions/"+id, bob.token, nil).want(t, 404, "not_found")
	if items := e.do("GET", "/api/v1/me/push-subscriptions", bob.token, nil).body["items"].([]any); len(items) != 0 {
		t.Errorf("bob lists %v", items)
	}
	// The same browser signed in as bob: the endpoint moves to bob.
	moved := e.do("POST", "/api/v1/me/push-subscriptions", bob.token, body).want(t, 200, "")
	if items := e.do("GET", "/api/v1/me/push-subscriptions", alice.token, nil).body["items"].([]any); len(items) != 0 {
		t.Errorf("alice still lists %v after the endpoint moved to bob", items)
	}
	e.do("DELETE", "/api/v1/me/push-subscriptions/"+moved.body["id"].(string), alice.token, nil).want(t, 404, "not_found")
	e.do("DELETE", "/api/v1/me/push-subscriptions/"+moved.body["id"].(string), bob.token, nil).want(t, 204, "")
	e.do("DELETE", "/api/v1/me/push-subscriptions/"+moved.body["id"].(string), bob.token, nil).want(t, 404, "not_found")

	good := body["keys"].(map[string]any)
	for _, tc := range []struct {
		name, field string
		body        map[string]any
	}{
		{"p256dh short", "keys.p256dh", map[string]any{"endpoint": ps.srv.URL + "/x", "keys": map[string]any{"p256dh": "BAAA", "auth": good["auth"]}}},
		{"p256dh off the curve", "keys.p256dh", map[string]any{"endpoint": ps.srv.URL + "/x", "keys": map[string]any{"p256dh": base64.RawURLEncoding.EncodeToString(append([]byte{4}, make([]byte, 64)...)), "auth": good["auth"]}}},
		{"auth of 15 bytes", "keys.auth", map[string]any{"endpoint": ps.srv.URL + "/x", "keys": map[string]any{"p256dh": good["p256dh"], "auth": base64.RawURLEncoding.EncodeToString(make([]byte, 15))}}},
		{"http to a public host", "endpoint", map[string]any{"endpoint": "http://push.example.com/x", "keys": good}},
		{"private address", "endpoint", map[string]any{"endpoint": "https://10.0.0.8/x", "keys": good}},
		{"not a URL", "endpoint", map[string]any{"endpoint": "push", "keys": good}},
		{"too long", "endpoint", map[string]any{"endpoint": "https://push.example.com/" + strings.Repeat("a", 2048), "keys": good}},
		{"missing keys", "keys.p256dh", map[string]any{"endpoint": "https://push.example.com/x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/me/push-subscriptions", alice.token, tc.body).want(t, 400, "invalid_request")
			if !strings.Contains(string(r.raw), `"field":"`+tc.field+`"`) {
				t.Errorf("got %s, want the field %s named", r.raw, tc.field)
			}
		})
	}
}

func TestPushSubscriptionsCapped(t *testing.T) {
	e, ps := pushEnv(t)
	alice := e.register("alice")
	var first string
	for i := range push.MaxSubscriptions + 1 {
		body, _ := ps.subscription(fmt.Sprint("s", i))
		r := e.do("POST", "/api/v1/me/push-subscriptions", alice.token, body).want(t, 201, "")
		if i == 0 {
			first = r.body["id"].(string)
		}
	}
	items := e.do("GET", "/api/v1/me/push-subscriptions", alice.token, nil).body["items"].([]any)
	if len(items) != push.MaxSubscriptions {
		t.Fatalf("got %d subscriptions, want %d", len(items), push.MaxSubscriptions)
	}
	for _, it := range items {
		if it.(map[string]any)["id"] == first {
			t.Errorf("the oldest subscription %s is still there", first)
		}
	}
}

func TestPushEndsWithSession(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		ps := newPushService(t, e.push.PublicKey())
		alice := e.register("alice")
		e.subscribe(ps, alice, "signout")
		e.do("DELETE", "/api/v1/sessions/current", alice.token, nil).want(t, 204, "")
		again := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "alice", "password": "password-alice"}).want(t, 201, "")
		alice.token = again.body["token"].(string)
		if items := e.do("GET", "/api/v1/me/push-subscriptions", alice.token, nil).body["items"].([]any); len(items) != 0 {
			t.Fatalf("after signing out, subscriptions %v remain", items)
		}

		// Revoking another session deletes that session's subscriptions only.
		other := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "alice", "password": "password-alice"}).want(t, 201, "")
		phone := user{id: alice.id, token: other.body["token"].(string)}
		e.subscribe(ps, phone, "phone")
		e.subscribe(ps, alice, "laptop")
		sessions := e.do("GET", "/api/v1/me/sessions", alice.token, nil).want(t, 200, "").body["items"].([]any)
		for _, s := range sessions {
			if s := s.(map[string]any); s["current"] != true {
				e.do("DELETE", "/api/v1/me/sessions/"+s["id"].(string), alice.token, nil).want(t, 204, "")
			}
		}
		items := e.do("GET", "/api/v1/me/push-subscriptions", alice.token, nil).body["items"].([]any)
		if len(items) != 1 || !strings.HasSuffix(items[0].(map[string]any)["endpoint"].(string), "/push/laptop") {
			t.Fatalf("after revoking the other session, subscriptions %v; want the laptop's alone", items)
		}
	}, oneSender)
}

func TestPushWhenOffline(t *testing.T) {
	e, ps := pushEnv(t)
	alice, bob := e.verified("alice"), e.verified("bob")
	e.befriend(alice, bob)
	conv := e.direct(alice, bob)
	e.subscribe(ps, alice, "alice")
	e.subscribe(ps, bob, "bob")

	e.send(alice, conv, "m1", "hello bob, how are you today?").want(t, 201, "")
	got := ps.waitPushes(1)
	p := got[0]
	if p.path != "/push/bob" {
		t.Fatalf("push went to %s, want bob's (never the sender's)", p.path)
	}
	want := map[string]any{"type": "message.created", "conversation_id": conv, "title": "ALICE", "body": "hello bob, how are you today?", "url": "/chats/" + conv}
	for k, v := range want {
		if p.payload[k] != v {
			t.Errorf("payload %s = %v, want %v", k, p.payload[k], v)
		}
	}
	if p.ttl != "86400" || p.urgency != "high" || p.topic != "c"+conv {
		t.Errorf("headers TTL %q Urgency %q Topic %q, want 86400, high, c%s", p.ttl, p.urgency, p.topic, conv)
	}

	// A long message is previewed, not sent whole.
	e.send(alice, conv, "m2", strings.Repeat("long ", 100)).want(t, 201, "")
	got = ps.waitPushes(2)
	if body := got[1].payload["body"].(string); len([]rune(body)) > 120 || !strings.HasSuffix(body, "…") {
		t.Errorf("body %q: want a preview of at most 120 characters", body)
	}
}

func TestNoPushWhileConnected(t *testing.T) {
	e, ps := pushEnv(t)
	alice, bob := e.verified("alice"), e.verified("bob")
	e.befriend(alice, bob)
	conv := e.direct(alice, bob)
	e.subscribe(ps, bob, "bob")

	device := e.dial(bob, "")
	device.until("ready")
	e.send(alice, conv, "m1", "while connected").want(t, 201, "")
	device.until("message.created")
	_ = device.ws.CloseNow()
	// Once the device has gone everywhere, pushes resume.
	plazatest.Eventually(t, 10*time.Second, func() error {
		var n int
		if err := e.db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM push_presence WHERE account_id = $1`, bob.id).Scan(&n); err != nil {
			return err
		}
		if e.api.hub.Connections() > 0 || n > 0 {
			return fmt.Errorf("bob still present (%d connections, %d presence rows)", e.api.hub.Connections(), n)
		}
		return nil
	})
	e.send(alice, conv, "m2", "after leaving").want(t, 201, "")
	got := ps.waitPushes(1)
	if len(got) != 1 || got[0].payload["body"] != "after leaving" {
		t.Fatalf("pushes %v: want only the one sent while offline", got)
	}
}

func TestPushMuteAndMention(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		ps := newPushService(t, e.push.PublicKey())
		alice, bob, carol := e.verified("alice"), e.verified("bob"), e.verified("carol")
		e.befriend(alice, bob)
		e.befriend(alice, carol)
		g := e.do("POST", "/api/v1/conversations", alice.token, map[string]any{"kind": "group", "title": "Team", "member_ids": []string{bob.id.String(), carol.id.String()}}).want(t, 201, "")
		conv := g.body["id"].(string)
		e.subscribe(ps, bob, "bob")

		e.do("PUT", "/api/v1/conversations/"+conv+"/mute", carol.token, map[string]any{"muted": "yes"}).want(t, 400, "invalid_request")
		e.do("PUT", "/api/v1/conversations/"+conv+"/mute", carol.token, map[string]any{"muted": true, "until": "tomorrow"}).want(t, 400, "invalid_request")
		e.do("PUT", "/api/v1/conversations/"+conv+"/mute", carol.token, map[string]any{"muted": true, "until": "2001-01-01T00:00:00Z"}).want(t, 400, "invalid_request")
		stranger := e.verified("stranger")
		e.do("PUT", "/api/v1/conversations/"+conv+"/mute", stranger.token, map[string]any{"muted": true}).want(t, 404, "not_found")
		until := time.Now().Add(time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
		m := e.do("PUT", "/api/v1/conversations/"+conv+"/mute", carol.token, map[string]any{"muted": true, "until": until}).want(t, 200, "")
		if m.body["muted"] != true || m.body["until"] != until {
			t.Errorf("mute answered %s, want muted until %s", m.raw, until)
		}
		m = e.do("PUT", "/api/v1/conversations/"+conv+"/mute", bob.token, map[string]any{"muted": true}).want(t, 200, "")
		if m.body["muted"] != true || m.body["until"] != nil {
			t.Errorf("mute answered %s, want muted with until null", m.raw)
		}
		items := e.do("GET", "/api/v1/conversations", bob.token, nil).want(t, 200, "").body["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["muted"] != true {
			t.Errorf("bob's list %v: want the group muted", items)
		}
		if items := e.do("GET", "/api/v1/conversations", alice.token, nil).body["items"].([]any); items[0].(map[string]any)["muted"] != false {
			t.Errorf("alice's list %v: want the group not muted for her", items)
		}

		e.send(alice, conv, "m1", "plain news").want(t, 201, "")
		e.send(alice, conv, "m2", "email bob@bobby.example about it").want(t, 201, "")
		e.send(alice, conv, "m3", "@BOB, can you look?").want(t, 201, "")
		got := ps.waitPushes(1)
		if len(got) != 1 || got[0].payload["body"] != "ALICE: @BOB, can you look?" || got[0].payload["title"] != "Team" || got[0].urgency != "high" {
			t.Fatalf("pushes %v: want only the mention, through the mute", got)
		}

		// Unmuted, plain messages push again.
		e.do("PUT", "/api/v1/conversations/"+conv+"/mute", bob.token, map[string]any{"muted": false}).want(t, 200, "")
		e.send(alice, conv, "m4", "plain again").want(t, 201, "")
		got = ps.waitPushes(2)
		if got[1].payload["body"] != "ALICE: plain again" || got[1].urgency != "normal" {
			t.Errorf("push %v: want the plain message, normal urgency", got[1])
		}
	}, oneSender)
}

func TestPushGoneSubscriptionDeleted(t *testing.T) {
	e, ps := pushEnv(t)
	alice, bob := e.verified("alice"), e.verified("bob")
	e.befriend(alice, bob)
	conv := e.direct(alice, bob)
	e.subscribe(ps, bob, "bob")
	ps.status.Store(http.StatusGone)
	e.send(alice, conv, "m1", "hello").want(t, 201, "")
	ps.waitPushes(1)
	plazatest.Eventually(t, 10*time.Second, func() error {
		if items := e.do("GET", "/api/v1/me/push-subscriptions", bob.token, nil).body["items"].([]any); len(items) != 0 {
			return fmt.Errorf("subscription still listed after 410: %v", items)
		}
		return nil
	})
}

func TestPushRetriesFailures(t *testing.T) {
	e, ps := pushEnv(t)
	alice, bob := e.verified("alice"), e.verified("bob")
	e.befriend(alice, bob)
	conv := e.direct(alice, bob)
	e.subscribe(ps, bob, "bob")
	ps.status.Store(http.StatusServiceUnavailable)
	e.send(alice, conv, "m1", "hello").want(t, 201, "")
	// Three tries, then it gives up; the subscription stays.
	ps.waitPushes(3)
	if items := e.do("GET", "/api/v1/me/push-subscriptions", bob.token, nil).body["items"].([]any); len(items) != 1 {
		t.Errorf("after failures, subscriptions %v; want it kept", items)
	}
}

// TestPushTimeoutNotRetried: an endpoint that never answers in time holds
// a sender for one Timeout, once, not for every retry; the pushes of
// others still go out.
func TestPushTimeoutNotRetried(t *testing.T) {
	e := newEnv(t, func(c *envConfig) {
		c.push = func(pc *push.Config) { pc.Senders = 1; pc.Timeout = 100 * time.Millisecond }
	})
	ps := newPushService(t, e.push.PublicKey())
	var hits atomic.Int32
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	t.Cleanup(stall.Close)
	alice, bob, carol := e.verified("alice"), e.verified("bob"), e.verified("carol")
	e.befriend(alice, bob)
	e.befriend(alice, carol)
	body, _ := ps.subscription("bob")
	body["endpoint"] = stall.URL + "/never"
	e.do("POST", "/api/v1/me/push-subscriptions", bob.token, body).want(t, http.StatusCreated, "")
	e.subscribe(ps, carol, "carol")
	e.send(alice, e.direct(alice, bob), "m1", "hello bob").want(t, 201, "")
	e.send(alice, e.direct(alice, carol), "m2", "hello carol").want(t, 201, "")
	ps.waitPushes(1)
	time.Sleep(500 * time.Millisecond) // retries would come 10 and 20 ms apart
	if n := hits.Load(); n != 1 {
		t.Errorf("the stalling endpoint was tried %d times, want once", n)
	}
}
