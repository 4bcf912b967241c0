package chat

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// moderate applies m to a message the way package moderation does: in
// its own transaction.
func (e *env) moderate(tb testing.TB, id plaza.ID, m plaza.Moderation) (plaza.ID, error) {
	tb.Helper()
	var sender plaza.ID
	var pending []events.Pending
	err := e.db.InTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		sender, pending, err = e.svc.ModerateMessage(context.Background(), tx, id, m)
		return err
	})
	if err == nil {
		e.svc.evlog.Publish(context.Background(), pending)
	}
	return sender, err
}

// TestModerateMessage labels, removes and restores a message and checks
// every way members read it — history, the conversation list, sync and
// the live message.moderated frame, media — for its sender, two other
// members and one who joined after it.
func TestModerateMessage(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		users := e.accountsN(t, "mod", 4)
		sender, b, c, late := users[0], users[1], users[2], users[3]
		conv := e.group(t, sender, "moderated", b, c)
		e.send(t, b, conv.ID, "one")
		e.send(t, c, conv.ID, "two")
		target := e.send(t, sender, conv.ID, "the offending text")
		mediaID := plaza.NewID()
		if _, err := db.Write().ExecContext(ctx, `UPDATE messages SET media_id = $1 WHERE id = $2`, mediaID, target.ID); err != nil {
			t.Fatal(err)
		}
		e.befriend(t, sender, late)
		if _, err := e.svc.AddMembers(ctx, sender, conv.ID, []plaza.ID{late}); err != nil {
			t.Fatal(err)
		}
		live := map[plaza.ID]*recorder{sender: e.record(t, sender), b: e.record(t, b)}
		lateHead, err := e.svc.Head(ctx, late)
		mustNil(t, err, "head")

		steps := []plaza.Moderation{
			{Action: plaza.ModLabel, Label: "Context: this is satire", DecisionID: plaza.NewID()},
			{Action: plaza.ModRemove, DecisionID: plaza.NewID()},
			{},
			{Action: plaza.ModRemove, DecisionID: plaza.NewID()},
			{},
		}
		for step, m := range steps {
			name := fmt.Sprintf("step %d (%q)", step, m.Action)
			got, err := e.moderate(t, target.ID, m)
			mustNil(t, err, name)
			if got != sender {
				t.Fatalf("%s: ModerateMessage returned %d, want the sender %d", name, got, sender)
			}
			// check checks one rendering of the target for viewer.
			check := func(where string, viewer plaza.ID, got Message) {
				t.Helper()
				removed := m.Action == plaza.ModRemove
				wantText, wantMedia := "the offending text", true
				if removed && viewer != sender {
					wantText, wantMedia = "", false
				}
				var wantLabel string
				var wantDecision plaza.ID
				if m.Action == plaza.ModLabel {
					wantLabel, wantDecision = m.Label, m.DecisionID
				}
				if removed && viewer == sender {
					wantDecision = m.DecisionID
				}
				if got.ID != target.ID || got.Seq != target.Seq || got.Text != wantText || (got.MediaID != nil) != wantMedia ||
					got.Removed != removed || got.Label != wantLabel || got.DecisionID != wantDecision {
					t.Fatalf("%s: %s for %d: got seq %d text %q media %v removed %v label %q decision %d, want seq %d text %q media %v removed %v label %q decision %d",
						name, where, viewer, got.Seq, got.Text, got.MediaID != nil, got.Removed, got.Label, got.DecisionID,
						target.Seq, wantText, wantMedia, removed, wantLabel, wantDecision)
				}
			}
			for _, v := range []plaza.ID{sender, b, c} {
				hist := e.history(t, v, conv.ID)
				i := slices.IndexFunc(hist, func(x Message) bool { return x.ID == target.ID })
				if i < 0 {
					t.Fatalf("%s: %d's history lost the message's place", name, v)
				}
				check("History", v, hist[i])
				list, _, err := e.svc.List(ctx, v, ListCursor{}, 10)
				mustNil(t, err, "List")
				if len(list) != 1 || list[0].LastMessage == nil {
					t.Fatalf("%s: %d's conversation list %+v", name, v, list)
				}
				check("List", v, *list[0].LastMessage)
				evs := e.syncAll(t, v, 0)
				created := ofType(evs, events.MessageCreated)
				i = slices.IndexFunc(created, func(ev event) bool { return ev.message(t).ID == target.ID })
				if i < 0 {
					t.Fatalf("%s: %d's sync log has no message.created for it", name, v)
				}
				check("sync message.created", v, created[i].message(t))
				moderated := ofType(evs, events.MessageModerated)
				if len(moderated) != step+1 {
					t.Fatalf("%s: %d's sync log has %d message.moderated, want %d", name, v, len(moderated), step+1)
				}
				check("sync message.moderated", v, moderated[step].message(t))
				if strings.Contains(string(moderated[step].Data), "offending") != (v == sender || m.Action != plaza.ModRemove) {
					t.Fatalf("%s: %d's frame %s", name, v, moderated[step].Data)
				}
				ok, err := e.svc.CanSeeMedia(ctx, v, mediaID)
				mustNil(t, err, "CanSeeMedia")
				if want := v == sender || m.Action != plaza.ModRemove; ok != want {
					t.Fatalf("%s: %d sees the media: %v, want %v", name, v, ok, want)
				}
			}
			for v, r := range live {
				evs := r.waitType(t, events.MessageModerated, step+1)
				check("live message.moderated", v, evs[step].message(t))
			}
			// The member who joined after it hears nothing of it.
			for _, ev := range e.syncAll(t, late, lateHead) {
				if ev.Type == events.MessageModerated || ev.Type == events.MessageCreated {
					t.Fatalf("%s: the late member got %s %s", name, ev.Type, ev.Data)
				}
			}
			if ok, err := e.svc.CanSeeMedia(ctx, late, mediaID); err != nil || ok {
				t.Fatalf("%s: the late member sees the media: %v, %v", name, ok, err)
			}
		}
		v, err := e.svc.MessageModerationView(ctx, target.ID)
		mustNil(t, err, "MessageModerationView")
		if v.Text != "the offending text" || v.Moderation != (plaza.Moderation{}) {
			t.Fatalf("MessageModerationView: %+v", v)
		}
	})
}

