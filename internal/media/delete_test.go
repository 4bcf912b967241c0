package media_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// carry sends a message carrying item mediaID from its owner in a new
// conversation, written as the chat package stores one, and returns the
// message's ID.
func carry(tb testing.TB, f fixture, mediaID plaza.ID) plaza.ID {
	tb.Helper()
	ctx := context.Background()
	conv, msg, now := plaza.NewID(), plaza.NewID(), time.Now().UnixMicro()
	if _, err := f.db.Write().ExecContext(ctx, `INSERT INTO conversations (id, kind, title, last_seq, created_at, updated_at) VALUES ($1, 'group', 't', 1, $2, $2)`, conv, now); err != nil {
		tb.Fatal(err)
	}
	if _, err := f.db.Write().ExecContext(ctx, `INSERT INTO messages (conversation_id, seq, id, sender_id, client_id, kind, text, media_id, mentions, recalled, created_at)
		VALUES ($1, 1, $2, $3, $4, 'image', '', $5, '[]', $6, $7)`, conv, msg, f.owner, msg.String(), mediaID, false, now); err != nil {
		tb.Fatal(err)
	}
	return msg
}

// recall clears a message's media as chat's Recall does.
func recall(tb testing.TB, f fixture, msg plaza.ID) {
	tb.Helper()
	if _, err := f.db.Write().ExecContext(context.Background(), `UPDATE messages SET recalled = $1, media_id = NULL WHERE id = $2`, true, msg); err != nil {
		tb.Fatal(err)
	}
}

// stored reports whether an item's bytes (or its thumbnail's) are still
// in the store.
func stored(tb testing.TB, f fixture, it media.Item, thumb bool) bool {
	tb.Helper()
	obj, err := f.svc.Open(context.Background(), it, thumb)
	if errors.Is(err, blob.ErrNotFound) {
		return false
	}
	if err != nil {
		tb.Fatalf("open %d (thumbnail %v): %v", it.ID, thumb, err)
	}
	obj.Close()
	return true
}

// A full quota is freed by deleting media, as the quota error advises;
// only the owner may delete, and an item no message carries is gone at
// once, bytes and thumbnail.
func TestDeleteFreesQuota(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			cfg := media.DefaultConfig()
			cfg.Quota = 1 << 20
			f := newFixture(t, e, cfg)
			data := randomBytes(600 << 10)
			it, err := f.svc.Upload(ctx, f.owner, bytes.NewReader(data), "")
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.Upload(ctx, f.owner, bytes.NewReader(data), "")
			if plaza.ErrorCode(err) != plaza.EQuotaExceeded {
				t.Fatalf("second upload: got %v, want quota_exceeded", err)
			}
			for _, who := range []plaza.ID{f.other, plaza.NewID()} {
				if err := f.svc.Delete(ctx, who, it.ID); plaza.ErrorCode(err) != plaza.ENotFound {
					t.Errorf("delete by another account: got %v, want not_found", err)
				}
			}
			if err := f.svc.Delete(ctx, f.owner, plaza.NewID()); plaza.ErrorCode(err) != plaza.ENotFound {
				t.Errorf("delete of an unknown ID: got %v, want not_found", err)
			}
			if err := f.svc.Delete(ctx, f.owner, it.ID); err != nil {
				t.Fatalf("delete: %v", err)
			}
			for name, get := range map[string]func(context.Context, plaza.ID) (media.Item, error){"Get": f.svc.Get, "GetForServing": f.svc.GetForServing} {
				if _, err := get(ctx, it.ID); plaza.ErrorCode(err) != plaza.ENotFound {
					t.Errorf("%s after delete: got %v, want not_found", name, err)
				}
			}
			if stored(t, f, it, false) {
				t.Error("the bytes of a deleted item no message carries are still stored")
			}
			if err := f.svc.Delete(ctx, f.owner, it.ID); plaza.ErrorCode(err) != plaza.ENotFound {
				t.Errorf("second delete: got %v, want not_found", err)
			}
			if u, err := f.svc.Usage(ctx, f.owner); err != nil || u.Used != 0 {
				t.Errorf("usage after delete: got %+v, %v, want 0 used", u, err)
			}
			if _, err := f.svc.Upload(ctx, f.owner, bytes.NewReader(data), ""); err != nil {
				t.Errorf("upload after freeing the quota: %v", err)
			}
		})
	}
}

