package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/account"
)

// modCast is the cast of the moderation tests: an author, a reporter, a
// stranger, two moderators and an admin.
type modCast struct {
	author, reporter, stranger, mod1, mod2, admin user
}

func (e *testEnv) newModCast() modCast {
	e.t.Helper()
	return modCast{author: e.verified("author"), reporter: e.verified("reporter"), stranger: e.verified("stranger"),
		mod1: e.withRole("mod1", account.Moderator), mod2: e.withRole("mod2", account.Moderator), admin: e.withRole("boss", account.Admin)}
}

// reportPost has u report post id under rule and returns the report.
func (e *testEnv) reportTarget(u user, typ, id string, extra ...any) resp {
	e.t.Helper()
	return e.do("POST", "/api/v1/reports", u.token, with(map[string]any{"target_type": typ, "target_id": id, "rule_id": 2, "comment": "abusive"}, extra...))
}

// openItem returns the one open queue item about target.
func (e *testEnv) openItem(mod user, target string) map[string]any {
	e.t.Helper()
	r := e.do("GET", "/api/v1/admin/reports?status=open", mod.token, nil).want(e.t, http.StatusOK, "")
	for _, it := range r.body["items"].([]any) {
		item := it.(map[string]any)
		if item["target_id"] == target {
			return item
		}
	}
	e.t.Fatalf("no open queue item about %s in %s", target, r.raw)
	return nil
}

// TestModerationAccess calls every moderation endpoint as an anonymous
// caller, an ordinary user, a moderator and an admin.
func TestModerationAccess(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		c := e.newModCast()
		anyID := "12345"
		type call struct{ method, path string }
		calls := []call{
			{"POST", "/api/v1/reports"}, {"GET", "/api/v1/me/reports"}, {"GET", "/api/v1/me/decisions"},
			{"GET", "/api/v1/me/decisions/" + anyID}, {"POST", "/api/v1/me/decisions/" + anyID + "/appeal"},
			{"GET", "/api/v1/admin/reports"}, {"POST", "/api/v1/admin/reports/" + anyID + "/decision"},
			{"POST", "/api/v1/admin/decisions"}, {"GET", "/api/v1/admin/appeals"}, {"POST", "/api/v1/admin/appeals/" + anyID + "/decision"},
			{"POST", "/api/v1/admin/authority-orders"}, {"GET", "/api/v1/admin/authority-orders"}, {"PUT", "/api/v1/admin/rules/1"},
		}
		for _, cl := range calls {
			e.do(cl.method, cl.path, "", map[string]any{}).want(t, http.StatusUnauthorized, "unauthenticated")
		}
		// Public: the rules and the transparency report.
		rules := e.do("GET", "/api/v1/rules", "", nil).want(t, http.StatusOK, "")
		if n := len(rules.body["items"].([]any)); n != 5 {
			t.Fatalf("%d default rules, want 5", n)
		}
		e.do("GET", "/api/v1/transparency", "", nil).want(t, http.StatusOK, "")
		// Staff routes refuse ordinary users — a reporter and a reported
		// person too, with a report between them; admin routes refuse
		// moderators.
		e.reportTarget(c.reporter, "account", c.author.id.String()).want(t, http.StatusCreated, "")
		for _, u := range []user{c.stranger, c.reporter, c.author} {
			for _, cl := range calls[5:] {
				e.do(cl.method, cl.path, u.token, map[string]any{}).want(t, http.StatusForbidden, "forbidden")
			}
		}
		for _, cl := range []call{{"POST", "/api/v1/admin/authority-orders"}, {"PUT", "/api/v1/admin/rules/1"}} {
			e.do(cl.method, cl.path, c.mod1.token, map[string]any{}).want(t, http.StatusForbidden, "forbidden")
		}
		e.do("GET", "/api/v1/admin/authority-orders", c.mod1.token, nil).want(t, http.StatusOK, "")
		e.do("GET", "/api/v1/admin/reports", c.admin.token, nil).want(t, http.StatusOK, "")
		e.do("PUT", "/api/v1/admin/rules/6", c.admin.token, map[string]any{"title": "Self-harm / 自残", "description": "Promoting self-harm."}).want(t, http.StatusOK, "")
		if n := len(e.do("GET", "/api/v1/rules", "", nil).body["items"].([]any)); n != 6 {
			t.Fatalf("%d rules after adding one, want 6", n)
		}
	})
}

