package moderation

import (
	"context"
	"fmt"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/microblog"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// befriend makes users a and b contacts.
func (e *env) befriend(tb testing.TB, a, b int) {
	tb.Helper()
	ctx := context.Background()
	req, err := e.chat.RequestContact(ctx, e.user(a), e.user(b), "hi")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := e.chat.AcceptContact(ctx, e.user(b), req.ID); err != nil {
		tb.Fatal(err)
	}
}

func (e *env) send(tb testing.TB, from int, conv plaza.ID, text string) chat.Message {
	tb.Helper()
	m, _, err := e.chat.Send(context.Background(), e.user(from), chat.SendInput{ConversationID: conv, ClientID: plaza.NewID().String(), Kind: "text", Text: text})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestMessageReportCarriesItsEvidence: a member reports a message with
// the ones before it; the moderator gets exactly those, a non-member
// cannot report it, and removing it hides it from the other members.
func TestMessageReportCarriesItsEvidence(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 4)
		ctx := context.Background()
		e.befriend(t, 0, 1)
		e.befriend(t, 0, 2)
		g, err := e.chat.CreateGroup(ctx, e.user(0), "群聊 group", []plaza.ID{e.user(1), e.user(2)})
		if err != nil {
			t.Fatal(err)
		}
		var msgs []chat.Message
		for i := range 14 {
			msgs = append(msgs, e.send(t, i%2, g.ID, fmt.Sprintf("message %d", i)))
		}
		bad := e.send(t, 1, g.ID, "you will regret this")
		// user3 is not a member: the message does not exist for them.
		_, err = e.svc.File(ctx, e.actor(3), ReportInput{TargetType: TargetMessage, TargetID: bad.ID, RuleID: 2, Context: true})
		plazatest.WantCode(t, err, plaza.ENotFound)
		// Without context: only the message.
		r1, err := e.svc.File(ctx, e.actor(2), ReportInput{TargetType: TargetMessage, TargetID: bad.ID, RuleID: 2})
		if err != nil {
			t.Fatal(err)
		}
		// With context: it and the 10 before it.
		if _, err := e.svc.File(ctx, e.actor(0), ReportInput{TargetType: TargetMessage, TargetID: bad.ID, RuleID: 2, Context: true}); err != nil {
			t.Fatal(err)
		}
		it := e.itemOf(t, r1)
		if it.ReportCount != 2 || it.Snapshot.Text != "you will regret this" || it.OwnerID != e.user(1) {
			t.Fatalf("item = %+v", it)
		}
		if n := len(it.Reports[0].Evidence); n != 1 {
			t.Fatalf("report without context carries %d messages, want 1", n)
		}
		ev := it.Reports[1].Evidence
		if len(ev) != 11 || ev[10].ID != bad.ID || ev[0].ID != msgs[4].ID {
			t.Fatalf("report with context carries %d messages (first %v), want the 10 before it and it", len(ev), ev[0].Text)
		}
		d := e.decide(t, 0, r1, DecisionInput{Action: Remove, RuleID: 2, Reason: "A threat."})
		// The other members see a removed message without its content; the
		// sender sees it marked.
		hist, err := e.chat.History(ctx, e.user(2), g.ID, 0, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		last := hist[len(hist)-1]
		if last.ID != bad.ID || last.Text != "" || !last.Removed {
			t.Fatalf("a member sees %+v", last)
		}
		own, _ := e.chat.History(ctx, e.user(1), g.ID, 0, 0, 100)
		if m := own[len(own)-1]; m.Text != "you will regret this" || !m.Removed || m.DecisionID != d.ID {
			t.Fatalf("the sender sees %+v", m)
		}
		// Reversal on appeal brings it back.
		a, err := e.svc.Appeal(ctx, e.actor(1), d.ID, "It was a line from a song we both know.")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.DecideAppeal(ctx, e.mods[1], a.ID, false, "Context shows a song lyric."); err != nil {
			t.Fatal(err)
		}
		hist, _ = e.chat.History(ctx, e.user(2), g.ID, 0, 0, 100)
		if last := hist[len(hist)-1]; last.Text != "you will regret this" || last.Removed {
			t.Fatalf("after reversal a member sees %+v", last)
		}
		// A message cannot be limited.
		r3 := e.report(t, 2, TargetMessage, msgs[0].ID, 1)
		_, err = e.svc.DecideReport(ctx, e.mods[0], r3.ItemID, DecisionInput{Action: Limit, RuleID: 1, Reason: "x"})
		plazatest.WantInvalidField(t, err, "action")
	})
}