// TestModerateMessageRefused: limit does not apply to messages, a label
// needs its note, and a message that does not exist is not_found; a
// rolled-back decision changes nothing and sends nothing.
func TestModerateMessageRefused(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		users := e.accountsN(t, "ref", 2)
		conv := e.direct(t, users[0], users[1])
		msg := e.send(t, users[0], conv.ID, "hello")
		for _, c := range []struct {
			id   plaza.ID
			m    plaza.Moderation
			code string
		}{
			{msg.ID, plaza.Moderation{Action: plaza.ModLimit, DecisionID: 1}, plaza.EInvalid},
			{msg.ID, plaza.Moderation{Action: plaza.ModLabel, DecisionID: 1}, plaza.EInvalid},
			{msg.ID, plaza.Moderation{Action: plaza.ModRemove}, plaza.EInvalid},
			{plaza.NewID(), plaza.Moderation{Action: plaza.ModRemove, DecisionID: 1}, plaza.ENotFound},
		} {
			_, err := e.moderate(t, c.id, c.m)
			wantCode(t, err, c.code)
		}
		r := e.record(t, users[1])
		err := e.db.InTx(ctx, func(tx *sql.Tx) error {
			if _, _, err := e.svc.ModerateMessage(ctx, tx, msg.ID, plaza.Moderation{Action: plaza.ModRemove, DecisionID: 7}); err != nil {
				return err
			}
			return fmt.Errorf("the decision failed after all")
		})
		if err == nil {
			t.Fatal("rolled-back transaction: no error")
		}
		if got := e.history(t, users[1], conv.ID); got[0].Removed || got[0].Text != "hello" {
			t.Fatalf("after a rollback the message is %+v", got[0])
		}
		if evs := ofType(e.syncAll(t, users[1], 0), events.MessageModerated); len(evs) != 0 {
			t.Fatalf("after a rollback the sync log has %d message.moderated", len(evs))
		}
		// A later event arrives; the rolled-back one never did.
		e.send(t, users[0], conv.ID, "still here")
		r.waitType(t, events.MessageCreated, 1)
		if evs := ofType(r.snapshot(t), events.MessageModerated); len(evs) != 0 {
			t.Fatalf("after a rollback the bus carried %d message.moderated", len(evs))
		}
	})
}