// TestModerationReportDecideAppeal walks a post through report, removal,
// appeal and reversal, checking what each person sees at every step.
func TestModerationReportDecideAppeal(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		c := e.newModCast()
		post := e.postText(c.author, "这是一条谣言 a rumour #news")
		followers := e.postText(c.author, "for followers only", "visibility", "followers")

		// Nobody reports what they cannot see, nor their own post.
		e.reportTarget(c.reporter, "post", followers).want(t, http.StatusNotFound, "not_found")
		e.reportTarget(c.author, "post", post).want(t, http.StatusBadRequest, "invalid_request")
		e.reportTarget(c.reporter, "post", "99999").want(t, http.StatusNotFound, "not_found")
		e.reportTarget(c.reporter, "post", post, "rule_id", 42).want(t, http.StatusBadRequest, "invalid_request")
		e.reportTarget(c.reporter, "post", post, "comment", "bad\u0000").want(t, http.StatusBadRequest, "invalid_request")

		rep := e.reportTarget(c.reporter, "post", post).want(t, http.StatusCreated, "")
		if rep.body["status"] != "open" || rep.body["id"] == nil {
			t.Fatalf("report = %s", rep.raw)
		}
		e.reportTarget(c.reporter, "post", post).want(t, http.StatusConflict, "conflict")
		e.reportTarget(c.stranger, "post", post, "rule_id", 4).want(t, http.StatusCreated, "")

		item := e.openItem(c.mod1, post)
		if item["report_count"] != float64(2) || item["snapshot"].(map[string]any)["text"] != "这是一条谣言 a rumour #news" {
			t.Fatalf("queue item = %v", item)
		}
		itemID := item["id"].(string)
		// The filters.
		if got := e.do("GET", "/api/v1/admin/reports?rule_id=4", c.mod1.token, nil).want(t, 200, ""); len(got.body["items"].([]any)) != 1 {
			t.Fatalf("rule_id=4 filter: %s", got.raw)
		}
		if got := e.do("GET", "/api/v1/admin/reports?target_type=message", c.mod1.token, nil).want(t, 200, ""); len(got.body["items"].([]any)) != 0 {
			t.Fatalf("target_type=message filter: %s", got.raw)
		}
		e.do("GET", "/api/v1/admin/reports?rule_id=x", c.mod1.token, nil).want(t, 400, "invalid_request")

		// A removal needs a reason; then one moderator wins.
		path := "/api/v1/admin/reports/" + itemID + "/decision"
		e.do("POST", path, c.mod1.token, map[string]any{"action": "remove", "rule_id": 4}).want(t, 400, "invalid_request")
		d := e.do("POST", path, c.mod1.token, map[string]any{"action": "remove", "rule_id": 4, "reason": "The claim is false and was spread to cause panic."}).want(t, 200, "")
		decisionID := d.body["decision_id"].(string)
		if d.body["automated"] != false || d.body["source"] != "report" || d.body["moderator_id"] != c.mod1.id.String() {
			t.Fatalf("decision = %s", d.raw)
		}
		e.do("POST", path, c.mod2.token, map[string]any{"action": "dismiss", "rule_id": 4}).want(t, 409, "conflict")

		// Removed: others get 404 (anonymous too), the author sees it marked.
		e.do("GET", "/api/v1/posts/"+post, c.stranger.token, nil).want(t, 404, "not_found")
		e.do("GET", "/api/v1/posts/"+post, "", nil).want(t, 404, "not_found")
		mine := e.do("GET", "/api/v1/posts/"+post, c.author.token, nil).want(t, 200, "")
		if mine.body["removed"] != true || mine.body["decision_id"] != decisionID {
			t.Fatalf("author's view = %s", mine.raw)
		}

		// The statement of reasons, for the author only.
		st := e.do("GET", "/api/v1/me/decisions", c.author.token, nil).want(t, 200, "")
		items := st.body["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("author's decisions = %s", st.raw)
		}
		s := items[0].(map[string]any)
		for _, k := range []string{"id", "action", "rule", "ground", "legal_basis", "reason", "content", "source", "automated", "created_at", "ends_at", "appeal_deadline", "appeal"} {
			if _, ok := s[k]; !ok {
				t.Errorf("statement lacks %q: %s", k, st.raw)
			}
		}
		if s["action"] != "remove" || s["ground"] != "terms" || s["content"].(map[string]any)["text"] != "这是一条谣言 a rumour #news" || s["appeal"] != nil {
			t.Fatalf("statement = %v", s)
		}
		if _, ok := s["moderator_id"]; ok {
			t.Fatalf("the statement names the moderator: %v", s)
		}
		e.do("GET", "/api/v1/me/decisions/"+decisionID, c.reporter.token, nil).want(t, 404, "not_found")
		e.do("POST", "/api/v1/me/decisions/"+decisionID+"/appeal", c.reporter.token, map[string]any{"text": "x"}).want(t, 404, "not_found")
		if got := e.do("GET", "/api/v1/me/decisions", c.reporter.token, nil).want(t, 200, ""); len(got.body["items"].([]any)) != 0 {
			t.Fatalf("reporter sees decisions: %s", got.raw)
		}
		// The reporter sees the outcome.
		mr := e.do("GET", "/api/v1/me/reports", c.reporter.token, nil).want(t, 200, "")
		out := mr.body["items"].([]any)[0].(map[string]any)
		if out["status"] != "decided" || out["outcome"].(map[string]any)["action"] != "remove" {
			t.Fatalf("reporter's report = %s", mr.raw)
		}
		if _, ok := out["evidence"]; ok {
			t.Fatalf("reporter's list carries evidence: %s", mr.raw)
		}

		// The appeal, decided by the other moderator.
		e.do("POST", "/api/v1/me/decisions/"+decisionID+"/appeal", c.author.token, map[string]any{}).want(t, 400, "invalid_request")
		ap := e.do("POST", "/api/v1/me/decisions/"+decisionID+"/appeal", c.author.token, map[string]any{"text": "It is satire, and says so."}).want(t, 201, "")
		e.do("POST", "/api/v1/me/decisions/"+decisionID+"/appeal", c.author.token, map[string]any{"text": "again"}).want(t, 409, "conflict")
		appealID := ap.body["id"].(string)
		queue := e.do("GET", "/api/v1/admin/appeals?status=open", c.mod2.token, nil).want(t, 200, "")
		if ids := itemIDs(t, queue); len(ids) != 1 || ids[0] != appealID {
			t.Fatalf("appeal queue = %s", queue.raw)
		}
		r := e.do("POST", "/api/v1/admin/appeals/"+appealID+"/decision", c.mod1.token, map[string]any{"uphold": false, "reason": "ok"}).want(t, 403, "forbidden")
		if r.details()["reason"] != "same_moderator" {
			t.Fatalf("details = %v", r.details())
		}
		e.do("POST", "/api/v1/admin/appeals/"+appealID+"/decision", c.mod2.token, map[string]any{"reason": "ok"}).want(t, 400, "invalid_request")
		e.do("POST", "/api/v1/admin/appeals/"+appealID+"/decision", c.mod2.token, map[string]any{"uphold": false, "reason": "Satire, clearly marked."}).want(t, 200, "")
		e.do("POST", "/api/v1/admin/appeals/"+appealID+"/decision", c.admin.token, map[string]any{"uphold": true, "reason": "no"}).want(t, 409, "conflict")

		// Reversed: the post is back for everyone, the statement says so.
		e.do("GET", "/api/v1/posts/"+post, c.stranger.token, nil).want(t, 200, "")
		e.do("GET", "/api/v1/posts/"+post, "", nil).want(t, 200, "")
		e.waitList(t, c.stranger, "/api/v1/hashtags/news/posts", post)
		got := e.do("GET", "/api/v1/me/decisions/"+decisionID, c.author.token, nil).want(t, 200, "")
		if got.body["status"] != "reversed" || got.body["appeal"].(map[string]any)["outcome"] != "reversed" {
			t.Fatalf("statement after reversal = %s", got.raw)
		}
		mr = e.do("GET", "/api/v1/me/reports", c.reporter.token, nil).want(t, 200, "")
		if mr.body["items"].([]any)[0].(map[string]any)["outcome"].(map[string]any)["reversed"] != true {
			t.Fatalf("reporter's outcome after reversal = %s", mr.raw)
		}
	})
}

