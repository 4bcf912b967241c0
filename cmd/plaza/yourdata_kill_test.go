package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// exportJSON is the part of an export the kill test looks at.
type exportJSON struct {
	ID          string  `json:"id"`
	Status      string  `json:"status"`
	Progress    float64 `json:"progress"`
	Size        int64   `json:"size"`
	DownloadURL string  `json:"download_url"`
}

// TestExportSurvivesKill asks the real binary for a data export, SIGKILLs
// it while the export is being written, restarts it on the same data and
// checks that the export is then written whole, exactly once: the ZIP
// opens and has every file, and the store holds one object for it and no
// leftover of the killed write. The test build slows exports down
// (PLAZA_TEST_EXPORT_PAGE_DELAY, honoured only by binaries built with the
// plazatest tag) so that the kill lands mid-export. It runs on SQLite,
// and on PostgreSQL when PLAZA_TEST_POSTGRES is set, with a 2-second job
// lease that the killed node's claim must outlive.
func TestExportSurvivesKill(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testExportSurvivesKill(t, nil)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testExportSurvivesKill(t, []string{"--db", sqldbtest.URL(t, sqldb.Postgres)})
	})
}

func testExportSurvivesKill(t *testing.T, dbArgs []string) {
	const messages = 60
	data := t.TempDir()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--rate-limits", "off", "--data", data,
		"--verification-policy", "message.send=none,contact.request=none,conversation.create=none", "--direct-messages", "anyone"}, dbArgs...)
	slow := []string{"PLAZA_TEST_EXPORT_PAGE_DELAY=150ms", "PLAZA_TEST_EXPORT_PAGE_SIZE=4", "PLAZA_TEST_JOBS_LEASE=2s"}
	srv := startProcess(t, slow, args...)

	a := register(t, srv.URL, "exporter")
	b := register(t, srv.URL, "friend")
	conv := openDirect(t, srv.URL, a, b)
	for i := range messages {
		from := a
		if i%2 == 1 {
			from = b
		}
		sendText(t, srv.URL, from, conv, fmt.Sprint("k", i), fmt.Sprintf("message %d, 你好", i), http.StatusCreated)
	}

	var ex exportJSON
	call(t, "POST", srv.URL+"/api/v1/me/exports", a.Token, nil).want(t, http.StatusAccepted, &ex)
	plazatest.Eventually(t, time.Minute, func() error {
		var got exportJSON
		call(t, "GET", srv.URL+"/api/v1/me/exports/"+ex.ID, a.Token, nil).want(t, http.StatusOK, &got)
		if got.Status != "running" || got.Progress <= 0 {
			return fmt.Errorf("export is %s at %.2f, want running and under way", got.Status, got.Progress)
		}
		return nil
	})
	srv.kill(t)

	// Back on the same data, without the slowdown. The killed write's
	// temp file is removed at start.
	srv = startProcess(t, []string{"PLAZA_TEST_JOBS_LEASE=2s"}, args...)
	if rec, ok := srv.logRecord("removed the temp files of exports interrupted"); !ok || rec["files"] != float64(1) {
		t.Errorf("got start log %v, want one interrupted export's temp file removed", rec)
	}
	var ready exportJSON
	plazatest.Eventually(t, 2*time.Minute, func() error {
		call(t, "GET", srv.URL+"/api/v1/me/exports/"+ex.ID, a.Token, nil).want(t, http.StatusOK, &ready)
		if ready.Status != "ready" {
			return fmt.Errorf("export is %s at %.2f", ready.Status, ready.Progress)
		}
		return nil
	})
	res := call(t, "GET", srv.URL+ready.DownloadURL, a.Token, nil)
	res.want(t, http.StatusOK, nil)
	if int64(len(res.body)) != ready.Size {
		t.Errorf("downloaded %d bytes, want the export's size %d", len(res.body), ready.Size)
	}
	zr, err := zip.NewReader(bytes.NewReader(res.body), int64(len(res.body)))
	if err != nil {
		t.Fatalf("the export is not a ZIP: %v", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	for _, name := range []string{"index.html", "README.txt", "schema.json", "account.json", "contacts.json", "blocks.json", "conversations/index.json",
		"conversations/" + conv + ".json", "conversations/" + conv + ".html", "posts.json", "likes.json", "follows.json", "channels.json",
		"moderation.json", "media/index.json", "media.html"} {
		if files[name] == nil {
			t.Errorf("the export has no %s", name)
		}
	}
	if f := files["conversations/"+conv+".json"]; f != nil {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Messages []json.RawMessage `json:"messages"`
		}
		err = json.NewDecoder(rc).Decode(&c)
		rc.Close()
		if err != nil || len(c.Messages) != messages {
			t.Errorf("the conversation holds %d messages (err %v), want %d", len(c.Messages), err, messages)
		}
	}

	// Exactly one object for the export, and nothing of the killed write.
	entries, err := os.ReadDir(filepath.Join(data, "media", "exports"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	if len(names) != 1 || !strings.HasPrefix(names[0], ex.ID+".") || !strings.HasSuffix(names[0], ".zip") {
		t.Errorf("the store's exports folder holds %q, want one ZIP of export %s", names, ex.ID)
	}
	if len(names) == 1 {
		stored, err := os.ReadFile(filepath.Join(data, "media", "exports", names[0]))
		if err != nil || !bytes.Equal(stored, res.body) {
			t.Errorf("the stored ZIP differs from the download (err %v)", err)
		}
	}
}
