package httpapi

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/media"
)

// createUpload starts a resumable upload of size bytes and returns its
// location, or "" with the response when it was refused.
func (e *testEnv) createUpload(token string, size int) (string, *http.Response) {
	e.t.Helper()
	res, err := e.tus("POST", "/api/v1/uploads", token, nil, map[string]string{"Upload-Length": strconv.Itoa(size)})
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		return "", res
	}
	return res.Header.Get("Location"), res
}

func (e *testEnv) usage(tb testing.TB, token string) (reserved, unfinished float64) {
	tb.Helper()
	u := e.do("GET", "/api/v1/me/media-usage", token, nil).want(tb, http.StatusOK, "")
	return u.body["reserved_bytes"].(float64), u.body["unfinished_uploads"].(float64)
}

// An unfinished resumable upload holds its declared length against the
// quota until it is finished, terminated or pruned, and an account may
// have only so many at once.
func TestHostileResumableUploadsHoldQuota(t *testing.T) {
	e := newEnv(t, func(c *envConfig) {
		c.media = func(m *media.Config) { m.Quota, m.MaxUnfinished = 1<<20, 2 }
	})
	u := e.verified("holder")
	loc, res := e.createUpload(u.token, 700<<10)
	if loc == "" {
		t.Fatalf("create: got %d, want 201", res.StatusCode)
	}
	if r, n := e.usage(t, u.token); r != 700<<10 || n != 1 {
		t.Errorf("usage with an unfinished upload: %v reserved, %v unfinished; want 716800 and 1", r, n)
	}
	// The reserved bytes are not free for another upload.
	e.upload(u, "a.bin", "", make([]byte, 400<<10)).want(t, http.StatusTooManyRequests, plaza.EQuotaExceeded)
	if _, res := e.createUpload(u.token, 400<<10); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a second resumable upload past the quota: got %d, want 429", res.StatusCode)
	}

	// Cancelling gives the quota back.
	del, err := e.tus("DELETE", loc, u.token, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	del.Body.Close()
	if del.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: got %d, want 204", del.StatusCode)
	}
	if r, n := e.usage(t, u.token); r != 0 || n != 0 {
		t.Errorf("usage after DELETE: %v reserved, %v unfinished; want 0 and 0", r, n)
	}

	// At most MaxUnfinished at once.
	first, _ := e.createUpload(u.token, 10)
	if second, _ := e.createUpload(u.token, 10); first == "" || second == "" {
		t.Fatal("two small uploads were refused")
	}
	res, err = e.tus("POST", "/api/v1/uploads", u.token, nil, map[string]string{"Upload-Length": "10"})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "unfinished") {
		t.Errorf("a third unfinished upload with a limit of 2: got %d %s, want 429 naming unfinished uploads", res.StatusCode, body)
	}

	// Abandoned uploads are pruned with their reservations.
	e.api.pruneUploadsOnce(t.Context(), time.Now().Add(25*time.Hour))
	if r, n := e.usage(t, u.token); r != 0 || n != 0 {
		t.Errorf("usage after pruning: %v reserved, %v unfinished; want 0 and 0", r, n)
	}
	if loc, _ := e.createUpload(u.token, 10); loc == "" {
		t.Error("a new upload after pruning was refused")
	}
}
