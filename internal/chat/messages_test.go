package chat

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestSendValidation(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		media := plaza.NewID()
		tooMany := make([]plaza.ID, 51)
		for i := range tooMany {
			tooMany[i] = plaza.NewID()
		}

		for _, tc := range []struct {
			name   string
			in     SendInput
			fields []string
		}{
			{"empty text", SendInput{ClientID: "c", Kind: KindText, Text: ""}, []string{"text"}},
			{"blank text", SendInput{ClientID: "c", Kind: KindText, Text: " \n\t "}, []string{"text"}},
			{"4097 characters", SendInput{ClientID: "c", Kind: KindText, Text: strings.Repeat("é", 4097)}, []string{"text"}},
			{"invalid UTF-8", SendInput{ClientID: "c", Kind: KindText, Text: "bad \xff byte"}, []string{"text"}},
			{"text with media", SendInput{ClientID: "c", Kind: KindText, Text: "hi", MediaID: &media}, []string{"media_id"}},
			{"unknown kind", SendInput{ClientID: "c", Kind: "sticker", Text: "hi"}, []string{"kind"}},
			{"no kind", SendInput{ClientID: "c", Text: "hi"}, []string{"kind"}},
			{"image", SendInput{ClientID: "c", Kind: KindImage, MediaID: &media}, []string{"kind"}},
			{"video", SendInput{ClientID: "c", Kind: KindVideo, MediaID: &media}, []string{"kind"}},
			{"voice", SendInput{ClientID: "c", Kind: KindVoice, MediaID: &media}, []string{"kind"}},
			{"file", SendInput{ClientID: "c", Kind: KindFile, MediaID: &media}, []string{"kind"}},
			{"no client_id", SendInput{Kind: KindText, Text: "hi"}, []string{"client_id"}},
			{"blank client_id", SendInput{ClientID: "   ", Kind: KindText, Text: "hi"}, []string{"client_id"}},
			{"client_id of 65", SendInput{ClientID: strings.Repeat("c", 65), Kind: KindText, Text: "hi"}, []string{"client_id"}},
			{"51 mentions", SendInput{ClientID: "c", Kind: KindText, Text: "hi", Mentions: tooMany}, []string{"mentions"}},
			{"every problem at once", SendInput{Kind: KindText, Text: ""}, []string{"client_id", "text"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := tc.in
				in.ConversationID = conv.ID
				_, _, err := e.svc.Send(ctx, a, in)
				for _, f := range tc.fields {
					wantInvalid(t, err, f)
				}
			})
		}
		if got := e.history(t, a, conv.ID); len(got) != 0 {
			t.Fatalf("invalid sends stored %d messages", len(got))
		}

		// The limits themselves are fine.
		for i, text := range []string{strings.Repeat("é", 4096), "x", "  padded  "} {
			m, _, err := e.svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: strings.Repeat(fmt.Sprint(i), 64), Kind: KindText, Text: text})
			mustNil(t, err, fmt.Sprintf("valid text %d", i))
			if m.Text != text || m.Kind != KindText || m.MediaID != nil {
				t.Errorf("stored %q kind %s media %v, want the text as sent", m.Text, m.Kind, m.MediaID)
			}
		}
	})
}

func TestSendMaxTextRunesConfig(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withChat(func(c *Config) { c.MaxTextRunes = 5 }))
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		_, _, err := e.svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: "1", Kind: KindText, Text: "你好你好你"})
		mustNil(t, err, "five characters")
		_, _, err = e.svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: "2", Kind: KindText, Text: "你好你好你好"})
		wantInvalid(t, err, "text")
	})
}

func TestSendReplyTo(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b, c := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol")
		conv := e.direct(t, a, b)
		elsewhere := e.direct(t, a, c)
		orig := e.send(t, b, conv.ID, "question?")
		foreign := e.send(t, c, elsewhere.ID, "elsewhere")

		reply, _, err := e.svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: "r", Kind: KindText, Text: "answer", ReplyTo: &orig.ID})
		mustNil(t, err, "reply")
		if reply.ReplyTo == nil || *reply.ReplyTo != orig.ID {
			t.Errorf("reply_to = %v, want %s", reply.ReplyTo, orig.ID)
		}
		stored := e.history(t, b, conv.ID)
		if got := stored[len(stored)-1]; got.ReplyTo == nil || *got.ReplyTo != orig.ID {
			t.Errorf("stored reply_to = %v, want %s", got.ReplyTo, orig.ID)
		}

		unknown := plaza.NewID()
		for name, id := range map[string]plaza.ID{"another conversation": foreign.ID, "unknown message": unknown} {
			t.Run(name, func(t *testing.T) {
				_, _, err := e.svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: "bad-" + name, Kind: KindText, Text: "x", ReplyTo: &id})
				wantInvalid(t, err, "reply_to")
			})
		}
	})
}

