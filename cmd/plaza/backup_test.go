package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/audit"
)

// offlineData makes a data directory without a server: a migrated
// database, an audit key, a secret key and one media object.
func offlineData(tb testing.TB) string {
	tb.Helper()
	data := tb.TempDir()
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.Data = data
	db, err := openDB(ctx, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, _, err := audit.OpenKeys(ctx, db, cfg.AuditKeyPath(), true); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "secret.key"), []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	obj := filepath.Join(data, "media", "01", "23", "4567890123")
	if err := os.MkdirAll(filepath.Dir(obj), 0o750); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(obj, []byte("media bytes"), 0o640); err != nil {
		tb.Fatal(err)
	}
	return data
}

// offlineBackup backs up a fresh offlineData directory and returns the
// backup's directory.
func offlineBackup(tb testing.TB) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "backup")
	res := runInProcess(tb, "admin", "backup", "--data", offlineData(tb), out)
	if res.code != 0 || !strings.Contains(res.stdout, "1 media file") || !strings.Contains(res.stderr, "WARNING") {
		tb.Fatalf("backup: got exit %d, stdout %q, stderr %q; want 0, one media file and the key warning", res.code, res.stdout, res.stderr)
	}
	return out
}

// TestRestoreRefuses damages a backup in every way restore must notice
// and checks that it refuses and leaves the target empty.
func TestRestoreRefuses(t *testing.T) {
	clearPlazaEnv(t)
	editManifest := func(fn func(m map[string]any)) func(tb testing.TB, dir string) {
		return func(tb testing.TB, dir string) {
			p := filepath.Join(dir, manifestName)
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				tb.Fatal(err)
			}
			fn(m)
			if b, err = json.Marshal(m); err != nil {
				tb.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o600); err != nil {
				tb.Fatal(err)
			}
		}
	}
	file := func(m map[string]any, prefix string) map[string]any {
		for _, f := range m["files"].([]any) {
			if f := f.(map[string]any); strings.HasPrefix(f["path"].(string), prefix) {
				return f
			}
		}
		t.Fatalf("no file %s* in the manifest", prefix)
		return nil
	}
	tests := []struct {
		name    string
		damage  func(tb testing.TB, dir string)
		nonEmpt bool
		want    string
	}{
		{name: "intact but target not empty", nonEmpt: true, want: "is not empty"},
		{name: "no manifest", damage: func(tb testing.TB, dir string) { os.Remove(filepath.Join(dir, manifestName)) }, want: "not a plaza backup"},
		{name: "manifest not JSON", damage: func(tb testing.TB, dir string) {
			os.WriteFile(filepath.Join(dir, manifestName), []byte(`{"format": 1, "files": [`), 0o600)
		}, want: "corrupted manifest"},
		{name: "unknown field", damage: editManifest(func(m map[string]any) { m["extra"] = true }), want: "corrupted manifest"},
		{name: "media bytes changed", damage: func(tb testing.TB, dir string) {
			os.WriteFile(filepath.Join(dir, "media", "01", "23", "4567890123"), []byte("media bytez"), 0o640)
		}, want: "does not match the manifest"},
		{name: "media is a symbolic link", damage: func(tb testing.TB, dir string) {
			// The same bytes, so size and hash match: only the link gives it away.
			p := filepath.Join(dir, "media", "01", "23", "4567890123")
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			elsewhere := filepath.Join(tb.TempDir(), "secret")
			if err := os.WriteFile(elsewhere, b, 0o600); err != nil {
				tb.Fatal(err)
			}
			os.Remove(p)
			if err := os.Symlink(elsewhere, p); err != nil {
				tb.Fatal(err)
			}
		}, want: "is not a regular file"},
		{name: "database truncated", damage: func(tb testing.TB, dir string) {
			os.Truncate(filepath.Join(dir, backupDBName), 4096)
		}, want: "does not match the manifest"},
		{name: "key size wrong", damage: editManifest(func(m map[string]any) { file(m, "keys/secret.key")["size"] = 1 }), want: "does not match the manifest"},
		{name: "bad hash", damage: editManifest(func(m map[string]any) { file(m, "keys/audit.key")["sha256"] = "zz" }), want: "bad size or sha256"},
		{name: "path escapes", damage: editManifest(func(m map[string]any) { file(m, "media/")["path"] = "media/../../evil" }), want: "is not a"},
		{name: "key missing", damage: editManifest(func(m map[string]any) {
			files := m["files"].([]any)
			var kept []any
			for _, f := range files {
				if f.(map[string]any)["path"] != "keys/secret.key" {
					kept = append(kept, f)
				}
			}
			m["files"] = kept
		}), want: "want the database, secret.key and audit.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := offlineBackup(t)
			if tt.damage != nil {
				tt.damage(t, src)
			}
			target := filepath.Join(t.TempDir(), "new")
			if tt.nonEmpt {
				if err := os.MkdirAll(target, 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(target, "plaza.db"), []byte("live"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			res := runInProcess(t, "admin", "restore", src, "--data", target)
			if res.code != 1 || !strings.Contains(res.stderr, tt.want) {
				t.Fatalf("restore: got exit %d, stderr %q; want 1 and %q", res.code, res.stderr, tt.want)
			}
			entries, _ := os.ReadDir(target)
			if tt.nonEmpt {
				if b, _ := os.ReadFile(filepath.Join(target, "plaza.db")); len(entries) != 1 || string(b) != "live" {
					t.Errorf("restore changed a non-empty target: got %d entries, plaza.db %q", len(entries), b)
				}
			} else if len(entries) != 0 {
				t.Errorf("restore left %d entries in the target after refusing", len(entries))
			}
		})
	}
}

// TestRestoreModes restores an intact backup and checks what lands where
// and with which mode.
func TestRestoreModes(t *testing.T) {
	clearPlazaEnv(t)
	src := offlineBackup(t)
	target := filepath.Join(t.TempDir(), "new")
	res := runInProcess(t, "admin", "restore", "--data", target, src)
	if res.code != 0 || !strings.Contains(res.stdout, "plaza admin audit verify --data "+target) {
		t.Fatalf("restore: got exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	for _, tc := range []struct {
		path string
		mode os.FileMode
	}{
		{"plaza.db", 0o600},
		{"secret.key", 0o600},
		{"audit.key", 0o600},
		{"media/01/23/4567890123", 0o640},
	} {
		fi, err := os.Stat(filepath.Join(target, tc.path))
		if err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		if got := fi.Mode().Perm(); got != tc.mode {
			t.Errorf("%s: got mode %v, want %v", tc.path, got, tc.mode)
		}
	}
	if res := runInProcess(t, "admin", "audit", "verify", "--data", target); res.code != 0 {
		t.Errorf("audit verify after restore: got exit %d, stderr %q", res.code, res.stderr)
	}
}

// TestBackupRefuses checks the backups plaza admin backup must not make.
func TestBackupRefuses(t *testing.T) {
	clearPlazaEnv(t)
	data := offlineData(t)
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no OUT", []string{"--data", data}, 2, "needs one OUT"},
		{"OUT not empty", []string{"--data", data, full}, 1, "is not empty"},
		{"postgres", []string{"--db", "postgres://postgres@127.0.0.1:1/x", filepath.Join(t.TempDir(), "o")}, 1, "pg_dump -Fc"},
		{"no database", []string{"--data", t.TempDir(), filepath.Join(t.TempDir(), "o")}, 1, "database"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runInProcess(t, append([]string{"admin", "backup"}, tt.args...)...)
			if res.code != tt.code || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("backup: got exit %d, stderr %q; want %d and %q", res.code, res.stderr, tt.code, tt.want)
			}
		})
	}
}