// Deleting an item a sent message carries frees the quota and takes it
// from the owner (not listed, not attachable), but its bytes stay for the
// conversation until the message is recalled; then the sweep removes the
// row, the bytes and the thumbnail.
func TestDeleteKeepsWhatMessagesCarry(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, e, media.DefaultConfig())
			it, err := f.svc.Upload(ctx, f.owner, bytes.NewReader(noiseJPEG(t, 64, 48)), "image/jpeg")
			if err != nil || !it.HasThumb {
				t.Fatalf("upload: got %+v, %v; want an image with a thumbnail", it, err)
			}
			kept, err := f.svc.Upload(ctx, f.owner, bytes.NewReader(randomBytes(1000)), "")
			if err != nil {
				t.Fatal(err)
			}
			msg := carry(t, f, it.ID)
			if got, err := f.svc.InMessages(ctx, f.owner, []plaza.ID{it.ID, kept.ID}); err != nil || !got[it.ID] || got[kept.ID] {
				t.Errorf("InMessages = %v, %v; want only %d", got, err, it.ID)
			}
			if got, err := f.svc.InMessages(ctx, f.other, []plaza.ID{it.ID}); err != nil || got[it.ID] {
				t.Errorf("InMessages for another account = %v, %v; want none", got, err)
			}

			if err := f.svc.Delete(ctx, f.owner, it.ID); err != nil {
				t.Fatal(err)
			}
			if u, err := f.svc.Usage(ctx, f.owner); err != nil || u.Used != kept.Size {
				t.Errorf("usage after delete: got %+v, %v; want %d used (the item kept)", u, err, kept.Size)
			}
			if _, err := f.svc.Get(ctx, it.ID); plaza.ErrorCode(err) != plaza.ENotFound {
				t.Errorf("Get (what attaching checks) after delete: got %v, want not_found", err)
			}
			got, err := f.svc.GetForServing(ctx, it.ID)
			if err != nil || !got.Released || got.OwnerID != f.owner {
				t.Fatalf("GetForServing after delete: got %+v, %v; want the item, released", got, err)
			}
			if !stored(t, f, got, false) || !stored(t, f, got, true) {
				t.Error("a message carries the deleted item, but its bytes or thumbnail are gone")
			}
			if l, err := f.svc.List(ctx, f.owner, 0, 10); err != nil || len(l) != 1 || l[0].ID != kept.ID {
				t.Errorf("List after delete = %v, %v; want only %d", l, err, kept.ID)
			}
			if err := f.svc.Delete(ctx, f.owner, it.ID); plaza.ErrorCode(err) != plaza.ENotFound {
				t.Errorf("second delete: got %v, want not_found", err)
			}
			if n, err := f.svc.SweepReleased(ctx); err != nil || n != 0 {
				t.Errorf("sweep while a message carries the item: removed %d, %v; want 0", n, err)
			}

			recall(t, f, msg)
			if n, err := f.svc.SweepReleased(ctx); err != nil || n != 1 {
				t.Errorf("sweep after the recall: removed %d, %v; want 1", n, err)
			}
			if _, err := f.svc.GetForServing(ctx, it.ID); plaza.ErrorCode(err) != plaza.ENotFound {
				t.Errorf("GetForServing after the sweep: got %v, want not_found", err)
			}
			if stored(t, f, got, false) || stored(t, f, got, true) {
				t.Error("the sweep left the bytes or the thumbnail")
			}
			if n, err := f.svc.SweepReleased(ctx); err != nil || n != 0 {
				t.Errorf("a second sweep: removed %d, %v; want 0", n, err)
			}
			if !stored(t, f, kept, false) {
				t.Error("the sweep removed an item that was not deleted")
			}
		})
	}
}

