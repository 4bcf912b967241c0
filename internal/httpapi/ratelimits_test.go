package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/ratelimit"
)

// withAccountLimits turns rate limits on with the given per-account
// limits, keeping the per-address ones out of a test's way.
func withAccountLimits(l chat.Limits, uploads ratelimit.Rate) envOption {
	return func(c *envConfig) {
		c.RateLimits = true
		c.chat.Limits = l
		c.UploadsPerAccount = uploads
		c.RegisterPerIP = ratelimit.Rate{N: 1000, Per: time.Hour}
		c.PhonePerIP = ratelimit.Rate{N: 1000, Per: time.Hour}
	}
}

func perHour(n int) ratelimit.Rate { return ratelimit.Rate{N: n, Per: time.Hour} }

// wantLimited checks a 429 rate_limited answer with a Retry-After header
// that agrees with details.retry_after_seconds, and the budget's name.
func wantLimited(tb testing.TB, r resp, limit string) {
	tb.Helper()
	r.want(tb, http.StatusTooManyRequests, "rate_limited")
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || float64(secs) != r.details()["retry_after_seconds"] {
		tb.Errorf("Retry-After %q and details %v: want equal whole seconds >= 1", r.header.Get("Retry-After"), r.details())
	}
	if r.details()["limit"] != limit {
		tb.Errorf("details.limit = %v, want %s", r.details()["limit"], limit)
	}
}

// TestHostileRESTSendsLimited: a script posting messages is cut off at
// the burst with 429 and Retry-After; the other member sends on.
func TestHostileRESTSendsLimited(t *testing.T) {
	e := newEnv(t, withAccountLimits(chat.Limits{Sends: perHour(3)}, ratelimit.Rate{}))
	alice, bob := e.verified("alice"), e.verified("bob")
	e.befriend(alice, bob)
	conv := e.direct(alice, bob)
	for i := 0; i < 3; i++ {
		e.send(alice, conv, fmt.Sprint("c", i), "hi").want(t, 201, "")
	}
	wantLimited(t, e.send(alice, conv, "c3", "one too many"), "sends")
	e.send(bob, conv, "b0", "not limited").want(t, 201, "")
}

// TestHostileStreamFramesLimited pipelines send frames past the limit:
// each extra one gets an error frame with the same code and details, and
// REST and the stream draw on one budget.
func TestHostileStreamFramesLimited(t *testing.T) {
	e := newEnv(t, withAccountLimits(chat.Limits{Sends: perHour(3)}, ratelimit.Rate{}))
	alice, bob := e.verified("alice"), e.verified("bob")
	e.befriend(alice, bob)
	conv := e.direct(alice, bob)
	e.send(alice, conv, "rest", "over REST").want(t, 201, "")
	dev := e.dial(alice, "")
	dev.until("ready")
	const frames = 6
	for i := 0; i < frames; i++ {
		dev.sendFrame(map[string]any{"type": "message.send", "id": fmt.Sprint("f", i),
			"data": map[string]any{"conversation_id": conv, "client_id": fmt.Sprint("f", i), "kind": "text", "text": "hi"}})
	}
	acks, limited := 0, 0
	for acks+limited < frames {
		f := dev.next()
		switch f["type"] {
		case "message.ack":
			acks++
		case "error":
			d := f["data"].(map[string]any)
			details, _ := d["details"].(map[string]any)
			if d["code"] != "rate_limited" || details["retry_after_seconds"] == nil || details["limit"] != "sends" {
				t.Fatalf("error frame %v, want rate_limited with retry_after_seconds", f)
			}
			limited++
		}
	}
	if acks != 2 || limited != frames-2 {
		t.Errorf("got %d acks and %d rate_limited frames, want 2 and %d", acks, limited, frames-2)
	}
	wantLimited(t, e.send(alice, conv, "rest2", "REST shares the budget"), "sends")
}

// TestHostileSocialActionsLimited: contact requests, new groups and
// people added to groups each stop at their budget with 429.
func TestHostileSocialActionsLimited(t *testing.T) {
	e := newEnv(t, withAccountLimits(chat.Limits{ContactRequests: perHour(4), Groups: perHour(1), Invitations: perHour(2)}, ratelimit.Rate{}))
	alice := e.verified("alice")
	f1, f2, f3, f4 := e.verified("friend_1"), e.verified("friend_2"), e.verified("friend_3"), e.verified("friend_4")
	for _, f := range []user{f1, f2, f3} {
		e.befriend(alice, f)
	}
	e.do("POST", "/api/v1/contacts/requests", alice.token, map[string]any{"account_id": f4.id.String()}).want(t, 201, "")
	stranger := e.verified("stranger")
	wantLimited(t, e.do("POST", "/api/v1/contacts/requests", alice.token, map[string]any{"account_id": stranger.id.String()}), "contact_requests")

	g := e.do("POST", "/api/v1/conversations", alice.token, map[string]any{"kind": "group", "title": "g", "member_ids": []string{f1.id.String()}}).want(t, 201, "")
	wantLimited(t, e.do("POST", "/api/v1/conversations", alice.token, map[string]any{"kind": "group", "title": "g2", "member_ids": []string{f2.id.String()}}), "groups")

	members := "/api/v1/conversations/" + g.body["id"].(string) + "/members"
	wantLimited(t, e.do("POST", members, alice.token, map[string]any{"account_ids": []string{f2.id.String(), f3.id.String()}}), "invitations")
	e.do("POST", members, alice.token, map[string]any{"account_ids": []string{f2.id.String()}}).want(t, 200, "")
	wantLimited(t, e.do("POST", members, alice.token, map[string]any{"account_ids": []string{f3.id.String()}}), "invitations")
}

// TestHostileUploadsLimited: whole and resumable uploads draw on one
// budget per account.
func TestHostileUploadsLimited(t *testing.T) {
	e := newEnv(t, withAccountLimits(chat.Limits{}, perHour(2)))
	alice, bob := e.register("alice"), e.register("bob")
	img := pngFixture(t, 8, 8)
	e.upload(alice, "a.png", "image/png", img).want(t, 201, "")
	e.upload(alice, "b.png", "image/png", img).want(t, 201, "")
	wantLimited(t, e.upload(alice, "c.png", "image/png", img), "uploads")
	res, err := e.tus("POST", "/api/v1/uploads", alice.token, nil, map[string]string{"Upload-Length": "10"})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("resumable upload past the limit: got %d, Retry-After %q; want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	e.upload(bob, "b.png", "image/png", img).want(t, 201, "")
}

// TestHostileRateLimitsOffLiftsUploads: with rate limits off the upload
// budget is not enforced (the chat limits are left unset by the server
// then; see cmd/plaza).
func TestHostileRateLimitsOffLiftsUploads(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.UploadsPerAccount = perHour(1) })
	alice := e.register("alice")
	for i := 0; i < 3; i++ {
		e.upload(alice, "a.png", "image/png", pngFixture(t, 8, 8)).want(t, 201, "")
	}
}
