package httpapi

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/plazatest"
)

// waitExport polls GET /me/exports/{id} as u until the export is ready
// (or failed) and returns it.
func (e *testEnv) waitExport(u user, id string) resp {
	e.t.Helper()
	var got resp
	plazatest.Eventually(e.t, time.Minute, func() error {
		got = e.do("GET", "/api/v1/me/exports/"+id, u.token, nil)
		if got.status != http.StatusOK {
			return fmt.Errorf("got %d: %s", got.status, got.raw)
		}
		if st := got.body["status"]; st != "ready" && st != "failed" {
			return fmt.Errorf("export is %v", st)
		}
		return nil
	})
	if got.body["status"] != "ready" {
		e.t.Fatalf("export failed: %s", got.raw)
	}
	return got
}

// exportZip exports u's data over the API and returns the files of the
// ZIP, each file's bytes after its name.
func (e *testEnv) exportZip(u user) resp {
	e.t.Helper()
	id := e.do("POST", "/api/v1/me/exports", u.token, nil).want(e.t, http.StatusAccepted, "").body["id"].(string)
	ready := e.waitExport(u, id)
	dl := e.do("GET", ready.body["download_url"].(string), u.token, nil).want(e.t, http.StatusOK, "")
	zr, err := zip.NewReader(bytes.NewReader(dl.raw), int64(len(dl.raw)))
	if err != nil {
		e.t.Fatalf("the download is not a ZIP: %v", err)
	}
	var all bytes.Buffer
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			e.t.Fatal(err)
		}
		all.WriteString(f.Name + "\n")
		if _, err := io.Copy(&all, rc); err != nil {
			e.t.Fatal(err)
		}
		rc.Close()
	}
	return resp{status: dl.status, header: dl.header, raw: all.Bytes()}
}