// TestReportEvidence: the reported message and up to before earlier ones
// the reporter may see (from when they joined; not recalled; not removed
// but their own), oldest first; not_found for non-members, former
// members, a member who joined after the message, a recalled message and
// one removed; before outside 0–10 is invalid.
func TestReportEvidence(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		users := e.accountsN(t, "ev", 6)
		a, b, c, late, outsider, leaver := users[0], users[1], users[2], users[3], users[4], users[5]
		conv := e.group(t, a, "evidence", b, c, leaver)
		e1 := e.send(t, b, conv.ID, "e1")
		e2 := e.send(t, c, conv.ID, "e2")
		e3 := e.send(t, a, conv.ID, "e3")
		if _, err := e.svc.Recall(ctx, a, conv.ID, e3.ID); err != nil {
			t.Fatal(err)
		}
		e4 := e.send(t, c, conv.ID, "e4")
		if _, err := e.moderate(t, e4.ID, plaza.Moderation{Action: plaza.ModRemove, DecisionID: plaza.NewID()}); err != nil {
			t.Fatal(err)
		}
		e.befriend(t, a, late)
		if _, err := e.svc.AddMembers(ctx, a, conv.ID, []plaza.ID{late}); err != nil {
			t.Fatal(err)
		}
		e.send(t, c, conv.ID, "e5")
		target := e.send(t, c, conv.ID, "target")
		if _, err := e.svc.RemoveMember(ctx, a, conv.ID, leaver); err != nil {
			t.Fatal(err)
		}
		texts := func(msgs []Message) []string {
			out := make([]string, len(msgs))
			for i, m := range msgs {
				out[i] = m.Text
			}
			return out
		}
		for _, tc := range []struct {
			reporter, msg plaza.ID
			before        int
			want          []string
		}{
			{b, target.ID, 10, []string{"e1", "e2", "e5", "target"}},
			{b, target.ID, 2, []string{"e2", "e5", "target"}},
			{b, target.ID, 0, []string{"target"}},
			{c, target.ID, 10, []string{"e1", "e2", "e4", "e5", "target"}}, // c sent e4
			{late, target.ID, 10, []string{"e5", "target"}},
			{b, e2.ID, 10, []string{"e1", "e2"}},
			{c, e4.ID, 1, []string{"e2", "e4"}},
		} {
			got, err := e.svc.ReportEvidence(ctx, tc.reporter, tc.msg, tc.before)
			mustNil(t, err, "ReportEvidence")
			if !slices.Equal(texts(got), tc.want) {
				t.Errorf("ReportEvidence(%d, %d, %d) = %q, want %q", tc.reporter, tc.msg, tc.before, texts(got), tc.want)
			}
		}
		for _, tc := range []struct {
			what          string
			reporter, msg plaza.ID
		}{
			{"a non-member", outsider, target.ID},
			{"a former member", leaver, e1.ID},
			{"a member who joined after it", late, e2.ID},
			{"a recalled message", b, e3.ID},
			{"a removed message", b, e4.ID},
			{"no message", b, plaza.NewID()},
		} {
			_, err := e.svc.ReportEvidence(ctx, tc.reporter, tc.msg, 10)
			if !isCode(err, plaza.ENotFound) {
				t.Errorf("%s: got %v, want not_found", tc.what, err)
			}
		}
		for _, before := range []int{-1, 11} {
			_, err := e.svc.ReportEvidence(ctx, b, target.ID, before)
			wantInvalid(t, err, "before")
		}
	})
}