// TestModerationSuspensionNamesTheDecision suspends an account through a
// report and checks what the account may still do.
func TestModerationSuspensionNamesTheDecision(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		c := e.newModCast()
		e.reportTarget(c.reporter, "account", c.author.id.String()).want(t, 201, "")
		item := e.openItem(c.mod1, c.author.id.String())
		path := "/api/v1/admin/reports/" + item["id"].(string) + "/decision"
		e.do("POST", path, c.mod1.token, map[string]any{"action": "remove", "rule_id": 2, "reason": "x"}).want(t, 400, "invalid_request")
		e.do("POST", path, c.mod1.token, map[string]any{"action": "suspend", "rule_id": 2, "reason": "threats"}).want(t, 400, "invalid_request")
		d := e.do("POST", path, c.mod1.token, map[string]any{"action": "suspend", "rule_id": 2, "reason": "Threats against another user.", "duration_days": 7}).want(t, 200, "")
		id := d.body["decision_id"].(string)
		ends, _ := time.Parse(time.RFC3339, d.body["ends_at"].(string))
		if time.Until(ends) < 6*24*time.Hour {
			t.Fatalf("ends_at %v, want 7 days ahead", ends)
		}
		// Posting, following and sending are refused, naming the decision.
		r := e.newPost(c.author, map[string]any{"text": "hello"}).want(t, 403, "account_suspended")
		if r.details()["decision_id"] != id {
			t.Fatalf("refusal details = %v, want decision_id %s", r.details(), id)
		}
		e.do("POST", "/api/v1/accounts/"+c.stranger.id.String()+"/follow", c.author.token, nil).want(t, 403, "account_suspended")
		// Reading one's decisions and reports, and appealing, still work.
		e.do("GET", "/api/v1/me/decisions", c.author.token, nil).want(t, 200, "")
		e.do("GET", "/api/v1/me/decisions/"+id, c.author.token, nil).want(t, 200, "")
		e.do("GET", "/api/v1/me/reports", c.author.token, nil).want(t, 200, "")
		e.do("POST", "/api/v1/me/decisions/"+id+"/appeal", c.author.token, map[string]any{"text": "I apologise; it will not happen again."}).want(t, 201, "")
		// Upheld: still suspended.
		apps := e.do("GET", "/api/v1/admin/appeals", c.mod2.token, nil).want(t, 200, "")
		appealID := itemIDs(t, apps)[0]
		e.do("POST", "/api/v1/admin/appeals/"+appealID+"/decision", c.mod2.token, map[string]any{"uphold": true, "reason": "The threats were serious."}).want(t, 200, "")
		e.newPost(c.author, map[string]any{"text": "hello"}).want(t, 403, "account_suspended")
	})
}