func TestSendMentions(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b, c, x := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol"), e.account(t, "xavier")
		g := e.group(t, a, "club", b, c)

		m, _, err := e.svc.Send(ctx, a, SendInput{ConversationID: g.ID, ClientID: "1", Kind: KindText, Text: "@bob @carol @bob", Mentions: []plaza.ID{b, c, b}})
		mustNil(t, err, "mention members")
		if !slices.Equal(m.Mentions, []plaza.ID{b, c}) {
			t.Errorf("mentions = %v, want [bob carol] once each", m.Mentions)
		}
		if got := e.history(t, c, g.ID)[0]; !slices.Equal(got.Mentions, []plaza.ID{b, c}) {
			t.Errorf("stored mentions = %v, want [bob carol]", got.Mentions)
		}
		_, _, err = e.svc.Send(ctx, a, SendInput{ConversationID: g.ID, ClientID: "2", Kind: KindText, Text: "@xavier", Mentions: []plaza.ID{b, x}})
		wantInvalid(t, err, "mentions")

		// In a direct conversation there is no one to point out: mentions
		// are dropped, whoever they name.
		d := e.direct(t, a, b)
		m, _, err = e.svc.Send(ctx, a, SendInput{ConversationID: d.ID, ClientID: "3", Kind: KindText, Text: "@you", Mentions: []plaza.ID{b, x}})
		mustNil(t, err, "mentions in a direct conversation")
		if len(m.Mentions) != 0 {
			t.Errorf("direct message mentions = %v, want none", m.Mentions)
		}
		if got := e.history(t, b, d.ID)[0]; len(got.Mentions) != 0 {
			t.Errorf("stored direct mentions = %v, want none", got.Mentions)
		}
	})
}

func TestRecall(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		e.send(t, a, conv.ID, "first")
		msg := e.send(t, a, conv.ID, "oops")
		ra, rb := e.record(t, a), e.record(t, b)

		_, err := e.svc.Recall(ctx, b, conv.ID, msg.ID)
		wantCode(t, err, plaza.EForbidden)

		got, err := e.svc.Recall(ctx, a, conv.ID, msg.ID)
		mustNil(t, err, "recall")
		if !got.Recalled || got.Text != "" || got.MediaID != nil || got.ID != msg.ID || got.Seq != msg.Seq || got.SenderID != a {
			t.Errorf("recalled = %+v, want id %s seq %d, recalled, no text", got, msg.ID, msg.Seq)
		}
		hist := e.history(t, b, conv.ID)
		wantSeqs(t, hist, 1, 2)
		if h := hist[1]; !h.Recalled || h.Text != "" || h.ID != msg.ID {
			t.Errorf("history shows %+v, want the message recalled and empty", h)
		}
		if hist[0].Recalled || hist[0].Text != "first" {
			t.Errorf("the other message changed: %+v", hist[0])
		}
		for name, r := range map[string]*recorder{"sender": ra, "other": rb} {
			ev := r.waitType(t, events.MessageRecalled, 1)[0]
			if m := ev.message(t); m.ID != msg.ID || !m.Recalled || m.Text != "" || ev.cursor(t) == 0 {
				t.Errorf("%s's message.recalled = %s cursor %s, want the recalled message with a cursor", name, ev.Data, ev.Cursor)
			}
		}
		// The log replays the message as it is now, and the recall.
		for _, id := range []plaza.ID{a, b} {
			evs := e.syncAll(t, id, 0)
			if n := len(ofType(evs, events.MessageRecalled)); n != 1 {
				t.Errorf("account %s has %d message.recalled, want 1", id, n)
			}
			for _, ev := range ofType(evs, events.MessageCreated) {
				if m := ev.message(t); m.ID == msg.ID && (m.Text != "" || !m.Recalled) {
					t.Errorf("account %s syncs the recalled message as %+v, want it recalled", id, m)
				}
			}
		}
		// The summary shows the last message recalled.
		list, _, err := e.svc.List(ctx, b, ListCursor{}, 10)
		mustNil(t, err, "list")
		if lm := list[0].LastMessage; lm == nil || lm.ID != msg.ID || !lm.Recalled || lm.Text != "" {
			t.Errorf("last message = %+v, want the recalled one", lm)
		}

		// Recalling again changes nothing and tells no one again.
		again, err := e.svc.Recall(ctx, a, conv.ID, msg.ID)
		mustNil(t, err, "recall again")
		if again.ID != msg.ID || !again.Recalled {
			t.Errorf("second recall = %+v, want the recalled message", again)
		}
		if n := len(ofType(e.syncAll(t, b, 0), events.MessageRecalled)); n != 1 {
			t.Errorf("after a second recall bob has %d message.recalled, want 1", n)
		}

		// A message of another conversation, or none at all.
		c := e.account(t, "carol")
		other := e.direct(t, a, c)
		foreign := e.send(t, a, other.ID, "elsewhere")
		_, err = e.svc.Recall(ctx, a, conv.ID, foreign.ID)
		wantCode(t, err, plaza.ENotFound)
		_, err = e.svc.Recall(ctx, a, conv.ID, plaza.NewID())
		wantCode(t, err, plaza.ENotFound)
	})
}