func TestExports(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		owner := e.register("exporter")
		stranger := e.register("stranger")

		// Asked for while the queue is paused: it stays pending, and a
		// second request is a conflict naming it.
		first := e.do("POST", "/api/v1/me/exports", owner.token, nil).want(t, 202, "")
		id, _ := first.body["id"].(string)
		if id == "" || first.body["status"] != "pending" || first.body["download_url"] != nil {
			t.Fatalf("POST /me/exports = %s, want an id, pending and no download_url", first.raw)
		}
		if d := e.do("POST", "/api/v1/me/exports", owner.token, nil).want(t, 409, "conflict").details(); d["export_id"] != id {
			t.Errorf("conflict details = %v, want export_id %s", d, id)
		}
		e.do("GET", "/api/v1/me/exports/"+id+"/download", owner.token, nil).want(t, 409, "conflict")

		// Only the requester sees it; nobody anonymous sees anything.
		for _, path := range []string{"/api/v1/me/exports/" + id, "/api/v1/me/exports/" + id + "/download"} {
			e.do("GET", path, stranger.token, nil).want(t, 404, "not_found")
			e.do("GET", path, "", nil).want(t, 401, "unauthenticated")
		}
		e.do("GET", "/api/v1/me/exports/12345", owner.token, nil).want(t, 404, "not_found")
		e.do("GET", "/api/v1/me/exports/nonsense", owner.token, nil).want(t, 404, "not_found")
		e.do("POST", "/api/v1/me/exports", "", nil).want(t, 401, "unauthenticated")
		e.do("GET", "/api/v1/me/exports", "", nil).want(t, 401, "unauthenticated")
		if items := e.do("GET", "/api/v1/me/exports", stranger.token, nil).want(t, 200, "").body["items"].([]any); len(items) != 0 {
			t.Errorf("a stranger's list holds %d exports, want 0", len(items))
		}

		e.startJobs()
		ready := e.waitExport(owner, id)
		url := "/api/v1/me/exports/" + id + "/download"
		if ready.body["download_url"] != url || ready.body["progress"] != float64(1) || ready.body["size"].(float64) <= 0 || ready.body["expires_at"] == nil {
			t.Errorf("ready export = %s, want the download URL, progress 1, a size and an expiry", ready.raw)
		}
		dl := e.do("GET", url, owner.token, nil).want(t, 200, "")
		if ct, cd := dl.header.Get("Content-Type"), dl.header.Get("Content-Disposition"); ct != "application/zip" || !strings.HasPrefix(cd, "attachment;") {
			t.Errorf("download headers: Content-Type %q, Content-Disposition %q; want application/zip, attachment", ct, cd)
		}
		if int64(len(dl.raw)) != int64(ready.body["size"].(float64)) {
			t.Errorf("downloaded %d bytes, want the export's size %v", len(dl.raw), ready.body["size"])
		}
		if _, err := zip.NewReader(bytes.NewReader(dl.raw), int64(len(dl.raw))); err != nil {
			t.Errorf("the download is not a ZIP: %v", err)
		}
		e.do("GET", url, stranger.token, nil).want(t, 404, "not_found")
		e.do("GET", url, "", nil).want(t, 401, "unauthenticated")

		// A range, for a download that resumes.
		req, _ := http.NewRequest("GET", e.srv.URL+url, nil)
		req.Header.Set("Authorization", "Bearer "+owner.token)
		req.Header.Set("Range", "bytes=0-3")
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		head, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusPartialContent || string(head) != "PK\x03\x04" {
			t.Errorf("range 0-3: got %d %q, want 206 and a ZIP's signature", res.StatusCode, head)
		}

		// The list, newest first.
		second := e.do("POST", "/api/v1/me/exports", owner.token, nil).want(t, 202, "").body["id"].(string)
		e.waitExport(owner, second)
		items := e.do("GET", "/api/v1/me/exports", owner.token, nil).want(t, 200, "").body["items"].([]any)
		if len(items) != 2 || items[0].(map[string]any)["id"] != second || items[1].(map[string]any)["id"] != id {
			t.Errorf("GET /me/exports = %v, want the second then the first", items)
		}

		// Past its expiry the download is gone.
		if _, err := e.db.Write().ExecContext(context.Background(), `UPDATE exports SET expires_at = 1 WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		e.do("GET", url, owner.token, nil).want(t, 410, "gone")
		if st := e.do("GET", "/api/v1/me/exports/"+id, owner.token, nil).want(t, 200, "").body["status"]; st != "expired" {
			t.Errorf("an expired export's status = %v, want expired", st)
		}
	}, withJobsPaused)
}

// TestExportsInAnyStanding checks that a suspended account and one that
// has not accepted new terms may still export and download their data.
func TestExportsInAnyStanding(t *testing.T) {
	tests := []struct {
		name     string
		restrict func(e *testEnv, admin, u user)
		gated    string // what another route now answers
	}{
		{"suspended", func(e *testEnv, admin, u user) {
			e.do("POST", "/api/v1/admin/accounts/"+u.id.String()+"/suspension", admin.token, map[string]any{"reason": "spam"}).want(e.t, 200, "")
		}, "account_suspended"},
		{"terms-gated", func(e *testEnv, admin, u user) {
			e.do("POST", "/api/v1/admin/terms", admin.token, map[string]any{"title": "v2", "body": "new", "requires_reconsent": true}).want(e.t, 201, "")
		}, "terms_acceptance_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			admin := e.withRole("boss", account.Admin)
			if tt.name == "terms-gated" {
				// The admin publishing must not be gated first.
				e.do("GET", "/api/v1/me", admin.token, nil).want(t, 200, "")
			}
			u := e.register("restricted")
			tt.restrict(e, admin, u)
			e.do("PATCH", "/api/v1/me", u.token, map[string]any{"display_name": "x"}).want(t, 403, tt.gated)
			files := e.exportZip(u)
			if !bytes.Contains(files.raw, []byte(`"handle": "restricted"`)) {
				t.Errorf("the export does not hold the account")
			}
			if items := e.do("GET", "/api/v1/me/exports", u.token, nil).want(t, 200, "").body["items"].([]any); len(items) != 1 {
				t.Errorf("GET /me/exports holds %d exports, want 1", len(items))
			}
		})
	}
}