// TestModerationAuthorityOrder records an order and closes an account on
// it; the statement names the law.
func TestModerationAuthorityOrder(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		c := e.newModCast()
		e.do("POST", "/api/v1/admin/authority-orders", c.admin.token, map[string]any{"authority": "X", "outcome": "maybe"}).want(t, 400, "invalid_request")
		o := e.do("POST", "/api/v1/admin/authority-orders", c.admin.token, map[string]any{
			"authority": "Example District Court", "legal_basis": "Example Act §5", "received_at": time.Now().Add(-time.Hour).Format(time.RFC3339),
			"scope": "Close the account.", "target_type": "account", "target_id": c.author.id.String(), "outcome": "complied", "note": "",
		}).want(t, 201, "")
		e.do("POST", "/api/v1/admin/decisions", c.mod1.token, map[string]any{
			"target_type": "account", "target_id": c.author.id.String(), "action": "close", "rule_id": 3,
			"reason": "Ordered by the court.", "authority_order_id": o.body["id"],
		}).want(t, 403, "forbidden")
		d := e.do("POST", "/api/v1/admin/decisions", c.admin.token, map[string]any{
			"target_type": "account", "target_id": c.author.id.String(), "action": "close", "rule_id": 3,
			"reason": "Ordered by the court.", "authority_order_id": o.body["id"],
		}).want(t, 201, "")
		if d.body["source"] != "authority_order" || d.body["ground"] != "law" || d.body["legal_basis"] != "Example Act §5" {
			t.Fatalf("decision = %s", d.raw)
		}
		r := e.do("GET", "/api/v1/me/decisions", c.author.token, nil).want(t, 200, "")
		if len(r.body["items"].([]any)) != 1 {
			t.Fatalf("a closed account cannot read its decision: %s", r.raw)
		}
		tr := e.do("GET", "/api/v1/transparency", "", nil).want(t, 200, "")
		orders := tr.body["authority_orders"].(map[string]any)
		if orders["total"] != float64(1) || orders["by_authority"].(map[string]any)["Example District Court"] != float64(1) {
			t.Fatalf("transparency = %s", tr.raw)
		}
		csv := e.do("GET", "/api/v1/transparency?format=csv", "", nil)
		if csv.status != 200 || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") || !strings.Contains(string(csv.raw), "authority_orders,total,1") {
			t.Fatalf("CSV: %d %s %s", csv.status, csv.header.Get("Content-Type"), csv.raw)
		}
		e.do("GET", "/api/v1/transparency?format=xml", "", nil).want(t, 400, "invalid_request")
		e.do("GET", "/api/v1/transparency?from=2026-02-30", "", nil).want(t, 400, "invalid_request")
	})
}