// TestPostDecisions labels, limits and removes posts; a decision on a
// post deleted since it was reported still records; a reversal clears
// only the decision still in force.
func TestPostDecisions(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 3)
		ctx := context.Background()
		post := func(text string) microblog.Post {
			p, err := e.blog.Create(ctx, e.user(0), microblog.PostInput{Text: text})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		// Label: everyone sees the note.
		p1 := post("drink bleach to cure it")
		d1 := e.decide(t, 0, e.report(t, 1, TargetPost, p1.ID, 4), DecisionInput{Action: Label, RuleID: 4, Reason: "Dangerous health claim.", Label: "False: health authorities say this is poisonous."})
		got, err := e.blog.Get(ctx, e.user(2), p1.ID)
		if err != nil || got.Label == "" || got.DecisionID != d1.ID {
			t.Fatalf("labelled post for a stranger = %+v, %v", got, err)
		}
		// Then removed by a later decision on its own initiative; reversing
		// the label must not bring it back.
		d2, err := e.svc.Act(ctx, e.mods[0], DecisionInput{TargetType: TargetPost, TargetID: p1.ID, Action: Remove, RuleID: 4, Reason: "Repeated."})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.blog.Get(ctx, e.user(2), p1.ID)
		plazatest.WantCode(t, err, plaza.ENotFound)
		a1, err := e.svc.Appeal(ctx, e.actor(0), d1.ID, "the label is wrong")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.DecideAppeal(ctx, e.mods[1], a1.ID, false, "label withdrawn"); err != nil {
			t.Fatal(err)
		}
		_, err = e.blog.Get(ctx, e.user(2), p1.ID)
		plazatest.WantCode(t, err, plaza.ENotFound)
		view, _ := e.blog.ModerationView(ctx, p1.ID)
		if view.Moderation.DecisionID != d2.ID {
			t.Fatalf("after reversing the label the post carries decision %d, want the removal %d", view.Moderation.DecisionID, d2.ID)
		}

		// Deleted after the report: the decision still records, with the
		// content as reported.
		p2 := post("spam spam spam")
		r2 := e.report(t, 1, TargetPost, p2.ID, 1)
		if err := e.blog.Delete(ctx, e.user(0), p2.ID); err != nil {
			t.Fatal(err)
		}
		d3 := e.decide(t, 0, r2, DecisionInput{Action: Remove, RuleID: 1, Reason: "Spam."})
		if d3.Content.Text != "spam spam spam" {
			t.Fatalf("statement content = %+v, want the post as reported", d3.Content)
		}
		// Suspending from a post report acts on its author.
		p3 := post("more spam")
		r3 := e.report(t, 1, TargetPost, p3.ID, 1)
		d4 := e.decide(t, 1, r3, DecisionInput{Action: Suspend, RuleID: 1, Reason: "Spam run.", DurationDays: 2})
		pe := plazatest.WantCode(t, e.accts.CheckStanding(ctx, e.user(0)), plaza.EAccountSuspended)
		if pe.Details["decision_id"] != d4.ID.String() {
			t.Fatalf("details = %v", pe.Details)
		}
		mine, _ := e.svc.MyDecisions(ctx, e.user(0), 0, 10)
		if len(mine) != 4 {
			t.Fatalf("the author has %d statements, want 4 (label, removal, removal, suspension)", len(mine))
		}
	})
}

