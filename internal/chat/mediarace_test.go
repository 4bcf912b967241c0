package chat

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestSendOfMediaDeletedAfterCheckIsRefused: a media item deleted between
// a send's checks and its commit is not attached to a message (whose
// recipients would find nothing): the send is refused as if the item had
// been gone at the check, and the item is removed. A delete after the
// commit keeps the item for the conversation.
func TestSendOfMediaDeletedAfterCheckIsRefused(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		store, err := blob.NewDisk(t.TempDir())
		mustNil(t, err, "media store")
		mcfg := media.DefaultConfig()
		mcfg.TempDir = t.TempDir()
		medias := media.NewService(db, store, mcfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		e.svc.UseMedia(medias)
		a, b := e.account(t, "alice"), e.account(t, "bob")
		conv := e.direct(t, a, b)
		upload := func() plaza.ID {
			it, err := medias.Upload(ctx, a, strings.NewReader("notes of alice\n"), "text/plain")
			mustNil(t, err, "upload")
			return it.ID
		}

		gone := upload()
		e.onceBeforeSubmit(t, func() { mustNil(t, medias.Delete(ctx, a, gone), "delete") })
		_, _, err = e.svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: "raced", Kind: KindFile, MediaID: &gone})
		if plaza.ErrorCode(err) != plaza.EInvalid {
			t.Fatalf("send of media deleted after the check: %v, want invalid", err)
		}
		for _, m := range e.history(t, b, conv.ID) {
			if m.ClientID == "raced" {
				t.Fatalf("the refused send was stored: %+v", m)
			}
		}
		if n := e.count(t, `SELECT COUNT(*) FROM media WHERE id = $1`, gone); n != 0 {
			t.Errorf("the deleted item is still stored (%d rows)", n)
		}

		kept := upload()
		msg, _, err := e.svc.Send(ctx, a, SendInput{ConversationID: conv.ID, ClientID: "sent", Kind: KindFile, MediaID: &kept})
		mustNil(t, err, "send")
		mustNil(t, medias.Delete(ctx, a, kept), "delete after sending")
		if ok, err := e.svc.CanSeeMedia(ctx, b, kept); err != nil || !ok {
			t.Errorf("bob sees the item of message %s after alice deleted her copy: %v, %v; want true", msg.ID, ok, err)
		}
	})
}