// Concurrent deletes of one item: exactly one succeeds, whether a message
// carries it or not, and the quota counts it once.
func TestHostileConcurrentDeletes(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		for _, sent := range []bool{false, true} {
			name := string(e) + map[bool]string{false: "/unsent", true: "/sent"}[sent]
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				f := newFixture(t, e, media.DefaultConfig())
				it, err := f.svc.Upload(ctx, f.owner, bytes.NewReader(randomBytes(4000)), "")
				if err != nil {
					t.Fatal(err)
				}
				if sent {
					carry(t, f, it.ID)
				}
				const n = 8
				errs := make([]error, n)
				var start, wg sync.WaitGroup
				start.Add(1)
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						start.Wait()
						errs[i] = f.svc.Delete(ctx, f.owner, it.ID)
					}()
				}
				start.Done()
				wg.Wait()
				ok := 0
				for _, err := range errs {
					switch plaza.ErrorCode(err) {
					case "":
						ok++
					case plaza.ENotFound:
					default:
						t.Errorf("delete: got %v, want success or not_found", err)
					}
				}
				if ok != 1 {
					t.Errorf("%d of %d concurrent deletes succeeded, want exactly 1", ok, n)
				}
				if u, err := f.svc.Usage(ctx, f.owner); err != nil || u.Used != 0 {
					t.Errorf("usage after the deletes: got %+v, %v; want 0 used", u, err)
				}
				if got := stored(t, f, it, false); got != sent {
					t.Errorf("bytes stored after the deletes: %v, want %v", got, sent)
				}
			})
		}
	}
}

// Nodes sweeping at once remove each item once between them and leave no
// bytes behind.
func TestHostileConcurrentSweeps(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, e, media.DefaultConfig())
			var items []media.Item
			var msgs []plaza.ID
			for range 5 {
				it, err := f.svc.Upload(ctx, f.owner, bytes.NewReader(randomBytes(100)), "")
				if err != nil {
					t.Fatal(err)
				}
				msgs = append(msgs, carry(t, f, it.ID))
				if err := f.svc.Delete(ctx, f.owner, it.ID); err != nil {
					t.Fatal(err)
				}
				items = append(items, it)
			}
			for _, m := range msgs {
				recall(t, f, m)
			}
			const nodes = 3
			removed := make([]int, nodes)
			errs := make([]error, nodes)
			var wg sync.WaitGroup
			for i := range nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					removed[i], errs[i] = f.svc.SweepReleased(ctx)
				}()
			}
			wg.Wait()
			total := 0
			for i := range nodes {
				if errs[i] != nil {
					t.Errorf("sweep %d: %v", i, errs[i])
				}
				total += removed[i]
			}
			if total != len(items) {
				t.Errorf("the sweeps removed %v items between them, want %d in all", removed, len(items))
			}
			for _, it := range items {
				if stored(t, f, it, false) {
					t.Errorf("item %d is still stored after the sweeps", it.ID)
				}
			}
		})
	}
}

// Deleting media a sent message carries frees the quota, but what is kept
// for conversations is bounded: upload, send, delete, repeat cannot store
// more than twice the quota, and recalling frees the allowance.
func TestHostileDeleteAfterSendIsBounded(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			cfg := media.DefaultConfig()
			cfg.Quota = 1 << 20
			f := newFixture(t, e, cfg)
			data := randomBytes(600 << 10)
			var msgs []plaza.ID
			var refused error
			for i := 0; i < 5 && refused == nil; i++ {
				it, err := f.svc.Upload(ctx, f.owner, bytes.NewReader(data), "")
				if err != nil {
					refused = err
					break
				}
				msgs = append(msgs, carry(t, f, it.ID))
				if err := f.svc.Delete(ctx, f.owner, it.ID); err != nil {
					t.Fatalf("delete %d: %v", i, err)
				}
			}
			if plaza.ErrorCode(refused) != plaza.EQuotaExceeded {
				t.Fatalf("after %d rounds: got %v, want quota_exceeded", len(msgs), refused)
			}
			u, err := f.svc.Usage(ctx, f.owner)
			if err != nil {
				t.Fatal(err)
			}
			if u.Used != 0 || u.Kept > 2*cfg.Quota {
				t.Errorf("usage: got %+v, want nothing used and at most %d kept", u, 2*cfg.Quota)
			}
			for _, m := range msgs {
				recall(t, f, m)
			}
			if _, err := f.svc.SweepReleased(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Upload(ctx, f.owner, bytes.NewReader(data), ""); err != nil {
				t.Errorf("upload once the messages are recalled and swept: %v", err)
			}
		})
	}
}
