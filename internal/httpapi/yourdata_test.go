package httpapi

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/realtime"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// TestLegacyContact: the owner chooses, reads, replaces and removes their
// legacy contact; the rules come back as clear errors; a stranger only
// ever sees their own (none), and an anonymous caller is refused.
func TestLegacyContact(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		owner, friend, other, stranger := e.verified("owner"), e.verified("friend"), e.verified("other"), e.verified("stranger")
		e.befriend(owner, friend)
		e.befriend(owner, other)
		const path = "/api/v1/me/legacy-contact"

		e.do("GET", path, owner.token, nil).want(t, http.StatusNoContent, "")
		for _, c := range []struct {
			name   string
			body   any
			status int
			code   string
		}{
			{"empty", map[string]any{}, 400, "invalid_request"},
			{"no may_download", map[string]any{"account_id": friend.id.String()}, 400, "invalid_request"},
			{"oneself", map[string]any{"account_id": owner.id.String(), "may_download": true}, 400, "invalid_request"},
			{"unknown", map[string]any{"account_id": "12345", "may_download": true}, 400, "invalid_request"},
			{"not a contact", map[string]any{"account_id": stranger.id.String(), "may_download": true}, 403, "not_a_contact"},
			{"unknown field", map[string]any{"account_id": friend.id.String(), "may_download": true, "extra": 1}, 400, "invalid_request"},
		} {
			t.Run(c.name, func(t *testing.T) {
				e.do("PUT", path, owner.token, c.body).want(t, c.status, c.code)
			})
		}
		e.do("GET", path, owner.token, nil).want(t, http.StatusNoContent, "")

		got := e.do("PUT", path, owner.token, map[string]any{"account_id": friend.id.String(), "may_download": true}).want(t, 200, "")
		if got.body["account_id"] != friend.id.String() || got.body["may_download"] != true || got.body["handle"] != "friend" {
			t.Errorf("PUT answered %s", got.raw)
		}
		e.do("PUT", path, owner.token, map[string]any{"account_id": other.id.String(), "may_download": false}).want(t, 200, "")
		got = e.do("GET", path, owner.token, nil).want(t, 200, "")
		if got.body["account_id"] != other.id.String() || got.body["may_download"] != false {
			t.Errorf("GET answered %s, want the replacement", got.raw)
		}
		// Someone else reads and removes only their own, which they have not.
		e.do("GET", path, stranger.token, nil).want(t, http.StatusNoContent, "")
		e.do("DELETE", path, stranger.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("GET", path, owner.token, nil).want(t, 200, "")
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			e.do(m, path, "", map[string]any{"account_id": friend.id.String(), "may_download": true}).want(t, http.StatusUnauthorized, "unauthenticated")
		}

		e.do("DELETE", path, owner.token, nil).want(t, http.StatusNoContent, "")
		e.do("DELETE", path, owner.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("GET", path, owner.token, nil).want(t, http.StatusNoContent, "")
	})
}