func TestRecallWindow(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		early := e.send(t, a, conv.ID, "early")
		late := e.send(t, a, conv.ID, "late")

		e.clock.Advance(2*time.Minute - time.Second)
		_, err := e.svc.Recall(ctx, a, conv.ID, early.ID)
		mustNil(t, err, "recall within the window")

		e.clock.Advance(2 * time.Second)
		_, err = e.svc.Recall(ctx, a, conv.ID, late.ID)
		wantCode(t, err, plaza.ERecallWindowExpired)
		if got := plaza.AsError(err).Details["window_seconds"]; got != 120 {
			t.Errorf("details.window_seconds = %v, want 120", got)
		}
		if m := e.history(t, b, conv.ID)[1]; m.Recalled || m.Text != "late" {
			t.Errorf("message after a refused recall = %+v, want it unchanged", m)
		}
		// An already recalled message stays recalled after the window.
		got, err := e.svc.Recall(ctx, a, conv.ID, early.ID)
		mustNil(t, err, "recall a recalled message after the window")
		if !got.Recalled {
			t.Errorf("second recall = %+v, want recalled", got)
		}
	})
}

func TestRecallWindowConfig(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db, withChat(func(c *Config) { c.RecallWindow = 10 * time.Second }))
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		msg := e.send(t, a, conv.ID, "x")
		e.clock.Advance(11 * time.Second)
		_, err := e.svc.Recall(ctx, a, conv.ID, msg.ID)
		wantCode(t, err, plaza.ERecallWindowExpired)
	})
}

// summary returns account's summary of conv.
func (e *env) summary(tb testing.TB, account, conv plaza.ID) Summary {
	tb.Helper()
	list, _, err := e.svc.List(context.Background(), account, ListCursor{}, 1000)
	if err != nil {
		tb.Fatalf("list: %v", err)
	}
	for _, s := range list {
		if s.ID == conv {
			return s
		}
	}
	tb.Fatalf("conversation %s not in %s's list", conv, account)
	return Summary{}
}

