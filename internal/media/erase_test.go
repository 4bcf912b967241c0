package media_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// blobFiles counts the objects under dir, the disk store's root.
func blobFiles(tb testing.TB, dir string) int {
	tb.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestEraseOwner erases an account's media, more than one batch of it,
// with a crash between deleting a batch's bytes and its rows: the next run
// finishes, leaving no row, reservation or byte of the account's, and
// every item of someone else's.
func TestEraseOwner(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			db := sqldbtest.Open(t, e)
			acfg := account.DefaultConfig()
			acfg.Password = account.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}
			accounts := account.NewService(db, acfg)
			if err := accounts.SeedTerms(ctx); err != nil {
				t.Fatal(err)
			}
			made, err := accounts.CreateBulk(ctx, "up", 2, "password123")
			if err != nil {
				t.Fatal(err)
			}
			leaver, stays := made[0].ID, made[1].ID
			dir := filepath.Join(t.TempDir(), "media")
			store, err := blob.NewDisk(dir)
			if err != nil {
				t.Fatal(err)
			}
			cfg := media.DefaultConfig()
			cfg.TempDir = t.TempDir()
			svc := media.NewService(db, store, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))

			if _, err := svc.Upload(ctx, leaver, bytes.NewReader(smallPNG(t)), "a.png"); err != nil {
				t.Fatal(err)
			}
			for i := range 120 {
				if _, err := svc.Upload(ctx, leaver, bytes.NewReader([]byte{'%', 'x', byte(i)}), "f.bin"); err != nil {
					t.Fatal(err)
				}
			}
			leavers := blobFiles(t, dir)
			kept, err := svc.Upload(ctx, stays, bytes.NewReader(smallPNG(t)), "b.png")
			if err != nil {
				t.Fatal(err)
			}
			keptFiles := blobFiles(t, dir) - leavers
			if _, err := db.Write().ExecContext(ctx, `INSERT INTO media_reservations (id, owner_id, bytes, resumable, expires_at) VALUES ($1, $2, 10, 1, 0)`, plaza.NewID(), leaver); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Write().ExecContext(ctx, `INSERT INTO media_quota_locks (owner_id, n) VALUES ($1, 0) ON CONFLICT DO NOTHING`, leaver); err != nil {
				t.Fatal(err)
			}
			if leavers < 121 || keptFiles < 1 {
				t.Fatalf("got %d objects of the leaver's and %d of the other's in the store, want at least 121 and 1", leavers, keptFiles)
			}

			crash := errors.New("killed")
			crashing := func(context.Context, func(*sql.Tx) error) error { return crash }
			if err := svc.EraseOwner(ctx, leaver, crashing); !errors.Is(err, crash) {
				t.Fatalf("got %v, want the crash", err)
			}
			var rows int
			if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM media WHERE owner_id = $1`, leaver).Scan(&rows); err != nil || rows != 121 {
				t.Fatalf("after the crash: %d rows (%v), want all 121 still there", rows, err)
			}

			for i := range 2 {
				if err := svc.EraseOwner(ctx, leaver, db.InTx); err != nil {
					t.Fatalf("erase %d: %v", i, err)
				}
				for what, q := range map[string]string{
					"media":        `SELECT COUNT(*) FROM media WHERE owner_id = $1`,
					"reservations": `SELECT COUNT(*) FROM media_reservations WHERE owner_id = $1`,
					"quota locks":  `SELECT COUNT(*) FROM media_quota_locks WHERE owner_id = $1`,
				} {
					var n int
					if err := db.Read().QueryRowContext(ctx, q, leaver).Scan(&n); err != nil {
						t.Fatal(err)
					}
					if n != 0 {
						t.Errorf("erase %d: %d %s left, want 0", i, n, what)
					}
				}
				if n := blobFiles(t, dir); n != keptFiles {
					t.Errorf("erase %d: %d objects left in the store, want the other account's %d", i, n, keptFiles)
				}
			}
			if _, err := svc.Get(ctx, kept.ID); err != nil {
				t.Errorf("the other account's item: %v", err)
			}
		})
	}
}
