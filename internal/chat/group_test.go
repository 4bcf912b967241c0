package chat

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestCreateGroup(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withChat(func(c *Config) { c.MaxGroupMembers = 3 }))
		o := e.account(t, "owner")
		users := e.accountsN(t, "friend", 3)
		for _, u := range users {
			e.befriend(t, o, u)
		}
		stranger := e.account(t, "stranger")

		for _, tc := range []struct {
			name    string
			title   string
			members []plaza.ID
			code    string
			field   string
		}{
			{name: "empty title", title: "", members: users[:1], code: plaza.EInvalid, field: "title"},
			{name: "blank title", title: " \t\n ", members: users[:1], code: plaza.EInvalid, field: "title"},
			{name: "title of 65 characters", title: strings.Repeat("t", 65), members: users[:1], code: plaza.EInvalid, field: "title"},
			{name: "too many members", title: "big", members: users, code: plaza.EInvalid, field: "member_ids"},
			{name: "not a contact", title: "g", members: []plaza.ID{users[0], stranger}, code: plaza.ENotAContact},
			{name: "unknown account", title: "g", members: []plaza.ID{plaza.NewID()}, code: plaza.ENotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.svc.CreateGroup(ctx, o, tc.title, tc.members)
				if tc.field != "" {
					wantInvalid(t, err, tc.field)
				} else {
					wantCode(t, err, tc.code)
				}
			})
		}
		var n int
		mustNil(t, db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM conversations`).Scan(&n), "count")
		if n != 0 {
			t.Fatalf("%d conversations stored by failed creations, want 0", n)
		}

		// The owner plus two, listed with duplicates and the owner again,
		// is within the limit of three.
		title := strings.Repeat("é", 64)
		g, err := e.svc.CreateGroup(ctx, o, "  "+title+"  ", []plaza.ID{users[0], o, users[1], users[0]})
		mustNil(t, err, "create")
		if g.Kind != Group || g.Title != title || g.OwnerID != o || len(g.AdminIDs) != 0 || g.LastSeq != 0 {
			t.Errorf("group = %+v, want kind group, the trimmed title and owner %s", g, o)
		}
		if want := []plaza.ID{o, users[0], users[1]}; !sameIDs(g.MemberIDs, want) {
			t.Errorf("member_ids = %v, want %v (the creator included, deduplicated)", g.MemberIDs, want)
		}
		got, err := e.svc.Get(ctx, users[1], g.ID)
		mustNil(t, err, "get")
		if got.OwnerID != o || len(got.MemberIDs) != 3 || got.Title != title {
			t.Errorf("get = %+v, want owner %s and three members", got, o)
		}
		for _, id := range g.MemberIDs {
			evs := ofType(e.syncAll(t, id, 0), events.ConversationUpdated)
			if len(evs) != 1 || evs[0].conversation(t).ID != g.ID {
				t.Errorf("member %s has conversation.updated %+v, want one for the group", id, evs)
			}
		}
		// A group of one is allowed: notes to self.
		solo, err := e.svc.CreateGroup(ctx, o, "notes", nil)
		mustNil(t, err, "group of one")
		e.send(t, o, solo.ID, "remember the milk")
	})
}

func TestAddMembersSeeMessagesFromJoining(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b, c, d := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol"), e.account(t, "dave")
		g := e.group(t, a, "club", b)
		for i := range 3 {
			e.send(t, a, g.ID, fmt.Sprint("before ", i))
		}
		e.befriend(t, a, c)
		rc := e.record(t, c)

		got, err := e.svc.AddMembers(ctx, a, g.ID, []plaza.ID{c, c, b})
		mustNil(t, err, "add")
		if want := []plaza.ID{a, b, c}; !sameIDs(got.MemberIDs, want) {
			t.Errorf("members = %v, want %v", got.MemberIDs, want)
		}
		if msgs := e.history(t, c, g.ID); len(msgs) != 0 {
			t.Errorf("carol sees %d messages from before she joined, want 0", len(msgs))
		}
		list, _, err := e.svc.List(ctx, c, ListCursor{}, 10)
		mustNil(t, err, "list")
		if len(list) != 1 || list[0].UnreadCount != 0 || list[0].LastMessage != nil || list[0].LastSeq != 3 {
			t.Errorf("carol's list = %+v, want the group with nothing unread and no last message", list)
		}
		upd := rc.waitType(t, events.ConversationUpdated, 1)
		if cv := upd[0].conversation(t); cv.ID != g.ID || !contains(cv.MemberIDs, c) {
			t.Errorf("carol's conversation.updated = %+v, want the group with her", cv)
		}

		for i := range 2 {
			e.send(t, b, g.ID, fmt.Sprint("after ", i))
		}
		wantSeqs(t, e.history(t, c, g.ID), 4, 5)
		wantSeqs(t, e.history(t, b, g.ID), 1, 5)
		// Paging back does not reach before her joining either.
		back, err := e.svc.History(ctx, c, g.ID, 0, 5, 10)
		mustNil(t, err, "history before 5")
		wantSeqs(t, back, 4, 4)
		if evs := ofType(e.syncAll(t, c, 0), events.MessageCreated); len(evs) != 2 {
			t.Errorf("carol's log has %d message.created, want 2", len(evs))
		}
		list, _, err = e.svc.List(ctx, c, ListCursor{}, 10)
		mustNil(t, err, "list")
		if list[0].UnreadCount != 2 || list[0].LastMessage == nil || list[0].LastMessage.Seq != 5 {
			t.Errorf("carol's summary = unread %d last %+v, want unread 2 and seq 5", list[0].UnreadCount, list[0].LastMessage)
		}

		// Any member may add their own contacts.
		e.befriend(t, b, d)
		got, err = e.svc.AddMembers(ctx, b, g.ID, []plaza.ID{d})
		mustNil(t, err, "bob adds dave")
		if !contains(got.MemberIDs, d) {
			t.Errorf("members = %v, want dave", got.MemberIDs)
		}
		// But not someone who is not their contact.
		x := e.account(t, "xavier")
		e.befriend(t, a, x)
		_, err = e.svc.AddMembers(ctx, b, g.ID, []plaza.ID{x})
		wantCode(t, err, plaza.ENotAContact)
		// Adding only members changes nothing and tells no one.
		before := len(e.syncAll(t, a, 0))
		got, err = e.svc.AddMembers(ctx, a, g.ID, []plaza.ID{b, c})
		mustNil(t, err, "add members again")
		if len(got.MemberIDs) != 4 {
			t.Errorf("members = %v, want 4", got.MemberIDs)
		}
		if after := len(e.syncAll(t, a, 0)); after != before {
			t.Errorf("adding existing members wrote %d events, want 0", after-before)
		}
	})
}

func TestAddMembersLimit(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withChat(func(c *Config) { c.MaxGroupMembers = 3 }))
		o := e.account(t, "owner")
		users := e.accountsN(t, "user", 3)
		g := e.group(t, o, "small", users[0])
		for _, u := range users {
			e.befriend(t, o, u)
		}
		_, err := e.svc.AddMembers(ctx, o, g.ID, users[1:])
		wantInvalid(t, err, "account_ids")
		got, err := e.svc.AddMembers(ctx, o, g.ID, users[1:2])
		mustNil(t, err, "add up to the limit")
		if len(got.MemberIDs) != 3 {
			t.Errorf("members = %v, want 3", got.MemberIDs)
		}
	})
}

// roles builds a group for the permission tests: an owner, two admins and
// two plain members, each from a distinct account.
type roles struct {
	owner, admin1, admin2, member1, member2, outsider plaza.ID
}

func (e *env) groupWithRoles(tb testing.TB, r roles) Conversation {
	tb.Helper()
	ctx := context.Background()
	g := e.group(tb, r.owner, "roles", r.admin1, r.admin2, r.member1, r.member2)
	for _, id := range []plaza.ID{r.admin1, r.admin2} {
		var err error
		if g, err = e.svc.SetRole(ctx, r.owner, g.ID, id, RoleAdmin); err != nil {
			tb.Fatalf("make admin: %v", err)
		}
	}
	return g
}

func TestRemoveMemberPermissions(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		r := roles{
			owner: e.account(t, "owner"), admin1: e.account(t, "admin1"), admin2: e.account(t, "admin2"),
			member1: e.account(t, "member1"), member2: e.account(t, "member2"), outsider: e.account(t, "outsider"),
		}
		for _, tc := range []struct {
			name     string
			me, who  plaza.ID
			wantCode string
		}{
			{"owner removes an admin", r.owner, r.admin1, ""},
			{"owner removes a member", r.owner, r.member1, ""},
			{"admin removes a member", r.admin1, r.member1, ""},
			{"admin removes an admin", r.admin1, r.admin2, plaza.EForbidden},
			{"admin removes the owner", r.admin1, r.owner, plaza.EForbidden},
			{"member removes a member", r.member1, r.member2, plaza.EForbidden},
			{"member removes an admin", r.member1, r.admin1, plaza.EForbidden},
			{"member removes the owner", r.member1, r.owner, plaza.EForbidden},
			{"member leaves", r.member1, r.member1, ""},
			{"admin leaves", r.admin1, r.admin1, ""},
			{"outsider removes a member", r.outsider, r.member1, plaza.ENotFound},
			{"owner removes an outsider", r.owner, r.outsider, plaza.ENotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := e.groupWithRoles(t, r)
				got, err := e.svc.RemoveMember(ctx, tc.me, g.ID, tc.who)
				if tc.wantCode != "" {
					wantCode(t, err, tc.wantCode)
					after, err := e.svc.Get(ctx, r.owner, g.ID)
					mustNil(t, err, "get")
					if len(after.MemberIDs) != 5 {
						t.Errorf("members after a refused removal = %v, want all 5", after.MemberIDs)
					}
					return
				}
				mustNil(t, err, "remove")
				if contains(got.MemberIDs, tc.who) || len(got.MemberIDs) != 4 {
					t.Errorf("members = %v, want 4 without %s", got.MemberIDs, tc.who)
				}
				if contains(got.AdminIDs, tc.who) {
					t.Errorf("admins = %v still list %s", got.AdminIDs, tc.who)
				}
				if got.OwnerID != r.owner {
					t.Errorf("owner = %s, want %s unchanged", got.OwnerID, r.owner)
				}
			})
		}
	})
}

func TestOwnerLeavingHandsOver(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		o, early, mid, late := e.account(t, "owner"), e.account(t, "early"), e.account(t, "mid"), e.account(t, "late")
		for _, u := range []plaza.ID{early, mid, late} {
			e.befriend(t, o, u)
		}
		// build returns a group that early joined first, then mid, then
		// late, each a minute apart, with admins as given (made admin in
		// the order given, which must not matter).
		build := func(t *testing.T, admins ...plaza.ID) Conversation {
			g, err := e.svc.CreateGroup(ctx, o, "handover", []plaza.ID{early})
			mustNil(t, err, "create")
			e.clock.Advance(time.Minute)
			_, err = e.svc.AddMembers(ctx, o, g.ID, []plaza.ID{mid})
			mustNil(t, err, "add mid")
			e.clock.Advance(time.Minute)
			_, err = e.svc.AddMembers(ctx, o, g.ID, []plaza.ID{late})
			mustNil(t, err, "add late")
			for _, id := range admins {
				_, err := e.svc.SetRole(ctx, o, g.ID, id, RoleAdmin)
				mustNil(t, err, "make admin")
			}
			return g
		}
		for _, tc := range []struct {
			name   string
			admins []plaza.ID
			want   plaza.ID
		}{
			{"to the longest-serving admin", []plaza.ID{late, mid}, mid},
			{"to an admin before an earlier member", []plaza.ID{late}, late},
			{"to the longest-serving member without admins", nil, early},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := build(t, tc.admins...)
				got, err := e.svc.RemoveMember(ctx, o, g.ID, o)
				mustNil(t, err, "owner leaves")
				if got.OwnerID != tc.want {
					t.Errorf("new owner = %s, want %s", got.OwnerID, tc.want)
				}
				if contains(got.MemberIDs, o) || len(got.MemberIDs) != 3 {
					t.Errorf("members = %v, want 3 without the old owner", got.MemberIDs)
				}
				if contains(got.AdminIDs, tc.want) {
					t.Errorf("admins = %v still list the new owner", got.AdminIDs)
				}
				// The new owner has the owner's powers.
				_, err = e.svc.SetRole(ctx, tc.want, g.ID, anyOtherThan(got.MemberIDs, tc.want), RoleAdmin)
				mustNil(t, err, "new owner sets a role")
				// The old owner is told, with the group as it is now.
				evs := ofType(e.syncAll(t, o, 0), events.ConversationUpdated)
				last := evs[len(evs)-1].conversation(t)
				if last.ID != g.ID || last.OwnerID != tc.want || contains(last.MemberIDs, o) {
					t.Errorf("old owner's last conversation.updated = %+v, want the group owned by %s without them", last, tc.want)
				}
			})
		}
	})
}

// sameIDs reports whether got and want hold the same IDs, in any order.
func sameIDs(got, want []plaza.ID) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// anyOtherThan returns a member of ids other than me.
func anyOtherThan(ids []plaza.ID, me plaza.ID) plaza.ID {
	for _, id := range ids {
		if id != me {
			return id
		}
	}
	return 0
}

func TestSetRole(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		r := roles{
			owner: e.account(t, "owner"), admin1: e.account(t, "admin1"), admin2: e.account(t, "admin2"),
			member1: e.account(t, "member1"), member2: e.account(t, "member2"), outsider: e.account(t, "outsider"),
		}
		g := e.groupWithRoles(t, r)
		if g.OwnerID != r.owner || len(g.AdminIDs) != 2 || !contains(g.AdminIDs, r.admin1) || !contains(g.AdminIDs, r.admin2) {
			t.Fatalf("group = owner %s admins %v, want owner %s and admins admin1, admin2", g.OwnerID, g.AdminIDs, r.owner)
		}

		for _, tc := range []struct {
			name    string
			me, who plaza.ID
			role    string
			code    string
			field   string
		}{
			{name: "admin cannot", me: r.admin1, who: r.member1, role: RoleAdmin, code: plaza.EForbidden},
			{name: "member cannot", me: r.member1, who: r.member2, role: RoleAdmin, code: plaza.EForbidden},
			{name: "outsider", me: r.outsider, who: r.member1, role: RoleAdmin, code: plaza.ENotFound},
			{name: "not a member", me: r.owner, who: r.outsider, role: RoleAdmin, code: plaza.ENotFound},
			{name: "owner's own role", me: r.owner, who: r.owner, role: RoleMember, field: "account_id"},
			{name: "role owner", me: r.owner, who: r.member1, role: RoleOwner, field: "role"},
			{name: "unknown role", me: r.owner, who: r.member1, role: "moderator", field: "role"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := e.svc.SetRole(ctx, tc.me, g.ID, tc.who, tc.role)
				if tc.field != "" {
					wantInvalid(t, err, tc.field)
				} else {
					wantCode(t, err, tc.code)
				}
			})
		}

		rm := e.record(t, r.member2)
		got, err := e.svc.SetRole(ctx, r.owner, g.ID, r.member1, RoleAdmin)
		mustNil(t, err, "promote")
		if !contains(got.AdminIDs, r.member1) {
			t.Errorf("admins = %v, want member1", got.AdminIDs)
		}
		if cv := rm.waitType(t, events.ConversationUpdated, 1)[0].conversation(t); !contains(cv.AdminIDs, r.member1) {
			t.Errorf("member2's conversation.updated admins = %v, want member1", cv.AdminIDs)
		}
		// Now member1 may rename and remove plain members.
		_, err = e.svc.Rename(ctx, r.member1, g.ID, "renamed by a new admin")
		mustNil(t, err, "new admin renames")
		got, err = e.svc.SetRole(ctx, r.owner, g.ID, r.admin1, RoleMember)
		mustNil(t, err, "demote")
		if contains(got.AdminIDs, r.admin1) {
			t.Errorf("admins = %v, want no admin1", got.AdminIDs)
		}
		_, err = e.svc.Rename(ctx, r.admin1, g.ID, "nope")
		wantCode(t, err, plaza.EForbidden)
	})
}

func TestRename(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		r := roles{
			owner: e.account(t, "owner"), admin1: e.account(t, "admin1"), admin2: e.account(t, "admin2"),
			member1: e.account(t, "member1"), member2: e.account(t, "member2"), outsider: e.account(t, "outsider"),
		}
		g := e.groupWithRoles(t, r)
		rm := e.record(t, r.member2)

		got, err := e.svc.Rename(ctx, r.owner, g.ID, "  by the owner ")
		mustNil(t, err, "owner renames")
		if got.Title != "by the owner" {
			t.Errorf("title = %q, want %q", got.Title, "by the owner")
		}
		if cv := rm.waitType(t, events.ConversationUpdated, 1)[0].conversation(t); cv.Title != "by the owner" || cv.ID != g.ID {
			t.Errorf("member's conversation.updated = %+v, want the new title", cv)
		}
		_, err = e.svc.Rename(ctx, r.admin2, g.ID, "by an admin")
		mustNil(t, err, "admin renames")
		_, err = e.svc.Rename(ctx, r.member1, g.ID, "by a member")
		wantCode(t, err, plaza.EForbidden)
		_, err = e.svc.Rename(ctx, r.outsider, g.ID, "by an outsider")
		wantCode(t, err, plaza.ENotFound)
		_, err = e.svc.Rename(ctx, r.owner, g.ID, " ")
		wantInvalid(t, err, "title")
		_, err = e.svc.Rename(ctx, r.owner, g.ID, strings.Repeat("x", 65))
		wantInvalid(t, err, "title")

		now, err := e.svc.Get(ctx, r.member1, g.ID)
		mustNil(t, err, "get")
		if now.Title != "by an admin" {
			t.Errorf("title = %q, want %q", now.Title, "by an admin")
		}
		for _, id := range []plaza.ID{r.owner, r.admin1, r.admin2, r.member1, r.member2} {
			evs := ofType(e.syncAll(t, id, 0), events.ConversationUpdated)
			if last := evs[len(evs)-1].conversation(t); last.Title != "by an admin" {
				t.Errorf("member %s's last conversation.updated has title %q, want %q", id, last.Title, "by an admin")
			}
		}
	})
}

func TestRemovedMemberIsToldAndLosesAccess(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		o, m, k := e.account(t, "owner"), e.account(t, "member"), e.account(t, "keeper")
		g := e.group(t, o, "club", m, k)
		msg := e.send(t, m, g.ID, "hello")
		rm, rk := e.record(t, m), e.record(t, k)

		_, err := e.svc.RemoveMember(ctx, o, g.ID, m)
		mustNil(t, err, "remove")
		for name, r := range map[string]*recorder{"removed": rm, "remaining": rk} {
			cv := r.waitType(t, events.ConversationUpdated, 1)[0].conversation(t)
			if cv.ID != g.ID || contains(cv.MemberIDs, m) || len(cv.MemberIDs) != 2 {
				t.Errorf("%s member's conversation.updated = %+v, want the group without the removed member", name, cv)
			}
		}
		list, _, err := e.svc.List(ctx, m, ListCursor{}, 10)
		mustNil(t, err, "list")
		if len(list) != 0 {
			t.Errorf("removed member lists %d conversations, want 0", len(list))
		}
		_, err = e.svc.Get(ctx, m, g.ID)
		wantCode(t, err, plaza.ENotFound)
		_, err = e.svc.History(ctx, m, g.ID, 0, 0, 10)
		wantCode(t, err, plaza.ENotFound)
		_, _, err = e.svc.Send(ctx, m, SendInput{ConversationID: g.ID, ClientID: "x", Kind: KindText, Text: "let me back"})
		wantCode(t, err, plaza.ENotFound)
		_, err = e.svc.Recall(ctx, m, g.ID, msg.ID)
		wantCode(t, err, plaza.ENotFound)
		// Later messages do not reach them.
		e.send(t, o, g.ID, "after")
		if n := len(ofType(e.syncAll(t, m, 0), events.MessageCreated)); n != 1 {
			t.Errorf("removed member has %d message.created, want 1 (their own, from before)", n)
		}
	})
}

func TestNonMemberSeesNotFound(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b, x := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "xavier")
		e.befriend(t, a, x)
		e.befriend(t, b, x)
		for name, conv := range map[string]Conversation{"direct": e.direct(t, a, b), "group": e.group(t, a, "g", b)} {
			msg := e.send(t, a, conv.ID, "private")
			t.Run(name, func(t *testing.T) {
				for _, tc := range []struct {
					op  string
					err func() error
				}{
					{"get", func() error { _, err := e.svc.Get(ctx, x, conv.ID); return err }},
					{"history", func() error { _, err := e.svc.History(ctx, x, conv.ID, 0, 0, 10); return err }},
					{"send", func() error {
						_, _, err := e.svc.Send(ctx, x, SendInput{ConversationID: conv.ID, ClientID: "x", Kind: KindText, Text: "hi"})
						return err
					}},
					{"read", func() error { return e.svc.Read(ctx, x, conv.ID, 1) }},
					{"typing", func() error { return e.svc.Typing(ctx, x, conv.ID) }},
					{"recall", func() error { _, err := e.svc.Recall(ctx, x, conv.ID, msg.ID); return err }},
					{"rename", func() error { _, err := e.svc.Rename(ctx, x, conv.ID, "mine"); return err }},
					{"add members", func() error { _, err := e.svc.AddMembers(ctx, x, conv.ID, []plaza.ID{x}); return err }},
					{"remove member", func() error { _, err := e.svc.RemoveMember(ctx, x, conv.ID, a); return err }},
				} {
					t.Run(tc.op, func(t *testing.T) { wantCode(t, tc.err(), plaza.ENotFound) })
				}
			})
		}
		// An ID that is no conversation at all looks the same.
		_, err := e.svc.Get(ctx, a, plaza.NewID())
		wantCode(t, err, plaza.ENotFound)
		_, _, err = e.svc.Send(ctx, a, SendInput{ConversationID: plaza.NewID(), ClientID: "x", Kind: KindText, Text: "hi"})
		wantCode(t, err, plaza.ENotFound)
	})
}

// TestAddMembersConcurrentSamePerson: several members invite the same
// friend at once (all saw them missing); every call must succeed, and the
// friend is a member once. Repeated with a few newcomers, since it takes
// two calls overlapping just so.
func TestAddMembersConcurrentSamePerson(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		users := e.accountsN(t, "member", 6)
		g := e.group(t, users[0], "club", users[1:]...)
		for round := range 5 {
			newcomer := e.account(t, fmt.Sprint("newcomer_", round))
			for _, u := range users {
				e.befriend(t, u, newcomer)
			}
			start := make(chan struct{})
			errs := make([]error, len(users))
			var wg sync.WaitGroup
			for i, u := range users {
				wg.Go(func() {
					<-start
					_, errs[i] = e.svc.AddMembers(ctx, u, g.ID, []plaza.ID{newcomer})
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("round %d: member %d adds the newcomer: %v", round, i, err)
				}
			}
			got, err := e.svc.Get(ctx, newcomer, g.ID)
			mustNil(t, err, "get")
			if n, want := len(got.MemberIDs), len(users)+round+1; n != want {
				t.Errorf("round %d: group has %d members, want %d", round, n, want)
			}
		}
	})
}