func TestReadDirect(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		for i := range 5 {
			e.send(t, a, conv.ID, fmt.Sprint(i))
		}
		if s := e.summary(t, a, conv.ID); s.ReadSeq != 5 || s.UnreadCount != 0 {
			t.Errorf("sender's summary = read %d unread %d, want 5 and 0 (sending reads)", s.ReadSeq, s.UnreadCount)
		}
		if s := e.summary(t, b, conv.ID); s.ReadSeq != 0 || s.UnreadCount != 5 {
			t.Errorf("bob's summary = read %d unread %d, want 0 and 5", s.ReadSeq, s.UnreadCount)
		}
		ra, rb := e.record(t, a), e.record(t, b)

		mustNil(t, e.svc.Read(ctx, b, conv.ID, 3), "read to 3")
		if s := e.summary(t, b, conv.ID); s.ReadSeq != 3 || s.UnreadCount != 2 {
			t.Errorf("bob's summary = read %d unread %d, want 3 and 2", s.ReadSeq, s.UnreadCount)
		}
		for name, r := range map[string]*recorder{"reader": rb, "other": ra} {
			ev := r.waitType(t, events.ConversationRead, 1)[0]
			want := fmt.Sprintf(`{"account_id":"%s","conversation_id":"%s","seq":3}`, b, conv.ID)
			if string(ev.Data) != want || ev.cursor(t) == 0 {
				t.Errorf("%s's conversation.read = %s cursor %q, want %s with a cursor", name, ev.Data, ev.Cursor, want)
			}
		}

		// Backwards or in place: nothing moves, no one is told.
		before := len(e.syncAll(t, a, 0)) + len(e.syncAll(t, b, 0))
		mustNil(t, e.svc.Read(ctx, b, conv.ID, 2), "read back to 2")
		mustNil(t, e.svc.Read(ctx, b, conv.ID, 3), "read to 3 again")
		mustNil(t, e.svc.Read(ctx, b, conv.ID, 0), "read 0")
		if s := e.summary(t, b, conv.ID); s.ReadSeq != 3 {
			t.Errorf("read_seq = %d after reading backwards, want 3", s.ReadSeq)
		}
		if after := len(e.syncAll(t, a, 0)) + len(e.syncAll(t, b, 0)); after != before {
			t.Errorf("reading backwards wrote %d events, want 0", after-before)
		}

		wantInvalid(t, e.svc.Read(ctx, b, conv.ID, 6), "seq")
		wantInvalid(t, e.svc.Read(ctx, b, conv.ID, -1), "seq")

		mustNil(t, e.svc.Read(ctx, b, conv.ID, 5), "read all")
		if s := e.summary(t, b, conv.ID); s.ReadSeq != 5 || s.UnreadCount != 0 {
			t.Errorf("bob's summary = read %d unread %d, want 5 and 0", s.ReadSeq, s.UnreadCount)
		}
		if n := len(ofType(e.syncAll(t, a, 0), events.ConversationRead)); n != 2 {
			t.Errorf("alice has %d conversation.read, want 2", n)
		}
	})
}

func TestReadGroupTellsOnlyTheReader(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b, c := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol")
		g := e.group(t, a, "club", b, c)
		e.send(t, a, g.ID, "hello")
		mustNil(t, e.svc.Read(ctx, b, g.ID, 1), "read")
		if n := len(ofType(e.syncAll(t, b, 0), events.ConversationRead)); n != 1 {
			t.Errorf("reader has %d conversation.read, want 1", n)
		}
		for _, id := range []plaza.ID{a, c} {
			if n := len(ofType(e.syncAll(t, id, 0), events.ConversationRead)); n != 0 {
				t.Errorf("member %s has %d conversation.read, want 0 (no group read receipts)", id, n)
			}
		}
	})
}