var _ = fmt.Sprint

// TestModerationSeesOnlyEvidence: a moderator reads a private message
// only as the evidence of a report; the conversation stays closed to them.
func TestModerationSeesOnlyEvidence(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		c := e.newModCast()
		e.befriend(c.author, c.reporter)
		conv := e.direct(c.reporter, c.author)
		for i := range 3 {
			e.send(c.author, conv, fmt.Sprintf("c%d", i), fmt.Sprintf("earlier %d", i)).want(t, 201, "")
		}
		msg := e.send(c.author, conv, "c9", "send me the money or else").want(t, 201, "").body["id"].(string)
		// Not a member: as if the message did not exist.
		e.reportTarget(c.stranger, "message", msg).want(t, 404, "not_found")
		e.reportTarget(c.mod1, "message", msg).want(t, 404, "not_found")
		e.reportTarget(c.reporter, "post", msg, "context", true).want(t, 400, "invalid_request")
		e.reportTarget(c.reporter, "message", msg, "context", true).want(t, 201, "")
		item := e.openItem(c.mod1, msg)
		ev := item["reports"].([]any)[0].(map[string]any)["evidence"].([]any)
		if len(ev) != 4 || ev[3].(map[string]any)["text"] != "send me the money or else" || ev[0].(map[string]any)["text"] != "earlier 0" {
			t.Fatalf("evidence = %v", ev)
		}
		// The conversation itself stays closed to moderators and admins.
		for _, u := range []user{c.mod1, c.admin} {
			e.do("GET", "/api/v1/conversations/"+conv+"/messages", u.token, nil).want(t, 404, "not_found")
			e.do("GET", "/api/v1/conversations/"+conv, u.token, nil).want(t, 404, "not_found")
		}
		d := e.do("POST", "/api/v1/admin/reports/"+item["id"].(string)+"/decision", c.mod1.token, map[string]any{"action": "remove", "rule_id": 2, "reason": "Extortion."}).want(t, 200, "")
		msgs := e.do("GET", "/api/v1/conversations/"+conv+"/messages", c.reporter.token, nil).want(t, 200, "")
		var found bool
		for _, it := range msgs.body["items"].([]any) {
			m := it.(map[string]any)
			if m["id"] == msg {
				found = true
				if m["text"] != "" || m["removed"] != true {
					t.Fatalf("the other member sees %v", m)
				}
			}
		}
		if !found {
			t.Fatalf("the removed message left a gap: %s", msgs.raw)
		}
		st := e.do("GET", "/api/v1/me/decisions/"+d.body["decision_id"].(string), c.author.token, nil).want(t, 200, "")
		if st.body["content"].(map[string]any)["text"] != "send me the money or else" {
			t.Fatalf("statement content = %s", st.raw)
		}
	})
}