// TestMemorialisation: an admin memorialises an account with a reason.
// Its profile stays readable with memorialised: true and its public
// posts stay visible; nobody can sign in to it (forbidden, reason
// memorialised) or message it (gone); its sessions end. Only admins may;
// twice is a conflict, a deleted account gone, an unknown one not found.
func TestMemorialisation(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		admin := e.withRole("root", account.Admin)
		mod := e.withRole("moddy", account.Moderator)
		gone, friend := e.verified("remembered"), e.verified("friend")
		e.befriend(gone, friend)
		conv := e.direct(friend, gone)
		e.send(gone, conv, "last", "see you soon").want(t, 201, "")
		post := e.postText(gone, "a public post")
		path := "/api/v1/admin/accounts/" + gone.id.String() + "/memorialisation"
		body := map[string]any{"reason": "His family sent the death certificate."}

		e.do("POST", path, "", body).want(t, http.StatusUnauthorized, "unauthenticated")
		e.do("POST", path, friend.token, body).want(t, http.StatusForbidden, "forbidden")
		e.do("POST", path, mod.token, body).want(t, http.StatusForbidden, "forbidden")
		e.do("POST", path, admin.token, map[string]any{"reason": ""}).want(t, http.StatusBadRequest, "invalid_request")
		if p := e.do("GET", "/api/v1/accounts/"+gone.id.String(), friend.token, nil).want(t, 200, ""); p.body["memorialised"] != false {
			t.Errorf("profile before: %s, want memorialised false", p.raw)
		}

		got := e.do("POST", path, admin.token, body).want(t, 200, "")
		if got.body["status"] != "memorialised" {
			t.Errorf("answered %s, want status memorialised", got.raw)
		}
		e.do("POST", path, admin.token, body).want(t, http.StatusConflict, "conflict")

		p := e.do("GET", "/api/v1/accounts/"+gone.id.String(), friend.token, nil).want(t, 200, "")
		if p.body["memorialised"] != true || p.body["display_name"] != "REMEMBERED" {
			t.Errorf("profile after: %s, want it readable with memorialised true", p.raw)
		}
		e.do("GET", "/api/v1/posts/"+post, "", nil).want(t, 200, "")
		e.do("GET", "/api/v1/me", gone.token, nil).want(t, http.StatusUnauthorized, "unauthenticated")
		r := e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "remembered", "password": "password-remembered"}).want(t, http.StatusForbidden, "forbidden")
		if r.details()["reason"] != "memorialised" {
			t.Errorf("sign-in refusal details %v, want reason memorialised", r.details())
		}
		r = e.send(friend, conv, "after", "I miss you").want(t, http.StatusGone, "gone")
		if r.details()["status"] != "memorialised" {
			t.Errorf("send refusal details %v, want status memorialised", r.details())
		}
		if items := e.do("GET", "/api/v1/conversations/"+conv+"/messages", friend.token, nil).want(t, 200, "").body["items"].([]any); len(items) != 1 {
			t.Errorf("history has %d messages, want the 1 it had", len(items))
		}

		leaver := e.register("leaver")
		if err := e.accounts.Erase(t.Context(), leaver.id); err != nil {
			t.Fatal(err)
		}
		e.do("POST", "/api/v1/admin/accounts/"+leaver.id.String()+"/memorialisation", admin.token, body).want(t, http.StatusGone, "gone")
		e.do("POST", "/api/v1/admin/accounts/12345/memorialisation", admin.token, body).want(t, http.StatusNotFound, "not_found")
	})
}