func TestListSummaries(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		me := e.account(t, "myself")
		friends := e.accountsN(t, "friend", 3)
		var convs []Conversation
		for i, f := range friends {
			convs = append(convs, e.direct(t, me, f))
			e.clock.Advance(time.Second)
			for j := range i + 1 {
				e.send(t, f, convs[i].ID, fmt.Sprintf("from %d, %d", i, j))
				e.clock.Advance(time.Second)
			}
		}
		g := e.group(t, me, "everyone", friends...)
		e.clock.Advance(time.Second)

		list, next, err := e.svc.List(ctx, me, ListCursor{}, 10)
		mustNil(t, err, "list")
		if next != (ListCursor{}) {
			t.Errorf("next cursor = %+v on the only page, want none", next)
		}
		// Most recent first: the group, then friend 2, 1, 0.
		wantOrder := []plaza.ID{g.ID, convs[2].ID, convs[1].ID, convs[0].ID}
		if got := summaryIDs(list); !slices.Equal(got, wantOrder) {
			t.Fatalf("order = %v, want %v", got, wantOrder)
		}
		for i := range 3 {
			s := list[3-i]
			if s.UnreadCount != int64(i+1) || s.LastSeq != int64(i+1) {
				t.Errorf("conversation with friend %d: unread %d last_seq %d, want %d", i, s.UnreadCount, s.LastSeq, i+1)
			}
			if s.LastMessage == nil || s.LastMessage.Seq != int64(i+1) || s.LastMessage.Text != fmt.Sprintf("from %d, %d", i, i) || s.LastMessage.SenderID != friends[i] {
				t.Errorf("conversation with friend %d: last message %+v, want their last", i, s.LastMessage)
			}
			if s.Kind != Direct || len(s.MemberIDs) != 2 {
				t.Errorf("summary %d = %+v, want a direct conversation with its members", i, s.Conversation)
			}
		}
		if s := list[0]; s.LastMessage != nil || s.UnreadCount != 0 || len(s.MemberIDs) != 4 || s.OwnerID != me {
			t.Errorf("group summary = %+v, want no message, nothing unread, 4 members", s)
		}

		// Activity moves a conversation to the top; reading does not.
		e.send(t, friends[0], convs[0].ID, "bump")
		e.clock.Advance(time.Second)
		mustNil(t, e.svc.Read(ctx, me, convs[1].ID, 2), "read")
		list, _, err = e.svc.List(ctx, me, ListCursor{}, 10)
		mustNil(t, err, "list")
		wantOrder = []plaza.ID{convs[0].ID, g.ID, convs[2].ID, convs[1].ID}
		if got := summaryIDs(list); !slices.Equal(got, wantOrder) {
			t.Errorf("order after a message = %v, want %v", got, wantOrder)
		}
		if s := list[0]; s.UnreadCount != 2 || s.LastMessage == nil || s.LastMessage.Text != "bump" {
			t.Errorf("bumped summary = unread %d last %+v, want 2 and bump", s.UnreadCount, s.LastMessage)
		}
		if s := list[3]; s.UnreadCount != 0 || s.ReadSeq != 2 {
			t.Errorf("read summary = unread %d read %d, want 0 and 2", s.UnreadCount, s.ReadSeq)
		}

		// Paging with the cursor visits every conversation once, in order.
		var paged []plaza.ID
		var cursor ListCursor
		for range 10 {
			page, next, err := e.svc.List(ctx, me, cursor, 3)
			mustNil(t, err, "list page")
			paged = append(paged, summaryIDs(page)...)
			if next == (ListCursor{}) {
				break
			}
			cursor = next
		}
		if !slices.Equal(paged, wantOrder) {
			t.Errorf("paged = %v, want %v", paged, wantOrder)
		}

		// Someone else's list holds only their own.
		other, _, err := e.svc.List(ctx, friends[1], ListCursor{}, 10)
		mustNil(t, err, "friend's list")
		if got := summaryIDs(other); !slices.Equal(got, []plaza.ID{g.ID, convs[1].ID}) {
			t.Errorf("friend 1's list = %v, want the group and their direct conversation", got)
		}
	})
}

// TestListPagingWithEqualTimes: the writer stamps a whole group commit
// with one time, so when one batch carries sends into several
// conversations they all get the same updated_at. Paging the list must
// still reach every conversation.
func TestListPagingWithEqualTimes(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		me := e.account(t, "myself")
		var want []plaza.ID
		var batch []*sendReq
		for i := range 3 {
			g := e.group(t, me, fmt.Sprint("group ", i))
			want = append(want, g.ID)
			batch = append(batch, &sendReq{sender: me, res: make(chan sendRes, 1),
				in: SendInput{ConversationID: g.ID, ClientID: "c", Kind: KindText, Text: "hi"}})
		}
		// One group commit with a send into each (the writer goroutine is
		// idle: nothing else sends).
		e.svc.w.commit(batch)
		for _, r := range batch {
			if res := <-r.res; res.err != nil {
				t.Fatalf("batch send: %v", res.err)
			}
		}
		var paged []plaza.ID
		var cursor ListCursor
		for range 10 {
			page, next, err := e.svc.List(ctx, me, cursor, 1)
			mustNil(t, err, "list page")
			paged = append(paged, summaryIDs(page)...)
			if next == (ListCursor{}) {
				break
			}
			cursor = next
		}
		slices.Sort(paged)
		slices.Sort(want)
		if !slices.Equal(paged, want) {
			t.Errorf("paging one at a time reached %v, want all of %v", paged, want)
		}
	})
}

