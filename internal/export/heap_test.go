package export_test

import (
	"archive/zip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/export"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// The size of TestExportHeapIsBounded's account.
const (
	heapMessages   = 10_000
	heapMediaFiles = 64
	heapMediaSize  = 16 << 20 // 64 × 16 MiB = 1 GiB
	heapLimit      = 64 << 20
)

// TestExportHeapIsBounded exports an account with 10,000 messages and
// 1 GiB of media into a disk store while sampling the Go heap, and checks
// that the heap stays under 64 MiB: an export streams, it never holds a
// section or a file whole. It writes about 2 GiB to the temp directory,
// so -short skips it.
func TestExportHeapIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 2 GiB; skipped with -short")
	}
	ctx := context.Background()
	db := sqldbtest.Open(t, sqldb.SQLite)
	e := newEnv(t, db, 2, export.Config{})
	s, o := e.user(0), e.user(1)
	conv, _, err := e.chat.OpenDirect(ctx, s, o)
	if err != nil {
		t.Fatal(err)
	}
	insertMessages(t, db, conv.ID, s, o, heapMessages)
	insertMedia(t, e, s, heapMediaFiles, heapMediaSize)

	runtime.GC()
	peak, stop := sampleHeap()
	started := time.Now()
	ex, err := e.svc.Request(ctx, s, s)
	if err != nil {
		t.Fatal(err)
	}
	got := e.waitExport(t, s, ex.ID)
	took := time.Since(started)
	maxHeap := stop()
	if got.Status != export.Ready {
		t.Fatalf("got export %+v, want ready", got)
	}
	t.Logf("exported %d messages and %d MiB of media into a %d MiB ZIP in %v; peak Go heap %.1f MiB (start %.1f MiB)",
		heapMessages, heapMediaFiles*heapMediaSize>>20, got.Size>>20, took.Round(time.Millisecond), float64(maxHeap)/(1<<20), float64(peak)/(1<<20))
	if maxHeap >= heapLimit {
		t.Errorf("peak heap %d bytes, want under %d", maxHeap, heapLimit)
	}

	// The ZIP is whole: every media file at its size, every message.
	obj, _, err := e.svc.Open(ctx, s, ex.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	ra, ok := obj.(io.ReaderAt)
	if !ok {
		t.Fatalf("a disk object is not an io.ReaderAt (%T)", obj)
	}
	zr, err := zip.NewReader(ra, obj.Size())
	if err != nil {
		t.Fatalf("the export is not a ZIP: %v", err)
	}
	media := 0
	for _, f := range zr.File {
		switch {
		case f.Name == fmt.Sprintf("conversations/%d.json", conv.ID):
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				Messages []json.RawMessage `json:"messages"`
			}
			err = json.NewDecoder(rc).Decode(&c)
			rc.Close()
			if err != nil || len(c.Messages) != heapMessages {
				t.Errorf("the conversation holds %d messages (err %v), want %d", len(c.Messages), err, heapMessages)
			}
		case len(f.Name) > 6 && f.Name[:6] == "media/" && f.Name != "media/index.json":
			media++
			if f.UncompressedSize64 != heapMediaSize || f.Method != zip.Store {
				t.Errorf("%s: %d bytes, method %d; want %d stored", f.Name, f.UncompressedSize64, f.Method, heapMediaSize)
			}
		}
	}
	if media != heapMediaFiles {
		t.Errorf("got %d media files, want %d", media, heapMediaFiles)
	}
}

// sampleHeap samples the bytes of heap objects (live and not yet swept)
// every few milliseconds until stop, which returns the largest sample;
// start is the first.
func sampleHeap() (start uint64, stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	start = read()
	var mu sync.Mutex
	peak := start
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				v := read()
				mu.Lock()
				peak = max(peak, v)
				mu.Unlock()
			}
		}
	}()
	return start, func() uint64 {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return max(peak, read())
	}
}

// insertMessages writes n messages into conv, alternating between a and b,
// in one transaction: sending them one by one would take minutes.
func insertMessages(tb testing.TB, db *sqldb.DB, conv, a, b plaza.ID, n int) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UnixMicro()
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO messages (conversation_id, seq, id, sender_id, client_id, kind, text, media_id, reply_to, mentions, recalled, created_at)
			VALUES ($1, $2, $3, $4, $5, 'text', $6, NULL, NULL, '[]', $7, $8)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := 1; i <= n; i++ {
			sender := a
			if i%2 == 0 {
				sender = b
			}
			text := fmt.Sprintf("message %d: 今天天气很好, the weather is fine today, and this line is long enough to look like a real one", i)
			if _, err := st.ExecContext(ctx, conv, i, plaza.NewID(), sender, fmt.Sprint("c", i), text, false, now+int64(i)); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE conversations SET last_seq = $1 WHERE id = $2`, n, conv)
		return err
	})
	if err != nil {
		tb.Fatalf("insert messages: %v", err)
	}
}

// insertMedia stores n files of size random bytes for owner straight into
// the store, with their rows.
func insertMedia(tb testing.TB, e *env, owner plaza.ID, n int, size int64) {
	tb.Helper()
	ctx := context.Background()
	rng := rand.NewChaCha8([32]byte{1})
	for i := range n {
		id := plaza.NewID()
		key := fmt.Sprintf("media/heap/%d", id)
		if err := e.store.Put(ctx, key, io.LimitReader(rng, size), size, "application/octet-stream"); err != nil {
			tb.Fatalf("put media %d: %v", i, err)
		}
		if _, err := e.db.Write().ExecContext(ctx, `INSERT INTO media (owner_id, id, kind, content_type, size, width, height, duration_ms, storage_key, thumb_key, thumb_type, sha256, created_at)
			VALUES ($1, $2, 'file', 'application/octet-stream', $3, 0, 0, 0, $4, '', '', '', $5)`, owner, id, size, key, time.Now().UnixMicro()); err != nil {
			tb.Fatalf("insert media %d: %v", i, err)
		}
	}
}