// TestModerationChannelStaffDoNotDecide: a moderator who edits a channel
// decides neither reports about it or its posts nor their appeals.
func TestModerationChannelStaffDoNotDecide(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		c := e.newModCast()
		owner := e.identityVerified("owner")
		reviewer := e.withRole("rev", account.Reviewer)
		ch := e.openChannel(owner, reviewer, "news_desk", "新闻 News", "subscription")
		e.do("POST", "/api/v1/channels/"+ch+"/editors", owner.token, map[string]any{"account_id": c.mod2.id.String()}).want(t, http.StatusOK, "")
		e.putCategory(c.admin, "news", "open")
		post := e.postTo(owner, ch, "Breaking", "news").want(t, http.StatusCreated, "").body["id"].(string)
		e.reportTarget(c.reporter, "channel", ch).want(t, 201, "")
		e.reportTarget(c.reporter, "channel_post", post).want(t, 201, "")
		for _, target := range []string{ch, post} {
			item := e.openItem(c.mod1, target)
			r := e.do("POST", "/api/v1/admin/reports/"+item["id"].(string)+"/decision", c.mod2.token, map[string]any{"action": "dismiss", "rule_id": 1}).want(t, 403, "forbidden")
			if r.details()["reason"] != "self" {
				t.Fatalf("details = %v", r.details())
			}
		}
		item := e.openItem(c.mod1, post)
		d := e.do("POST", "/api/v1/admin/reports/"+item["id"].(string)+"/decision", c.mod1.token, map[string]any{"action": "label", "rule_id": 4, "reason": "Unverified.", "label": "Unverified claim / 未经证实"}).want(t, 200, "")
		// Everyone sees the label on the channel's posts.
		list := e.do("GET", "/api/v1/channels/"+ch+"/posts", c.stranger.token, nil).want(t, 200, "")
		if got := list.body["items"].([]any)[0].(map[string]any)["label"]; got != "Unverified claim / 未经证实" {
			t.Fatalf("label on the post = %v", got)
		}
		ap := e.do("POST", "/api/v1/me/decisions/"+d.body["decision_id"].(string)+"/appeal", owner.token, map[string]any{"text": "It is verified."}).want(t, 201, "")
		e.do("POST", "/api/v1/admin/appeals/"+ap.body["id"].(string)+"/decision", c.mod2.token, map[string]any{"uphold": false, "reason": "x"}).want(t, 403, "forbidden")
		// An invisible label and an own-initiative look-up of a message
		// are refused.
		e.do("POST", "/api/v1/admin/decisions", c.mod1.token, map[string]any{"target_type": "post", "target_id": e.postText(c.author, "hi"), "action": "label", "rule_id": 1, "reason": "x", "label": "\u3164"}).want(t, 400, "invalid_request")
		e.do("POST", "/api/v1/admin/decisions", c.mod1.token, map[string]any{"target_type": "message", "target_id": "12345", "action": "dismiss", "rule_id": 1}).want(t, 400, "invalid_request")
	})
}