func summaryIDs(list []Summary) []plaza.ID {
	out := []plaza.ID{}
	for _, s := range list {
		out = append(out, s.ID)
	}
	return out
}

func TestTypingIsEphemeral(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b, c := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol")
		g := e.group(t, a, "club", b, c)
		heads := map[plaza.ID]int64{}
		for _, id := range []plaza.ID{a, b, c} {
			h, err := e.svc.Head(ctx, id)
			mustNil(t, err, "head")
			heads[id] = h
		}
		var stored int
		mustNil(t, db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&stored), "count")
		ra, rb, rc := e.record(t, a), e.record(t, b), e.record(t, c)

		mustNil(t, e.svc.Typing(ctx, a, g.ID), "typing")
		want := fmt.Sprintf(`{"account_id":"%s","conversation_id":"%s"}`, a, g.ID)
		for name, r := range map[string]*recorder{"bob": rb, "carol": rc} {
			evs := r.wait(t, 1)
			if len(evs) != 1 {
				t.Fatalf("%s got %d events, want 1", name, len(evs))
			}
			ev := evs[0]
			if ev.Type != events.Typing || ev.Seq != 0 || ev.Cursor != "" || string(ev.Data) != want {
				t.Errorf("%s got %+v (data %s), want typing with seq 0, no cursor and %s", name, ev, ev.Data, want)
			}
		}
		// The local bus delivers in Typing's goroutine: the typist already
		// would have had it.
		if evs := ra.snapshot(t); len(evs) != 0 {
			t.Errorf("the typist got %+v, want nothing", evs)
		}
		for id, h := range heads {
			if got, err := e.svc.Head(ctx, id); err != nil || got != h {
				t.Errorf("account %s head = %d, %v; want %d unchanged", id, got, err, h)
			}
		}
		var after int
		mustNil(t, db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&after), "count")
		if after != stored {
			t.Errorf("typing stored %d events, want 0", after-stored)
		}
	})
}

func TestHistoryPaging(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		for i := range 10 {
			e.send(t, a, conv.ID, fmt.Sprint(i+1))
		}
		for _, tc := range []struct {
			name          string
			after, before int64
			limit         int
			from, to      int64
		}{
			{"first page", 0, 0, 4, 1, 4},
			{"after 4", 4, 0, 4, 5, 8},
			{"after 8", 8, 0, 4, 9, 10},
			{"after the end", 10, 0, 4, 1, 0},
			{"the page before 9, ascending", 0, 9, 3, 6, 8},
			{"the page before 3", 0, 3, 5, 1, 2},
			{"between 2 and 6", 2, 6, 10, 3, 5},
		} {
			t.Run(tc.name, func(t *testing.T) {
				msgs, err := e.svc.History(ctx, b, conv.ID, tc.after, tc.before, tc.limit)
				mustNil(t, err, "history")
				if tc.to < tc.from {
					if len(msgs) != 0 {
						t.Errorf("got seqs %v, want none", seqs(msgs))
					}
					return
				}
				wantSeqs(t, msgs, tc.from, tc.to)
				for _, m := range msgs {
					if m.Text != fmt.Sprint(m.Seq) || m.ConversationID != conv.ID || m.SenderID != a || m.Kind != KindText || m.CreatedAt.IsZero() {
						t.Errorf("message %+v, want text %d from alice", m, m.Seq)
					}
				}
			})
		}
	})
}

// TestTypingRespectsBlocks: a block stops direct messages, and a typing
// indicator is one — a blocked person must not be able to show up typing
// in the blocker's conversation list.
func TestTypingRespectsBlocks(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		mustNil(t, e.svc.Block(ctx, a, b), "block")
		ra := e.record(t, a)
		err := e.svc.Typing(ctx, b, conv.ID)
		// The local bus delivers in Typing's goroutine: anything sent has
		// arrived by now.
		if evs := ra.snapshot(t); len(evs) != 0 {
			t.Errorf("Typing by a blocked account returned %v and delivered %s to the blocker, want nothing delivered", err, evs[0].Data)
		}
	})
}
