package chat

import (
	"context"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestHostileNulInDomainText: the service refuses what its stores cannot
// hold or what would mislead readers even when called directly, past the
// HTTP layer's checks.
func TestHostileNulInDomainText(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a, b, c := e.account(t, "alice"), e.account(t, "bob"), e.account(t, "carol")
		g := e.group(t, a, "club", b)

		_, _, err := e.svc.Send(ctx, a, SendInput{ConversationID: g.ID, ClientID: "c1", Kind: KindText, Text: "a\x00b"})
		wantInvalid(t, err, "text")
		_, _, err = e.svc.Send(ctx, a, SendInput{ConversationID: g.ID, ClientID: "c\x001", Kind: KindText, Text: "ok"})
		wantInvalid(t, err, "client_id")
		_, _, err = e.svc.Send(ctx, a, SendInput{ConversationID: g.ID, ClientID: "c1", Kind: KindText, Text: "a\xffb"})
		wantInvalid(t, err, "text")

		for _, title := range []string{"a\x00b", "\u202eevil", "two\nlines", "a\u2067b\u2069"} {
			_, err = e.svc.CreateGroup(ctx, a, title, []plaza.ID{b})
			wantInvalid(t, err, "title")
			_, err = e.svc.Rename(ctx, a, g.ID, title)
			wantInvalid(t, err, "title")
		}
		for _, note := range []string{"hi\x00", "\u202ehi", "line\nbreak"} {
			_, err = e.svc.RequestContact(ctx, a, c, note)
			wantInvalid(t, err, "note")
		}
		for _, title := range []string{"公园散步", "مجموعة الأصدقاء", "👩\u200d👩\u200d👧 family"} {
			if _, err := e.svc.Rename(ctx, a, g.ID, title); err != nil {
				t.Fatalf("rename to %q: %v", title, err)
			}
		}
		if _, err := e.svc.RequestContact(ctx, a, c, "你好 👋"); err != nil {
			t.Fatalf("request contact: %v", err)
		}
		if h := e.history(t, a, g.ID); len(h) != 0 {
			t.Fatalf("got %d messages stored, want 0", len(h))
		}
	})
}
