package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// Sizes of the bulk an account is given in TestErasureSurvivesKill: enough
// batches (a thousand events, a hundred media items each) that the
// erasure is still running when the test catches it.
const (
	killEvents = 40_000
	killMedia  = 3_000
)

// TestErasureSurvivesKill runs the real binary with a one-second grace
// period, gives an account a sync log and media by the thousand (and a
// conversation, a message with an upload), schedules its deletion and
// SIGKILLs the server while the erasure job is half-way: the account is
// scrubbed and some of its media rows and bytes are left. Restarted on
// the same data, the job runs again and finishes: the account answers
// gone, none of its rows or bytes are left, the messages it sent stay,
// and the audit log holds its account.delete exactly once.
//
// It runs on SQLite, and again on PostgreSQL when PLAZA_TEST_POSTGRES is
// set; there the killed run's lease (30 s) has to lapse first.
func TestErasureSurvivesKill(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testErasureSurvivesKill(t, "")
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testErasureSurvivesKill(t, sqldbtest.URL(t, sqldb.Postgres))
	})
}

func testErasureSurvivesKill(t *testing.T, dbURL string) {
	ctx := context.Background()
	data := t.TempDir()
	args := []string{"--data", data, "--deletion-grace", "1s", "--direct-messages", "anyone",
		"--verification-policy", "message.send=none,contact.request=none,conversation.create=none"}
	if dbURL != "" {
		args = append(args, "--db", dbURL)
	} else {
		dbURL = "sqlite:" + filepath.Join(data, "plaza.db")
	}
	srv := startServer(t, args...)
	leaver, friend := register(t, srv.URL, "leaver"), register(t, srv.URL, "friend")
	conv := openDirect(t, srv.URL, leaver, friend)
	sendText(t, srv.URL, leaver, conv, "hello", "hello friend", http.StatusCreated)
	sendText(t, srv.URL, friend, conv, "back", "hello back", http.StatusCreated)
	upload := uploadFile(t, srv.URL, leaver, "notes.txt", []byte("the leaver's notes\n"))
	call(t, "POST", srv.URL+"/api/v1/conversations/"+conv+"/messages", leaver.Token,
		map[string]any{"client_id": "file", "kind": "file", "media_id": upload}).want(t, http.StatusCreated, nil)
	srv.terminate(t)
	if code := srv.wait(t, exitTimeout); code != 0 {
		t.Fatalf("plaza exited with %d after SIGTERM, want 0", code)
	}

	id, err := plaza.ParseID("id", leaver.ID)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqldb.Open(ctx, dbURL, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bulkUp(t, db, filepath.Join(data, "media"), id)

	srv = startServer(t, args...)
	var scheduled struct {
		At time.Time `json:"deletion_scheduled_at"`
	}
	call(t, "DELETE", srv.URL+"/api/v1/me", leaver.Token, map[string]any{"password": testPassword}).want(t, http.StatusAccepted, &scheduled)
	if scheduled.At.IsZero() {
		t.Fatal("DELETE /me gave no deletion_scheduled_at")
	}

	// Kill the server once the scrub is done, the sync log erased and a
	// first batch of media gone, while the others (bytes first, then
	// rows) are under way.
	plazatest.Eventually(t, time.Minute, func() error {
		st := eraseState(t, db, id)
		if st.media == 0 {
			t.Fatalf("the erasure finished before the test could kill it (%+v): give the account more media", st)
		}
		if st.status != "deleted" || st.events > 0 || st.media > killMedia {
			return fmt.Errorf("the erasure has not reached the media: %+v", st)
		}
		return nil
	})
	srv.kill(t)
	killed := eraseState(t, db, id)
	t.Logf("killed half-way: %+v, %d media files left", killed, filesUnder(t, filepath.Join(data, "media")))
	if killed.status != "deleted" || killed.events != 0 || killed.media == 0 || killed.audits != 1 || killed.jobs != 1 {
		t.Fatalf("after the kill: %+v, want the account scrubbed (one audit row), its sync log erased, its media and its job left", killed)
	}

	srv = startServer(t, args...)
	var st erasure
	plazatest.Eventually(t, 2*time.Minute, func() error {
		if st = eraseState(t, db, id); st.jobs != 0 {
			return fmt.Errorf("the erasure has not finished after the restart: %+v", st)
		}
		return nil
	})
	if want := (erasure{status: "deleted", audits: 1}); st != want {
		t.Errorf("after the restart: %+v, want %+v", st, want)
	}
	if n := filesUnder(t, filepath.Join(data, "media")); n != 0 {
		t.Errorf("%d media files left, want none (every one was the leaver's)", n)
	}
	call(t, "GET", srv.URL+"/api/v1/accounts/"+leaver.ID, friend.Token, nil).wantError(t, http.StatusGone, "gone")
	call(t, "GET", srv.URL+"/api/v1/media/"+upload, friend.Token, nil).wantError(t, http.StatusNotFound, "not_found")
	hist := history(t, srv.URL, friend.Token, conv)
	if len(hist) != 3 || hist[0].SenderID != leaver.ID || hist[0].Text != "hello friend" {
		t.Errorf("friend's history: %+v, want the three messages, the first the leaver's", hist)
	}
}

// erasure is how far an account's erasure has got.
type erasure struct {
	status                      string
	events, media, jobs, audits int
}

// eraseState reads id's erasure from the database a server is using.
func eraseState(tb testing.TB, db *sqldb.DB, id plaza.ID) erasure {
	tb.Helper()
	var e erasure
	err := db.Read().QueryRowContext(context.Background(), `SELECT a.status,
		(SELECT COUNT(*) FROM events WHERE account_id = a.id),
		(SELECT COUNT(*) FROM media WHERE owner_id = a.id),
		(SELECT COUNT(*) FROM jobs WHERE kind = 'account.erase' AND dedupe_key = $2),
		(SELECT COUNT(*) FROM audit_log WHERE action = 'account.delete' AND target_id = $2)
		FROM accounts a WHERE a.id = $1`, id, id.String()).Scan(&e.status, &e.events, &e.media, &e.jobs, &e.audits)
	if err != nil {
		tb.Fatalf("read the erasure's state: %v", err)
	}
	return e
}

// bulkUp gives the account id killEvents sync log events and killMedia
// media items, their bytes written where the server's disk store keeps
// them, while no server runs.
func bulkUp(tb testing.TB, db *sqldb.DB, mediaDir string, id plaza.ID) {
	tb.Helper()
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var head int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM sync_heads WHERE account_id = $1`, id).Scan(&head); err != nil {
			return fmt.Errorf("sync head: %w", err)
		}
		now := time.Now().UnixMicro()
		for i := int64(1); i <= killEvents; i++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO events (account_id, seq, type, data, created_at) VALUES ($1, $2, 'typing', '{}', $3)`, id, head+i, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sync_heads SET seq = $2 WHERE account_id = $1`, id, head+killEvents); err != nil {
			return err
		}
		for i := range killMedia {
			mid := plaza.NewID()
			key := "bulk/" + mid.String()
			if err := os.MkdirAll(filepath.Join(mediaDir, "bulk"), 0o750); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(mediaDir, filepath.FromSlash(key)), []byte(fmt.Sprintf("bulk item %d\n", i)), 0o640); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO media (owner_id, id, kind, content_type, size, width, height, duration_ms, storage_key, thumb_key, thumb_type, sha256, created_at)
				VALUES ($1, $2, 'file', 'text/plain', 16, 0, 0, 0, $3, '', '', '', $4)`, id, mid, key, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("give the account its bulk: %v", err)
	}
}

// filesUnder counts the files under dir.
func filesUnder(tb testing.TB, dir string) int {
	tb.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("walk %s: %v", dir, err)
	}
	return n
}

// uploadFile uploads data as the multipart field "file" and returns the
// media ID.
func uploadFile(tb testing.TB, baseURL string, u user, name string, data []byte) string {
	tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequest("POST", baseURL+"/api/v1/media", &body)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+u.Token)
	resp, err := httpClient.Do(req)
	if err != nil {
		tb.Fatalf("upload: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	r := response{req: "POST /api/v1/media", status: resp.StatusCode}
	if r.body, err = io.ReadAll(resp.Body); err != nil {
		tb.Fatal(err)
	}
	r.want(tb, http.StatusCreated, &out)
	return out.ID
}