// TestScheduledDeletionErasesEverything gives an account something in
// every domain, schedules its deletion with a short grace period and
// waits for the job: every table that held the account's data holds
// nothing of it, its media bytes are gone, the messages it sent stay with
// their sender, the audit log has one account.delete, and erasing again
// changes nothing.
func TestScheduledDeletionErasesEverything(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		ctx := t.Context()
		leaver := e.identityVerified("leaver")
		friend, fan := e.verified("friend"), e.verified("fan")
		reviewer := e.withRole("rev", account.Reviewer)
		e.befriend(leaver, friend)
		e.befriend(fan, leaver)
		e.do("POST", "/api/v1/contacts/requests", leaver.token, map[string]any{"account_id": e.verified("pending").id.String()}).want(t, 201, "")
		e.do("POST", "/api/v1/blocks", leaver.token, map[string]any{"account_id": e.verified("blocked").id.String()}).want(t, 204, "")
		conv := e.direct(leaver, friend)
		e.send(leaver, conv, "m1", "hello").want(t, 201, "")
		e.send(friend, conv, "m2", "hi back").want(t, 201, "")
		img := e.upload(leaver, "p.png", "", pngFixture(t, 64, 48)).want(t, 201, "").body["id"].(string)
		e.sendMedia(leaver, conv, "m3", "image", img).want(t, 201, "")
		group := e.do("POST", "/api/v1/conversations", leaver.token, map[string]any{"kind": "group", "title": "mine", "member_ids": []string{friend.id.String(), fan.id.String()}}).want(t, 201, "").body["id"].(string)
		e.send(leaver, group, "g1", "welcome").want(t, 201, "")
		post := e.postText(leaver, "my first post #hello")
		e.do("POST", "/api/v1/posts/"+e.postText(friend, "friend's post")+"/like", leaver.token, nil).want(t, 204, "")
		e.followAccount(leaver, friend)
		e.followAccount(fan, leaver)
		ch := e.openChannel(leaver, reviewer, "leavers", "Leaver's", "subscription")
		e.follow(fan, ch)
		theirs := e.openChannel(e.identityVerified("other"), reviewer, "others", "Other's", "subscription")
		e.follow(leaver, theirs)
		e.reportTarget(leaver, "post", e.postText(fan, "a rude post")).want(t, 201, "")
		e.do("PUT", "/api/v1/me/legacy-contact", leaver.token, map[string]any{"account_id": friend.id.String(), "may_download": true}).want(t, 200, "")
		e.do("PUT", "/api/v1/me/legacy-contact", friend.token, map[string]any{"account_id": leaver.id.String(), "may_download": false}).want(t, 200, "")
		dev := e.dial(leaver, "")
		dev.until("ready")
		var files int
		countFiles := func() int {
			n := 0
			_ = filepath.WalkDir(e.media, func(_ string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					n++
				}
				return nil
			})
			return n
		}
		files = countFiles()

		e.do("DELETE", "/api/v1/me", leaver.token, map[string]any{"password": "password-leaver"}).want(t, 202, "")
		dev.closedWith(realtime.StatusSessionEnded)
		plazatest.Eventually(t, 20*time.Second, func() error {
			var n int
			if err := e.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE kind = 'account.erase'`).Scan(&n); err != nil || n != 0 {
				return fmt.Errorf("%d erase jobs left (%v)", n, err)
			}
			return nil
		})

		id := leaver.id
		for _, q := range []string{
			`sessions WHERE account_id = $1`, `account_roles WHERE account_id = $1`,
			`legacy_contacts WHERE account_id = $1 OR contact_id = $1`,
			`phones WHERE account_id = $1`, `phone_challenges WHERE account_id = $1`, `identities WHERE account_id = $1`,
			`contacts WHERE account_id = $1 OR contact_id = $1`, `contact_requests WHERE to_id = $1 OR from_id = $1`,
			`blocks WHERE account_id = $1 OR blocked_id = $1`,
			`members m JOIN conversations c ON c.id = m.conversation_id WHERE m.account_id = $1 AND c.kind = 'group'`,
			`events WHERE account_id = $1`, `sync_heads WHERE account_id = $1`, `streams WHERE account_id = $1`,
			`media WHERE owner_id = $1`, `media_reservations WHERE owner_id = $1`, `media_quota_locks WHERE owner_id = $1`,
			`posts WHERE author_id = $1 AND (status <> 'deleted' OR text <> '')`, `follows WHERE follower_id = $1 OR followee_id = $1`,
			`likes WHERE account_id = $1`, `timeline WHERE account_id = $1`, `notifications WHERE account_id = $1`,
			`microblog_stats WHERE account_id = $1`,
			`channel_followers WHERE account_id = $1`, `channel_editors WHERE account_id = $1`, `channel_applications WHERE applicant_id = $1`,
			`channels WHERE owner_id = $1 AND status <> 'closed'`,
			`reports WHERE reporter_id = $1 AND comment <> ''`, `appeals WHERE account_id = $1 AND text <> ''`,
		} {
			var n int
			if err := e.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+q, id).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if n != 0 {
				t.Errorf("%s: %d rows left, want 0", q, n)
			}
		}
		// The image's bytes and thumbnail are gone from the store.
		if n := countFiles(); n >= files {
			t.Errorf("%d files in the media store, want fewer than the %d before", n, files)
		}
		e.fetch(friend.token, "/api/v1/media/"+img, "").want(t, http.StatusNotFound, "not_found")
		// The messages stay with their sender, who shows as deleted.
		items := e.do("GET", "/api/v1/conversations/"+conv+"/messages", friend.token, nil).want(t, 200, "").body["items"].([]any)
		if len(items) != 3 || items[0].(map[string]any)["sender_id"] != id.String() || items[0].(map[string]any)["text"] != "hello" {
			t.Errorf("friend's history: %v, want the three messages, the first from the erased account", items)
		}
		e.do("GET", "/api/v1/accounts/"+id.String(), friend.token, nil).want(t, http.StatusGone, "gone")
		e.do("GET", "/api/v1/posts/"+post, "", nil).want(t, http.StatusNotFound, "not_found")
		var audits int
		if err := e.db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'account.delete' AND target_id = $1`, id.String()).Scan(&audits); err != nil || audits != 1 {
			t.Errorf("%d account.delete audit rows (%v), want 1", audits, err)
		}

		before := dump(t, e.db)
		if err := e.accounts.Erase(ctx, id); err != nil {
			t.Fatal(err)
		}
		if after := dump(t, e.db); after != before {
			t.Error("erasing again changed the database")
		}
	}, withDeletionGrace(300*time.Millisecond))
}

