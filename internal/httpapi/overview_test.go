package httpapi

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/plaza-im/plaza/internal/account"
)

// TestAdminOverview counts what waits in each queue, shows each role only
// the queues it works, and refuses everyone without a role.
func TestAdminOverview(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		c := e.newModCast()
		post := e.postText(c.author, "hello overview")
		e.reportTarget(c.reporter, "post", post).want(t, http.StatusCreated, "")
		compliance := e.withRole("kyc", account.Compliance)
		reviewer := e.withRole("rev", account.Reviewer)
		u := e.verified("applicant")
		e.do("POST", "/api/v1/me/identity", u.token, map[string]any{"legal_name": "张三", "document_type": "national_id",
			"document_number": validCNID, "document_country": "CN"}).want(t, http.StatusAccepted, "")

		waiting := func(who user) map[string]any {
			t.Helper()
			r := e.do("GET", "/api/v1/admin/overview", who.token, nil).want(t, http.StatusOK, "")
			if r.body["count_limit"] != float64(1000) {
				t.Errorf("count_limit = %v", r.body["count_limit"])
			}
			return r.body["waiting"].(map[string]any)
		}
		if diff := cmp.Diff(map[string]any{"reports": 1.0, "appeals": 0.0}, waiting(c.mod1)); diff != "" {
			t.Errorf("moderator's queues (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]any{"identity_reviews": 1.0}, waiting(compliance)); diff != "" {
			t.Errorf("compliance's queues (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]any{"channel_applications": 0.0, "post_reviews": 0.0, "microblog_reviews": 0.0}, waiting(reviewer)); diff != "" {
			t.Errorf("reviewer's queues (-want +got):\n%s", diff)
		}
		e.do("GET", "/api/v1/admin/overview", c.stranger.token, nil).want(t, http.StatusForbidden, "forbidden")
		e.do("GET", "/api/v1/admin/overview", "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
	})
}

// TestPhoneCodeSaysWhereItWent tells the client that the code went to the
// development outbox, so the screen can say so instead of "check your phone".
func TestPhoneCodeSaysWhereItWent(t *testing.T) {
	for _, outbox := range []bool{true, false} {
		e := newEnv(t, func(c *envConfig) { c.SMSOutbox = outbox })
		u := e.register("someone")
		r := e.do("POST", "/api/v1/me/phone", u.token, map[string]any{"phone": "+8613800138000"}).want(t, http.StatusAccepted, "")
		want := map[bool]string{true: "outbox", false: "sms"}[outbox]
		if r.body["delivery"] != want {
			t.Errorf("SMSOutbox %v: delivery = %v, want %q", outbox, r.body["delivery"], want)
		}
	}
}