// TestStricterDecisionsHold: a milder decision does not replace a
// stricter one in force, and reversing the stricter one brings back the
// milder one still in force.
func TestStricterDecisionsHold(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 3)
		ctx := context.Background()
		p, err := e.blog.Create(ctx, e.user(0), microblog.PostInput{Text: "a dubious claim"})
		if err != nil {
			t.Fatal(err)
		}
		label, err := e.svc.Act(ctx, e.mods[0], DecisionInput{TargetType: TargetPost, TargetID: p.ID, Action: Label, Label: "Disputed", RuleID: 4, Reason: "disputed"})
		if err != nil {
			t.Fatal(err)
		}
		remove, err := e.svc.Act(ctx, e.mods[1], DecisionInput{TargetType: TargetPost, TargetID: p.ID, Action: Remove, RuleID: 4, Reason: "harmful"})
		if err != nil {
			t.Fatal(err)
		}
		// The author's appeal is the way back.
		a, err := e.svc.Appeal(ctx, e.actor(0), remove.ID, "not harmful")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.DecideAppeal(ctx, e.mods[0], a.ID, false, "not harmful after all"); err != nil {
			t.Fatal(err)
		}
		got, err := e.blog.Get(ctx, e.user(2), p.ID)
		if err != nil || got.Label != "Disputed" || got.DecisionID != label.ID {
			t.Fatalf("after reversing the removal the post is %+v, %v; want it back with the label still in force", got, err)
		}
		// Now labelled again: a limit is stricter and takes its place; a
		// second label is not milder and replaces the first.
		if _, err := e.svc.Act(ctx, e.mods[1], DecisionInput{TargetType: TargetPost, TargetID: p.ID, Action: Limit, RuleID: 4, Reason: "limit"}); err != nil {
			t.Fatal(err)
		}
		p2, _ := e.blog.Create(ctx, e.user(0), microblog.PostInput{Text: "another"})
		if _, err := e.svc.Act(ctx, e.mods[0], DecisionInput{TargetType: TargetPost, TargetID: p2.ID, Action: Limit, RuleID: 4, Reason: "limit"}); err != nil {
			t.Fatal(err)
		}
		// A follower still sees the limited post, and reports it; a milder
		// decision on that report is refused.
		if err := e.blog.Follow(ctx, e.user(1), e.user(0)); err != nil {
			t.Fatal(err)
		}
		r2 := e.report(t, 1, TargetPost, p2.ID, 4)
		_, err = e.svc.DecideReport(ctx, e.mods[1], r2.ItemID, DecisionInput{Action: Label, Label: "Disputed", RuleID: 4, Reason: "milder"})
		pe := plazatest.WantCode(t, err, plaza.EConflict)
		if pe.Details["decision_id"] == nil {
			t.Fatalf("details = %v, want the stricter decision named", pe.Details)
		}
	})
}

// TestOwnInitiativeLimits: without a report a moderator may not dismiss,
// may not act on what they cannot see or on what waits in the queue, and
// may not act on what they reported.
func TestOwnInitiativeLimits(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, 3)
		ctx := context.Background()
		pub, _ := e.blog.Create(ctx, e.user(0), microblog.PostInput{Text: "public"})
		hidden, _ := e.blog.Create(ctx, e.user(0), microblog.PostInput{Text: "for followers", Visibility: microblog.Followers})
		_, err := e.svc.Act(ctx, e.mods[0], DecisionInput{TargetType: TargetPost, TargetID: pub.ID, Action: Dismiss, RuleID: 1})
		plazatest.WantInvalidField(t, err, "action")
		_, err = e.svc.Act(ctx, e.mods[0], DecisionInput{TargetType: TargetPost, TargetID: hidden.ID, Action: Label, Label: "x", RuleID: 1, Reason: "x"})
		plazatest.WantCode(t, err, plaza.ENotFound)
		// A moderator files a report: nobody decides it from outside the
		// queue, and its filer decides neither the report, nor the target
		// on their own initiative, nor the appeal.
		r, err := e.svc.File(ctx, e.mods[0], ReportInput{TargetType: TargetPost, TargetID: pub.ID, RuleID: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Act(ctx, e.mods[1], DecisionInput{TargetType: TargetPost, TargetID: pub.ID, Action: Label, Label: "x", RuleID: 1, Reason: "x"})
		plazatest.WantCode(t, err, plaza.EConflict)
		_, err = e.svc.DecideReport(ctx, e.mods[0], r.ItemID, DecisionInput{Action: Remove, RuleID: 1, Reason: "x"})
		plazatest.WantCode(t, err, plaza.EForbidden)
		d := e.decide(t, 1, r, DecisionInput{Action: Remove, RuleID: 1, Reason: "spam"})
		a, err := e.svc.Appeal(ctx, e.actor(0), d.ID, "not spam")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.DecideAppeal(ctx, e.mods[0], a.ID, true, "it is")
		plazatest.WantCode(t, err, plaza.EForbidden)
		// An order needs a target that exists, and grounds decisions only
		// on it.
		missing := plaza.NewID()
		_, err = e.svc.RecordOrder(ctx, e.admin, Order{Authority: "A", LegalBasis: "B", ReceivedAt: e.clock.Now(), Scope: "c", TargetType: TargetPost, TargetID: &missing, Outcome: Complied})
		plazatest.WantInvalidField(t, err, "target_id")
		o, err := e.svc.RecordOrder(ctx, e.admin, Order{Authority: "A", LegalBasis: "B", ReceivedAt: e.clock.Now(), Scope: "all posts on X", Outcome: PartiallyComplied})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Act(ctx, e.admin, DecisionInput{TargetType: TargetAccount, TargetID: e.user(2), Action: Suspend, DurationDays: 1, RuleID: 3, Reason: "x", AuthorityOrderID: o.ID})
		plazatest.WantInvalidField(t, err, "authority_order_id")
	})
}
