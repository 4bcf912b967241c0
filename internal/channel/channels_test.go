package channel

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestGet(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		ctx := context.Background()
		owner, fan, stranger := e.user(1), e.user(2), e.user(0)
		ch := e.newChannel(t, owner, "daily", Subscription)
		if err := e.svc.Follow(ctx, fan, ch); err != nil {
			t.Fatalf("Follow: %v", err)
		}
		for _, tt := range []struct {
			viewer    plaza.ID
			following bool
		}{{fan, true}, {stranger, false}, {owner, false}, {0, false}} {
			c := e.get(t, tt.viewer, ch)
			if c.Following != tt.following {
				t.Errorf("viewer %d: following = %v, want %v", tt.viewer, c.Following, tt.following)
			}
			if c.ID != ch || c.OwnerID != owner || !c.Verified || c.FollowerCount != 1 || quotas(c) != "1 a day, none a month" {
				t.Errorf("viewer %d: channel = %+v", tt.viewer, c)
			}
		}
		_, err := e.svc.Get(ctx, fan, plaza.NewID())
		wantCode(t, err, plaza.ENotFound)
	})
}

func TestSearch(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 4})
		ctx := context.Background()
		mk := func(handle, name string) plaza.ID {
			a, err := e.svc.Apply(ctx, e.user(1), ApplicationInput{Handle: handle, Name: name, Kind: Subscription})
			if err != nil {
				t.Fatalf("Apply(%s): %v", handle, err)
			}
			a, err = e.svc.DecideApplication(ctx, e.reviewer, a.ID, true, "")
			if err != nil {
				t.Fatalf("approve %s: %v", handle, err)
			}
			return *a.ChannelID
		}
		golang := mk("golang_news", "Gopher Gazette")
		weekly := mk("weekly", "GO Weekly")
		percent := mk("discounts", "Save 100% Today")
		rust := mk("rustdaily", "Rust Daily")
		banned := mk("gone_go", "Go Gone")
		if _, err := e.svc.SetStatus(ctx, e.reviewer, banned, StatusSuspended, "spam"); err != nil {
			t.Fatalf("SetStatus: %v", err)
		}
		// Followers order the results: weekly has 2, golang 1.
		for _, f := range []struct {
			who int
			ch  plaza.ID
		}{{2, weekly}, {3, weekly}, {2, golang}} {
			if err := e.svc.Follow(ctx, e.user(f.who), f.ch); err != nil {
				t.Fatalf("Follow: %v", err)
			}
		}

		for _, tt := range []struct {
			q    string
			want []plaza.ID
		}{
			{"go", []plaza.ID{weekly, golang}},              // "GO Weekly" by name, golang_news by handle and "Gopher"
			{"  GOPHER ", []plaza.ID{golang}},               // trimmed, case-insensitive on the name
			{"GOLANG", []plaza.ID{golang}},                  // case-insensitive on the handle
			{"%", []plaza.ID{percent}},                      // a literal percent sign, not "anything"
			{"_", []plaza.ID{golang}},                       // a literal underscore, not "any character"
			{"e_k", nil},                                    // _ is not a wildcard: "Weekly" has no "e_k"
			{"100%", []plaza.ID{percent}},                   // % inside a word
			{`\`, nil},                                      // a backslash is literal too
			{"daily", []plaza.ID{rust}},                     // handle and name both match: listed once
			{"nothing-like-this", nil},                      // no match
			{"", []plaza.ID{weekly, golang, percent, rust}}, // every active channel, most followed first
		} {
			got, err := e.svc.Search(ctx, tt.q, 0, 20)
			if err != nil {
				t.Errorf("Search(%q): %v", tt.q, err)
				continue
			}
			var ids []plaza.ID
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("Search(%q) = %v, want %v", tt.q, ids, tt.want)
			}
		}

		// Paging by offset and limit.
		p1, err1 := e.svc.Search(ctx, "", 0, 2)
		p2, err2 := e.svc.Search(ctx, "", 2, 2)
		if err1 != nil || err2 != nil || len(p1) != 2 || len(p2) != 2 || p1[0].ID != weekly || p2[1].ID == p1[0].ID {
			t.Errorf("pages = %v, %v (%v, %v)", p1, p2, err1, err2)
		}
		_, err := e.svc.Search(ctx, strings.Repeat("q", 65), 0, 20)
		wantFields(t, err, "q")
	})
}

func TestFollow(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 4})
		ctx := context.Background()
		owner, a, b := e.user(1), e.user(2), e.user(3)
		ch := e.newChannel(t, owner, "sports", Subscription)
		other := e.newChannel(t, owner, "music", ServiceKind)

		var mu sync.Mutex
		type call struct {
			account plaza.ID
			c       events.FollowControl
		}
		var calls []call
		e.svc.OnFollowChange(func(_ context.Context, account plaza.ID, c events.FollowControl) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{account, c})
		})
		takeCalls := func() []call {
			mu.Lock()
			defer mu.Unlock()
			out := calls
			calls = nil
			return out
		}
		count := func() int64 { return e.get(t, owner, ch).FollowerCount }

		if err := e.svc.Follow(ctx, a, ch); err != nil {
			t.Fatalf("Follow: %v", err)
		}
		if got := takeCalls(); len(got) != 1 || got[0] != (call{a, events.FollowControl{Channel: ch, Follow: true}}) {
			t.Errorf("follow callbacks = %+v, want one {follow %d}", got, ch)
		}
		if n := count(); n != 1 {
			t.Errorf("follower_count = %d, want 1", n)
		}

		// Following again changes nothing.
		if err := e.svc.Follow(ctx, a, ch); err != nil {
			t.Fatalf("Follow again: %v", err)
		}
		for _, c := range takeCalls() {
			if c != (call{a, events.FollowControl{Channel: ch, Follow: true}}) {
				t.Errorf("second follow told %+v", c)
			}
		}
		if n := count(); n != 1 {
			t.Errorf("follower_count after following twice = %d, want 1", n)
		}

		if err := e.svc.Follow(ctx, b, ch); err != nil {
			t.Fatalf("Follow: %v", err)
		}
		if err := e.svc.Follow(ctx, a, other); err != nil {
			t.Fatalf("Follow: %v", err)
		}
		takeCalls()
		if n := count(); n != 2 {
			t.Errorf("follower_count = %d, want 2", n)
		}
		ids, err := e.svc.FollowedIDs(ctx, a)
		slices.Sort(ids)
		want := []plaza.ID{ch, other}
		slices.Sort(want)
		if err != nil || !slices.Equal(ids, want) {
			t.Errorf("FollowedIDs(a) = %v, %v, want %v", ids, err, want)
		}

		if err := e.svc.Unfollow(ctx, a, ch); err != nil {
			t.Fatalf("Unfollow: %v", err)
		}
		if got := takeCalls(); len(got) != 1 || got[0] != (call{a, events.FollowControl{Channel: ch, Follow: false}}) {
			t.Errorf("unfollow callbacks = %+v, want one {unfollow %d}", got, ch)
		}
		if n := count(); n != 1 {
			t.Errorf("follower_count after unfollow = %d, want 1", n)
		}
		if c := e.get(t, a, ch); c.Following {
			t.Error("still following after Unfollow")
		}
		if ids, err := e.svc.FollowedIDs(ctx, a); err != nil || !slices.Equal(ids, []plaza.ID{other}) {
			t.Errorf("FollowedIDs(a) after unfollow = %v, %v, want [%d]", ids, err, other)
		}

		// Unfollowing what one does not follow.
		wantCode(t, e.svc.Unfollow(ctx, a, ch), plaza.ENotFound)
		wantCode(t, e.svc.Unfollow(ctx, owner, ch), plaza.ENotFound)
		wantCode(t, e.svc.Unfollow(ctx, a, plaza.NewID()), plaza.ENotFound)
		if got := takeCalls(); len(got) != 0 {
			t.Errorf("failed unfollows told %+v", got)
		}
		if n := count(); n != 1 {
			t.Errorf("follower_count after failed unfollows = %d, want 1", n)
		}
		wantCode(t, e.svc.Follow(ctx, a, plaza.NewID()), plaza.ENotFound)
		if ids, _ := e.svc.FollowedIDs(ctx, owner); len(ids) != 0 {
			t.Errorf("FollowedIDs(owner) = %v, want none", ids)
		}

		// Suspended and closed channels take no new followers.
		if _, err := e.svc.SetStatus(ctx, e.reviewer, ch, StatusSuspended, "under investigation"); err != nil {
			t.Fatalf("suspend: %v", err)
		}
		err = e.svc.Follow(ctx, a, ch)
		wantCode(t, err, plaza.EConflict)
		if !strings.Contains(err.Error(), "under investigation") {
			t.Errorf("error %q does not give the reason", err)
		}
		if _, err := e.svc.SetStatus(ctx, e.reviewer, other, StatusClosed, "owner asked"); err != nil {
			t.Fatalf("close: %v", err)
		}
		wantCode(t, e.svc.Follow(ctx, b, other), plaza.EConflict)
		if got := takeCalls(); len(got) != 0 {
			t.Errorf("refused follows told %+v", got)
		}
		// An existing follower may still leave a suspended channel.
		if err := e.svc.Unfollow(ctx, b, ch); err != nil {
			t.Errorf("Unfollow(suspended): %v", err)
		}
	})
}

func TestFollowConcurrent(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 9})
		ctx := context.Background()
		ch := e.newChannel(t, e.user(0), "crowd", Subscription)
		var wg sync.WaitGroup
		for i := 1; i < 9; i++ {
			for range 3 {
				wg.Go(func() {
					if err := e.svc.Follow(ctx, e.user(i), ch); err != nil {
						t.Errorf("Follow(%d): %v", i, err)
					}
				})
			}
		}
		wg.Wait()
		if n := e.get(t, e.user(0), ch).FollowerCount; n != 8 {
			t.Errorf("follower_count = %d, want 8", n)
		}
	})
}

func TestEditors(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 4})
		ctx := context.Background()
		owner, editor, stranger := e.user(1), e.user(2), e.user(3)
		ch := e.newChannel(t, owner, "team", ServiceKind)
		e.category(t, "news", PolicyOpen)

		_, err := e.svc.AddEditor(ctx, stranger, ch, editor)
		wantCode(t, err, plaza.EForbidden)
		_, err = e.svc.AddEditor(ctx, editor, ch, editor)
		wantCode(t, err, plaza.EForbidden)
		_, err = e.svc.AddEditor(ctx, owner, ch, owner)
		wantFields(t, err, "account_id")
		_, err = e.svc.AddEditor(ctx, owner, plaza.NewID(), editor)
		wantCode(t, err, plaza.ENotFound)
		_, err = e.svc.AddEditor(ctx, owner, ch, plaza.NewID())
		wantCode(t, err, plaza.ENotFound)

		_, err = e.svc.CreatePost(ctx, editor, ch, PostInput{Title: "Early", Body: "b", Category: "news"})
		wantCode(t, err, plaza.EForbidden)

		c, err := e.svc.AddEditor(ctx, owner, ch, editor)
		if err != nil {
			t.Fatalf("AddEditor: %v", err)
		}
		if !slices.Equal(c.EditorIDs, []plaza.ID{editor}) {
			t.Errorf("editors = %v, want [%d]", c.EditorIDs, editor)
		}
		if c, err = e.svc.AddEditor(ctx, owner, ch, editor); err != nil || len(c.EditorIDs) != 1 {
			t.Errorf("adding again = %v, %v, want one editor", c.EditorIDs, err)
		}
		p := e.post(t, editor, ch, "By the editor", "news")
		if p.AuthorID != editor || p.Status != PostPublished {
			t.Errorf("editor's post = %+v", p)
		}
		// Editors do not manage editors.
		_, err = e.svc.AddEditor(ctx, editor, ch, stranger)
		wantCode(t, err, plaza.EForbidden)
		wantCode(t, e.svc.RemoveEditor(ctx, editor, ch, editor), plaza.EForbidden)
		wantCode(t, e.svc.RemoveEditor(ctx, stranger, ch, editor), plaza.EForbidden)

		if err := e.svc.RemoveEditor(ctx, owner, ch, editor); err != nil {
			t.Fatalf("RemoveEditor: %v", err)
		}
		wantCode(t, e.svc.RemoveEditor(ctx, owner, ch, editor), plaza.ENotFound)
		if c := e.get(t, owner, ch); len(c.EditorIDs) != 0 {
			t.Errorf("editors after removal = %v", c.EditorIDs)
		}
		_, err = e.svc.CreatePost(ctx, editor, ch, PostInput{Title: "Late", Body: "b", Category: "news"})
		wantCode(t, err, plaza.EForbidden)
		_, err = e.svc.CreatePost(ctx, stranger, ch, PostInput{Title: "Stranger", Body: "b", Category: "news"})
		wantCode(t, err, plaza.EForbidden)
	})
}

func TestSetStatus(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 3})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "troubled", ServiceKind)
		e.category(t, "news", PolicyOpen)

		for _, tt := range []struct {
			status, reason string
			fields         []string
		}{
			{"deleted", "why", []string{"status"}},
			{StatusSuspended, "", []string{"reason"}},
			{StatusSuspended, "   ", []string{"reason"}},
			{StatusSuspended, strings.Repeat("r", 1001), []string{"reason"}},
		} {
			_, err := e.svc.SetStatus(ctx, e.reviewer, ch, tt.status, tt.reason)
			wantFields(t, err, tt.fields...)
		}
		_, err := e.svc.SetStatus(ctx, e.reviewer, plaza.NewID(), StatusSuspended, "x")
		wantCode(t, err, plaza.ENotFound)

		c, err := e.svc.SetStatus(ctx, e.reviewer, ch, StatusSuspended, " misleading health claims ")
		if err != nil {
			t.Fatalf("suspend: %v", err)
		}
		if c.Status != StatusSuspended || c.StatusReason != "misleading health claims" {
			t.Errorf("suspended = %q %q", c.Status, c.StatusReason)
		}
		if c := e.get(t, e.user(2), ch); c.StatusReason != "misleading health claims" {
			t.Errorf("a follower sees reason %q", c.StatusReason)
		}
		_, err = e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "T", Body: "B", Category: "news"})
		pe := wantCode(t, err, plaza.EForbidden)
		if pe.Details["reason"] != "misleading health claims" {
			t.Errorf("post refusal details = %v, want the reason", pe.Details)
		}

		c, err = e.svc.SetStatus(ctx, e.reviewer, ch, StatusActive, "appeal upheld")
		if err != nil {
			t.Fatalf("reinstate: %v", err)
		}
		if c.Status != StatusActive || c.StatusReason != "" {
			t.Errorf("reinstated = %q %q, want active with no reason shown", c.Status, c.StatusReason)
		}
		e.post(t, owner, ch, "Back", "news")

		c, err = e.svc.SetStatus(ctx, e.reviewer, ch, StatusClosed, "repeated violations")
		if err != nil {
			t.Fatalf("close: %v", err)
		}
		if c.Status != StatusClosed || c.StatusReason != "repeated violations" {
			t.Errorf("closed = %q %q", c.Status, c.StatusReason)
		}
		for _, s := range []string{StatusActive, StatusSuspended, StatusClosed} {
			_, err := e.svc.SetStatus(ctx, e.reviewer, ch, s, "try again")
			wantCode(t, err, plaza.EConflict)
		}
		_, err = e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "T", Body: "B", Category: "news"})
		wantCode(t, err, plaza.EForbidden)

		var got []string
		for _, en := range e.auditLog(t) {
			if en.TargetType == "channel" && en.TargetID == ch.String() {
				got = append(got, en.Action+": "+en.Reason)
			}
		}
		want := []string{"channel.suspend: misleading health claims", "channel.reinstate: appeal upheld", "channel.close: repeated violations"}
		if !slices.Equal(got, want) {
			t.Errorf("audited = %q, want %q", got, want)
		}
	})
}

func TestSearchUnicodeCase(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ctx := context.Background()
		mk := func(handle, name string) plaza.ID {
			a, err := e.svc.Apply(ctx, e.user(1), ApplicationInput{Handle: handle, Name: name, Kind: Subscription})
			if err != nil {
				t.Fatalf("Apply(%s): %v", handle, err)
			}
			a, err = e.svc.DecideApplication(ctx, e.reviewer, a.ID, true, "")
			if err != nil {
				t.Fatalf("approve: %v", err)
			}
			return *a.ChannelID
		}
		strasse := mk("strasse", "Über Straße")
		news := mk("novosti", "Новости Дня")
		cn := mk("zhongwen", "中文新闻")
		for _, tt := range []struct {
			q    string
			want []plaza.ID
		}{
			{"über", []plaza.ID{strasse}},
			{"ÜBER", []plaza.ID{strasse}},
			{"straße", []plaza.ID{strasse}},
			{"новости", []plaza.ID{news}},
			{"НОВОСТИ ДНЯ", []plaza.ID{news}},
			{"新闻", []plaza.ID{cn}},
		} {
			got, err := e.svc.Search(ctx, tt.q, 0, 10)
			var ids []plaza.ID
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			if err != nil || !slices.Equal(ids, tt.want) {
				t.Errorf("Search(%q) = %v, %v, want %v", tt.q, ids, err, tt.want)
			}
		}
	})
}

// TestQuotasAreCopies changes the quota a caller got back: the service's
// own configuration must not change with it.
func TestQuotasAreCopies(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2})
		ch := e.newChannel(t, e.user(1), "aliased", Subscription)
		c := e.get(t, e.user(1), ch)
		if c.DailyPostLimit == nil {
			t.Fatal("a subscription channel has no daily quota")
		}
		*c.DailyPostLimit = 1000 // say, a handler adjusting a copy for display
		if got := quotas(e.get(t, e.user(1), ch)); got != "1 a day, none a month" {
			t.Errorf("quotas after a caller changed its copy = %s, want 1 a day, none a month", got)
		}
	})
}