// dump renders every row of the tables an erasure touches, to compare two
// states of the database.
func dump(tb testing.TB, db *sqldb.DB) string {
	tb.Helper()
	var b strings.Builder
	for _, table := range []string{"accounts", "sessions", "contacts", "members", "events", "sync_heads", "media", "posts", "likes", "follows",
		"channels", "channel_followers", "reports", "audit_log", "legacy_contacts", "conversations", "messages"} {
		rows, err := db.Read().QueryContext(context.Background(), `SELECT * FROM `+table+` ORDER BY 1, 2`)
		if err != nil {
			tb.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		rows.Close()
	}
	return b.String()
}

// TestLegacyExport: once an account is memorialised, its legacy contact,
// if allowed to download, exports its data and downloads it as their own
// export; the export holds the person's account and their choice of
// legacy contact. Anyone else — a stranger, a legacy contact not allowed
// to download, anyone before the memorialisation — is told not found; an
// anonymous caller is refused.
func TestLegacyExport(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		admin := e.withRole("root", account.Admin)
		gone, keeper, stranger := e.verified("remembered"), e.verified("keeper"), e.verified("stranger")
		private := e.verified("private")
		e.befriend(gone, keeper)
		e.befriend(private, keeper)
		e.do("PUT", "/api/v1/me/legacy-contact", gone.token, map[string]any{"account_id": keeper.id.String(), "may_download": true}).want(t, 200, "")
		e.do("PUT", "/api/v1/me/legacy-contact", private.token, map[string]any{"account_id": keeper.id.String(), "may_download": false}).want(t, 200, "")
		path := func(u user) string { return "/api/v1/accounts/" + u.id.String() + "/legacy-exports" }

		e.do("POST", path(gone), keeper.token, nil).want(t, http.StatusNotFound, "not_found") // not memorialised yet
		for _, u := range []user{gone, private} {
			e.do("POST", "/api/v1/admin/accounts/"+u.id.String()+"/memorialisation", admin.token, map[string]any{"reason": "the family asked"}).want(t, 200, "")
		}
		e.do("POST", path(gone), "", nil).want(t, http.StatusUnauthorized, "unauthenticated")
		e.do("POST", path(gone), stranger.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("POST", path(private), keeper.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("POST", "/api/v1/accounts/12345/legacy-exports", keeper.token, nil).want(t, http.StatusNotFound, "not_found")
		e.do("POST", "/api/v1/accounts/x/legacy-exports", keeper.token, nil).want(t, http.StatusNotFound, "not_found")

		r := e.do("POST", path(gone), keeper.token, nil).want(t, http.StatusAccepted, "")
		if r.body["status"] != "pending" || r.body["account_id"] != gone.id.String() {
			t.Errorf("answered %s, want a pending export of the memorialised account", r.raw)
		}
		id := r.body["id"].(string)
		e.do("GET", "/api/v1/me/exports/"+id, stranger.token, nil).want(t, http.StatusNotFound, "not_found")
		ready := e.waitExport(keeper, id)
		dl := e.do("GET", ready.body["download_url"].(string), keeper.token, nil).want(t, http.StatusOK, "")
		zr, err := zip.NewReader(bytes.NewReader(dl.raw), int64(len(dl.raw)))
		if err != nil {
			t.Fatalf("the download is not a ZIP: %v", err)
		}
		files := map[string]string{}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			files[f.Name] = string(b)
		}
		if !strings.Contains(files["account.json"], `"remembered"`) {
			t.Errorf("account.json does not hold the memorialised account: %s", files["account.json"])
		}
		var lc struct {
			LegacyContact *struct {
				AccountID   string `json:"account_id"`
				MayDownload bool   `json:"may_download"`
			} `json:"legacy_contact"`
		}
		if err := json.Unmarshal([]byte(files["legacy_contact.json"]), &lc); err != nil || lc.LegacyContact == nil ||
			lc.LegacyContact.AccountID != keeper.id.String() || !lc.LegacyContact.MayDownload {
			t.Errorf("legacy_contact.json = %s (%v), want the keeper, allowed to download", files["legacy_contact.json"], err)
		}
	})
}
