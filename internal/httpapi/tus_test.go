package httpapi

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/media"
)

func (e *testEnv) tus(method, path, token string, body io.Reader, headers map[string]string) (*http.Response, error) {
	e.t.Helper()
	url := path
	if !strings.HasPrefix(path, "http") {
		url = e.srv.URL + path
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return e.srv.Client().Do(req)
}

// TestResumableUploadSurvivesInterruption sends 30 MiB with tus, cuts
// the connection after 12 MiB, asks how much arrived, sends the rest from
// there, and checks the stored bytes.
func TestResumableUploadSurvivesInterruption(t *testing.T) {
	e := newEnv(t)
	u := e.register("mover")
	other := e.register("snoop")
	const size = 30 << 20
	data := make([]byte, size)
	_, _ = rand.Read(data)

	res, err := e.tus("POST", "/api/v1/uploads", u.token, nil, map[string]string{
		"Upload-Length":   strconv.Itoa(size),
		"Upload-Metadata": "filetype " + base64.StdEncoding.EncodeToString([]byte("application/octet-stream")) + ",filename " + base64.StdEncoding.EncodeToString([]byte("../../etc/passwd")),
	})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusCreated || loc == "" {
		t.Fatalf("create: got %d with Location %q, want 201 and a location", res.StatusCode, loc)
	}

	// The first PATCH breaks off after 12 MiB, as a phone losing signal.
	pr, pw := io.Pipe()
	go func() {
		pw.Write(data[:12<<20])
		pw.CloseWithError(errors.New("signal lost"))
	}()
	if res, err := e.tus("PATCH", loc, u.token, pr, map[string]string{
		"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
	}); err == nil {
		res.Body.Close()
	}

	// Ask how much arrived; the server may still be saving the tail.
	offset := -1
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		res, err := e.tus("HEAD", loc, u.token, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		n, _ := strconv.Atoi(res.Header.Get("Upload-Offset"))
		if res.StatusCode == http.StatusOK && n > 0 && n == offset {
			break
		}
		offset = n
		time.Sleep(50 * time.Millisecond) // polling the server's state, with a deadline
	}
	if offset <= 0 || offset > 12<<20 {
		t.Fatalf("after the interruption the server has %d bytes, want 0 < n ≤ 12 MiB\n%s", offset, e.logText())
	}

	// Nobody else can see or continue it.
	if res, _ := e.tus("HEAD", loc, other.token, nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("another account's HEAD: got %d, want 404", res.StatusCode)
	}
	if res, _ := e.tus("HEAD", loc, "", nil, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous HEAD: got %d, want 401", res.StatusCode)
	}

	res, err = e.tus("PATCH", loc, u.token, bytes.NewReader(data[offset:]), map[string]string{
		"Upload-Offset": strconv.Itoa(offset), "Content-Type": "application/offset+octet-stream",
	})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	id := res.Header.Get("Plaza-Media-Id")
	if res.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("final PATCH: got %d %s (Plaza-Media-Id %q), want 200 with the media item", res.StatusCode, body, id)
	}
	var it media.Item
	if err := json.Unmarshal(body, &it); err != nil || it.Size != size || it.Kind != media.KindFile {
		t.Errorf("final PATCH body = %s (%v), want a file of %d bytes", body, err, size)
	}
	if strings.Contains(string(body), "passwd") {
		t.Errorf("the response echoes the client's file name: %s", body)
	}

	got := e.do("GET", "/api/v1/media/"+id, u.token, nil)
	if got.status != http.StatusOK || sha256.Sum256(got.raw) != sha256.Sum256(data) {
		t.Errorf("download: got %d and %d bytes, want 200 and the 30 MiB sent", got.status, len(got.raw))
	}
	// The parts are gone once processed.
	if res, _ := e.tus("HEAD", loc, u.token, nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("HEAD after completion: got %d, want 404", res.StatusCode)
	}
}

func TestResumableUploadLimits(t *testing.T) {
	e := newEnv(t, func(c *envConfig) {
		c.media = func(m *media.Config) {
			m.MaxImage, m.MaxAudio, m.MaxVideo, m.MaxFile, m.Quota = 1<<20, 1<<20, 1<<20, 1<<20, 3<<20
		}
	})
	u := e.register("limited")
	res, err := e.tus("POST", "/api/v1/uploads", u.token, nil, map[string]string{"Upload-Length": strconv.Itoa(2 << 20)})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("an upload over the limit: got %d, want 413", res.StatusCode)
	}
	res, _ = e.tus("POST", "/api/v1/uploads", u.token, nil, map[string]string{"Upload-Defer-Length": "1"})
	res.Body.Close()
	if res.StatusCode/100 != 4 {
		t.Errorf("an upload of unknown length: got %d, want a 4xx", res.StatusCode)
	}
}