// TestBackupUnderLoad backs up a running server while senders post
// messages and upload media, restores the backup into a new directory,
// serves it, and checks that everything acknowledged before the backup
// began is there and that the audit log verifies.
func TestBackupUnderLoad(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	flags := []string{"--direct-messages", "anyone",
		"--verification-policy", "message.send=none,contact.request=none,conversation.create=none"}
	srv := startServer(t, append([]string{"--data", data}, flags...)...)
	type pair struct {
		a, b user
		conv string
	}
	pairs := make([]pair, 2)
	for i := range pairs {
		a := register(t, srv.URL, fmt.Sprintf("ba%d", i))
		b := register(t, srv.URL, fmt.Sprintf("bb%d", i))
		pairs[i] = pair{a: a, b: b, conv: openDirect(t, srv.URL, a, b)}
	}
	wantCLI(t, 0, "role moderator granted to ba0", "admin", "grant", "--data", data, "ba0", "moderator")

	type upload struct {
		id, token string
		data      []byte
	}
	var (
		mu      sync.Mutex // guards the three below
		acked   []messageJSON
		uploads []upload
		errs    []error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, p := range pairs {
		for _, u := range []user{p.a, p.b} {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					m, err := postText(srv.URL, u, p.conv, fmt.Sprintf("%s-%d", u.Handle, i))
					if err != nil {
						fail(err)
						return
					}
					mu.Lock()
					acked = append(acked, m)
					mu.Unlock()
				}
			})
		}
	}
	wg.Go(func() {
		u := pairs[0].a
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			raw := make([]byte, 256+i%1024)
			rand.Read(raw)
			b := []byte(hex.EncodeToString(raw))
			id, err := postMedia(srv.URL, u, b)
			if err != nil {
				fail(err)
				return
			}
			mu.Lock()
			uploads = append(uploads, upload{id: id, token: u.Token, data: b})
			mu.Unlock()
		}
	})
	counts := func() (int, int, int) {
		mu.Lock()
		defer mu.Unlock()
		return len(acked), len(uploads), len(errs)
	}
	waitFor := func(what string, msgs, media int) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			m, u, e := counts()
			if e > 0 {
				close(stop)
				wg.Wait()
				t.Fatalf("load failed before %s: %v", what, errs)
			}
			if m >= msgs && u >= media {
				return
			}
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("%s: only %d messages and %d uploads acknowledged, want %d and %d", what, m, u, msgs, media)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("the backup", 100, 5)

	// Everything in these slices now was acknowledged before the backup
	// started.
	mu.Lock()
	msgsBefore := append([]messageJSON(nil), acked...)
	mediaBefore := append([]upload(nil), uploads...)
	mu.Unlock()
	out := filepath.Join(t.TempDir(), "backup")
	res := wantCLI(t, 0, "backup written to", "admin", "backup", "--data", data, out)
	if !strings.Contains(res.stderr, "WARNING") {
		t.Errorf("backup: got stderr %q, want the key warning", res.stderr)
	}
	m, u, _ := counts()
	waitFor("stopping", m+20, u+1) // the load went on through the backup
	close(stop)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("load: %v", errs)
	}
	srv.terminate(t)
	srv.wait(t, exitTimeout)

	restored := filepath.Join(t.TempDir(), "restored")
	wantCLI(t, 0, "restored", "admin", "restore", out, "--data", restored)
	wantCLI(t, 0, "hash chain intact", "admin", "audit", "verify", "--data", restored)
	srv2 := startServer(t, append([]string{"--data", restored}, flags...)...)

	for _, p := range pairs {
		hist := history(t, srv2.URL, p.a.Token, p.conv)
		byID := map[string]messageJSON{}
		for i, h := range hist {
			if h.Seq != int64(i+1) {
				t.Fatalf("conversation %s: message %d has seq %d, want %d (a gap in the restored history)", p.conv, i, h.Seq, i+1)
			}
			byID[h.ID] = h
		}
		for _, want := range msgsBefore {
			if want.ConversationID != p.conv {
				continue
			}
			got, ok := byID[want.ID]
			if !ok || got.Seq != want.Seq || got.ClientID != want.ClientID || got.Text != want.Text {
				t.Errorf("message %s (seq %d, acknowledged before the backup): got %+v (found %v) after restore", want.ID, want.Seq, got, ok)
			}
		}
	}
	for _, up := range mediaBefore {
		r := call(t, "GET", srv2.URL+"/api/v1/media/"+up.id, up.token, nil)
		if r.status != http.StatusOK || !bytes.Equal(r.body, up.data) {
			t.Errorf("media %s after restore: got status %d and %d bytes, want 200 and the %d bytes uploaded", up.id, r.status, len(r.body), len(up.data))
		}
	}
	t.Logf("backed up under load: %d messages and %d uploads acknowledged before the backup, checked after restore", len(msgsBefore), len(mediaBefore))
}

