package httpapi

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/media"
)

// fullStore is a media store on a full disk: every write fails as a file
// system out of space does.
type fullStore struct{ blob.Store }

func (fullStore) Put(context.Context, string, io.Reader, int64, string) error {
	return fmt.Errorf("blob: put: write: %w", syscall.ENOSPC)
}

func (e *testEnv) wantStorageFull(tb testing.TB) {
	tb.Helper()
	h := e.do("GET", "/healthz", "", nil)
	if h.status != http.StatusServiceUnavailable || !strings.Contains(string(h.raw), "storage full") {
		tb.Errorf("/healthz after a full disk: got %d %s, want 503 naming storage", h.status, h.raw)
	}
	m := e.fetch("", "/metrics", "")
	if !strings.Contains(string(m.raw), "\nplaza_storage_full 1\n") {
		tb.Errorf("/metrics lacks plaza_storage_full 1")
	}
}

// A full disk under an upload is the server's condition: 507, not a 400
// blaming the client; /healthz and /metrics say so.
func TestHostileDiskFullUpload(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.wrapStore = func(s blob.Store) blob.Store { return fullStore{s} } })
	u := e.verified("writer")
	if m := e.fetch("", "/metrics", ""); !strings.Contains(string(m.raw), "\nplaza_storage_full 0\n") {
		t.Errorf("/metrics before: want plaza_storage_full 0")
	}
	e.do("GET", "/healthz", "", nil).want(t, http.StatusOK, "")
	e.upload(u, "notes.txt", "text/plain", []byte("some notes")).want(t, http.StatusInsufficientStorage, plaza.EInsufficientStorage)
	e.wantStorageFull(t)
	// The reservation went back with the failure.
	if r, _ := e.usage(t, u.token); r != 0 {
		t.Errorf("reserved after a failed upload: %v, want 0", r)
	}
}

// A full database (SQLite at its max_page_count: a real SQLITE_FULL)
// makes a send 507 insufficient_storage rather than 500 internal.
func TestHostileDiskFullSend(t *testing.T) {
	e := newEnv(t)
	a, b := e.verified("ann"), e.verified("ben")
	e.befriend(a, b)
	conv := e.direct(a, b)
	e.send(a, conv, "c1", "hello").want(t, http.StatusCreated, "")
	var pages int
	if err := e.db.Write().QueryRowContext(context.Background(), `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Write().ExecContext(context.Background(), fmt.Sprintf(`PRAGMA max_page_count = %d`, pages)); err != nil {
		t.Fatal(err)
	}
	// Fill the last free pages, then the next send cannot be stored.
	var got resp
	for i := range 200 {
		got = e.send(a, conv, fmt.Sprintf("fill-%d", i), strings.Repeat("x", 1500))
		if got.status != http.StatusCreated {
			break
		}
	}
	got.want(t, http.StatusInsufficientStorage, plaza.EInsufficientStorage)
	e.wantStorageFull(t)
}

// A single-request upload slower than its deadline gets 408 pointing at
// resumable uploads, not a misleading 400; the deadline grows with the
// size limit.
func TestHostileUploadDeadline(t *testing.T) {
	if got := uploadDeadline(200<<20, time.Minute); got != 800*time.Second {
		t.Errorf("deadline for 200 MiB = %v, want 800s", got)
	}
	if got := uploadDeadline(1<<20, time.Minute); got != time.Minute {
		t.Errorf("deadline for 1 MiB = %v, want the 1 minute floor", got)
	}
	e := newEnv(t, func(c *envConfig) {
		c.UploadMinDeadline = 300 * time.Millisecond
		c.media = func(m *media.Config) { m.MaxImage, m.MaxAudio, m.MaxVideo, m.MaxFile = 1<<10, 1<<10, 1<<10, 1<<10 }
	})
	u := e.verified("slow")
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const boundary = "b0undary"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nthe first bytes, then nothing"
	fmt.Fprintf(conn, "POST /api/v1/media HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: 1000\r\n\r\n%s",
		u.token, boundary, head)
	// The client stalls; the server must answer once the deadline passes.
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled upload: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "/api/v1/uploads") {
		t.Errorf("stalled upload: got %d %s, want 408 pointing at resumable uploads", res.StatusCode, body)
	}
}

// NUL bytes and invalid UTF-8 in a multipart file name are never used or
// echoed; in the claimed type (multipart or tus) they are refused, naming
// the field.
func TestHostileNulInUploadNames(t *testing.T) {
	e := newEnv(t)
	u := e.verified("nul")
	ok := e.upload(u, "a\xffb.txt", "", []byte("notes")).want(t, http.StatusCreated, "")
	if strings.Contains(string(ok.raw), "a\xffb") || strings.Contains(string(ok.raw), `\ufffd`) {
		t.Errorf("the response echoes the file name: %s", ok.raw)
	}
	// The multipart parser itself refuses a NUL in part headers.
	e.upload(u, "a\x00b.txt", "", []byte("notes")).want(t, http.StatusBadRequest, plaza.EInvalid)
	wantField(t, e.upload(u, "a.txt", "text/\xffplain", []byte("notes")), "file.content_type")

	res, err := e.tus("POST", "/api/v1/uploads", u.token, nil, map[string]string{
		"Upload-Length":   "5",
		"Upload-Metadata": "filetype " + base64.StdEncoding.EncodeToString([]byte("text/plain\x00x")) + ",filename " + base64.StdEncoding.EncodeToString([]byte("a\x00\xff")),
	})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "filetype") {
		t.Errorf("tus with NUL in filetype: got %d %s, want 400 naming filetype", res.StatusCode, body)
	}
	if r, n := e.usage(t, u.token); r != 0 || n != 0 {
		t.Errorf("a refused tus upload holds %v bytes, %v uploads; want none", r, n)
	}
}