// postText sends one text message and returns it, or an error unless the
// server answered 201.
func postText(baseURL string, u user, conv, clientID string) (messageJSON, error) {
	body, _ := json.Marshal(map[string]any{"client_id": clientID, "kind": "text", "text": "text of " + clientID})
	req, err := http.NewRequest("POST", baseURL+"/api/v1/conversations/"+conv+"/messages", bytes.NewReader(body))
	if err != nil {
		return messageJSON{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	var m messageJSON
	if err := doJSON(req, u.Token, http.StatusCreated, &m); err != nil {
		return m, fmt.Errorf("send %s: %w", clientID, err)
	}
	return m, nil
}

// postMedia uploads data as a text/plain file and returns the media ID.
func postMedia(baseURL string, u user, data []byte) (string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="note.txt"`)
	h.Set("Content-Type", "text/plain")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return "", err
	}
	if _, err := pw.Write(data); err != nil {
		return "", err
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	req, err := http.NewRequest("POST", baseURL+"/api/v1/media", &body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var out struct {
		ID string `json:"id"`
	}
	if err := doJSON(req, u.Token, http.StatusCreated, &out); err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	return out.ID, nil
}

// doJSON sends req with a bearer token and decodes the answer into out
// unless its status is not want.
func doJSON(req *http.Request, token string, want int, out any) error {
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("got %d %s, want %d", resp.StatusCode, b, want)
	}
	return json.Unmarshal(b, out)
}

// TestBackupReportsMissingMedia checks that a media row whose bytes are
// gone by the time the media are copied (an item deleted during the
// backup) is listed in the manifest and printed, while one whose bytes
// are there is not.
func TestBackupReportsMissingMedia(t *testing.T) {
	clearPlazaEnv(t)
	data := offlineData(t)
	// Foreign keys are off on a plain connection: no account is needed.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "plaza.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	for i, key := range []string{"01/23/4567890123", "89/67/1234516789"} {
		_, err := db.Exec(`INSERT INTO media (owner_id, id, kind, content_type, size, width, height, duration_ms,
			storage_key, thumb_key, thumb_type, sha256, created_at) VALUES (1, ?, 'file', 'text/plain', 11, 0, 0, 0, ?, '', '', '', 0)`, i+1, key)
		if err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	out := filepath.Join(t.TempDir(), "backup")
	res := runInProcess(t, "admin", "backup", "--data", data, out)
	if res.code != 0 || !strings.Contains(res.stdout, "1 media file listed in the database had no bytes") || !strings.Contains(res.stdout, "89/67/1234516789") {
		t.Fatalf("backup: got exit %d, stdout %q, stderr %q; want 0 and the missing key reported", res.code, res.stdout, res.stderr)
	}
	m, err := readManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.MissingMedia) != 1 || m.MissingMedia[0] != "89/67/1234516789" {
		t.Errorf("manifest missing_media: got %q, want [89/67/1234516789]", m.MissingMedia)
	}
}

// TestBackupS3Media checks that media on S3 are neither contacted nor
// copied, and that both commands say the bucket needs its own protection.
func TestBackupS3Media(t *testing.T) {
	clearPlazaEnv(t)
	data := offlineData(t)
	out := filepath.Join(t.TempDir(), "backup")
	res := runInProcess(t, "admin", "backup", "--data", data, "--media", "s3://plaza-media?endpoint=http://127.0.0.1:1&region=x&path_style=true", out)
	if res.code != 0 || !strings.Contains(res.stdout, "0 media files") || !strings.Contains(res.stdout, "NOT copied") {
		t.Fatalf("backup: got exit %d, stdout %q, stderr %q; want 0, no media and the S3 note", res.code, res.stdout, res.stderr)
	}
	target := filepath.Join(t.TempDir(), "new")
	res = runInProcess(t, "admin", "restore", out, "--data", target)
	if res.code != 0 || !strings.Contains(res.stdout, "media were on S3") {
		t.Errorf("restore: got exit %d, stdout %q, stderr %q; want 0 and the S3 note", res.code, res.stdout, res.stderr)
	}
}
