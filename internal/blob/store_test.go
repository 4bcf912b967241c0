package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// harness is one backend under the conformance suite.
type harness struct {
	store Store
	// list returns every name the backend holds, temp files and
	// unfinished uploads included, to check that failures leave nothing.
	list func(tb testing.TB) []string
}

// backends are the stores that must behave alike.
var backends = []struct {
	name string
	new  func(tb testing.TB) harness
}{
	{"Disk", newDiskHarness},
	{"S3", newS3Harness},
}

// TestStore runs the conformance suite against every backend.
func TestStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range storeTests {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.fn(t, b.new(t))
				})
			}
		})
	}
}

var storeTests = []struct {
	name string
	fn   func(t *testing.T, h harness)
}{
	{"PutOpenSmall", testPutOpenSmall},
	{"PutOpenLarge", testPutOpenLarge},
	{"Empty", testEmpty},
	{"SizeMismatch", testSizeMismatch},
	{"Seek", testSeek},
	{"OpenMissing", testOpenMissing},
	{"Delete", testDelete},
	{"Overwrite", testOverwrite},
	{"FailingReader", testFailingReader},
	{"CanceledContext", testCanceledContext},
	{"InvalidKeys", testInvalidKeys},
	{"ConcurrentPuts", testConcurrentPuts},
	{"ServeContentRange", testServeContentRange},
}

func testPutOpenSmall(t *testing.T, h harness) {
	ctx := t.Context()
	before := time.Now()
	put(t, h.store, "ab/cd/384509780243079168", []byte("hello, plaza"))
	after := time.Now()

	obj := open(t, h.store, "ab/cd/384509780243079168")
	if got, want := obj.Size(), int64(len("hello, plaza")); got != want {
		t.Errorf("Size() = %d, want %d", got, want)
	}
	// S3 keeps modification times to the second.
	if mt := obj.ModTime(); mt.Before(before.Truncate(time.Second)) || mt.After(after.Add(time.Second)) {
		t.Errorf("ModTime() = %v, want between %v and %v", mt, before, after)
	}
	got, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(got) != "hello, plaza" {
		t.Errorf("read %q, want %q", got, "hello, plaza")
	}
	// A key prefix is not an object.
	if _, err := h.store.Open(ctx, "ab/cd"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open(prefix) error = %v, want ErrNotFound", err)
	}
}

func testPutOpenLarge(t *testing.T, h harness) {
	data := randomBytes(t, 6<<20+12345)
	readers := []struct {
		name string
		r    func() io.Reader
		size int64
	}{
		{"seekable", func() io.Reader { return bytes.NewReader(data) }, int64(len(data))},
		{"seekable-unknown-size", func() io.Reader { return bytes.NewReader(data) }, -1},
		{"stream", func() io.Reader { return onlyReader{bytes.NewReader(data)} }, int64(len(data))},
		{"stream-unknown-size", func() io.Reader { return onlyReader{bytes.NewReader(data)} }, -1},
	}
	for _, rc := range readers {
		t.Run(rc.name, func(t *testing.T) {
			key := "large/" + rc.name
			if err := h.store.Put(t.Context(), key, rc.r(), rc.size, "application/octet-stream"); err != nil {
				t.Fatalf("Put: %v", err)
			}
			obj := open(t, h.store, key)
			if got, want := obj.Size(), int64(len(data)); got != want {
				t.Errorf("Size() = %d, want %d", got, want)
			}
			hash := sha256.New()
			if _, err := io.Copy(hash, obj); err != nil {
				t.Fatalf("read: %v", err)
			}
			if got, want := hash.Sum(nil), sha256.Sum256(data); !bytes.Equal(got, want[:]) {
				t.Errorf("SHA-256 of read bytes = %x, want %x", got, want)
			}
		})
	}
}

func testEmpty(t *testing.T, h harness) {
	put(t, h.store, "empty", nil)
	obj := open(t, h.store, "empty")
	if obj.Size() != 0 {
		t.Errorf("Size() = %d, want 0", obj.Size())
	}
	got, err := io.ReadAll(obj)
	if err != nil || len(got) != 0 {
		t.Errorf("ReadAll = %q, %v; want empty, nil", got, err)
	}
}

func testSizeMismatch(t *testing.T, h harness) {
	data := []byte("0123456789")
	for _, c := range []struct {
		name string
		r    io.Reader
		size int64
	}{
		{"seekable-short", bytes.NewReader(data), 20},
		{"seekable-long", bytes.NewReader(data), 5},
		{"stream-short", onlyReader{bytes.NewReader(data)}, 20},
		{"stream-long", onlyReader{bytes.NewReader(data)}, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			key := "mismatch/" + c.name
			err := h.store.Put(t.Context(), key, c.r, c.size, "")
			if !errors.Is(err, errSize) {
				t.Errorf("Put error = %v, want a size mismatch", err)
			}
			wantNotFound(t, h.store, key)
		})
	}
	if names := h.list(t); len(names) != 0 {
		t.Errorf("store holds %q after failed puts, want nothing", names)
	}
}

func testSeek(t *testing.T, h harness) {
	// Past one S3 read chunk, so ranges cross a chunk boundary.
	data := randomBytes(t, 5<<20)
	size := int64(len(data))
	put(t, h.store, "seek/obj", data)
	obj := open(t, h.store, "seek/obj")

	chunk := int64(defaultChunkSize)
	for _, c := range []struct {
		name   string
		offset int64
		whence int
		n      int64
		start  int64 // where the read should begin
	}{
		{"start", 0, io.SeekStart, 100, 0},
		{"middle", 2 << 20, io.SeekStart, 1000, 2 << 20},
		{"across-chunk", chunk - 500, io.SeekStart, 1000, chunk - 500},
		{"back", 10, io.SeekStart, 50, 10},
		{"end", -100, io.SeekEnd, 100, size - 100},
		{"current", 1000, io.SeekCurrent, 10, size + 1000}, // after "end": past EOF
	} {
		t.Run(c.name, func(t *testing.T) {
			pos, err := obj.Seek(c.offset, c.whence)
			if err != nil {
				t.Fatalf("Seek(%d, %d): %v", c.offset, c.whence, err)
			}
			if pos != c.start {
				t.Fatalf("Seek(%d, %d) = %d, want %d", c.offset, c.whence, pos, c.start)
			}
			got := make([]byte, c.n)
			n, err := io.ReadFull(obj, got)
			want := data[min(c.start, size):min(c.start+c.n, size)]
			if int64(len(want)) < c.n {
				if n != len(want) || (err != io.EOF && err != io.ErrUnexpectedEOF) {
					t.Fatalf("ReadFull past the end = %d, %v; want %d, EOF", n, err, len(want))
				}
			} else if err != nil {
				t.Fatalf("ReadFull: %v", err)
			}
			if !bytes.Equal(got[:n], want) {
				t.Errorf("read %d bytes at %d: wrong bytes", n, c.start)
			}
		})
	}

	if pos, err := obj.Seek(0, io.SeekEnd); err != nil || pos != size {
		t.Errorf("Seek(0, SeekEnd) = %d, %v; want %d, nil", pos, err, size)
	}
	if n, err := obj.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read at the end = %d, %v; want 0, EOF", n, err)
	}
	if _, err := obj.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek(-1, SeekStart) succeeded, want an error")
	}
}

func testOpenMissing(t *testing.T, h harness) {
	wantNotFound(t, h.store, "no/such/key")
}

func testDelete(t *testing.T, h harness) {
	ctx := t.Context()
	put(t, h.store, "del/a", []byte("a"))
	if err := h.store.Delete(ctx, "del/a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantNotFound(t, h.store, "del/a")
	if err := h.store.Delete(ctx, "del/a"); err != nil {
		t.Errorf("Delete of a deleted key: %v, want nil", err)
	}
	if err := h.store.Delete(ctx, "never/was"); err != nil {
		t.Errorf("Delete of a missing key: %v, want nil", err)
	}
}

func testOverwrite(t *testing.T, h harness) {
	put(t, h.store, "ow", []byte("the first, longer version"))
	put(t, h.store, "ow", []byte("second"))
	if got := readAll(t, h.store, "ow"); string(got) != "second" {
		t.Errorf("after overwrite read %q, want %q", got, "second")
	}
}

func testFailingReader(t *testing.T, h harness) {
	// 7 MiB is past the S3 harness's part size: a multipart upload that
	// must be aborted.
	for _, n := range []int{0, 1000, 7 << 20} {
		for _, size := range []int64{-1, int64(n) + 1000} {
			t.Run(fmt.Sprintf("after-%d-size-%d", n, size), func(t *testing.T) {
				key := fmt.Sprintf("fail/%d/%d", n, size)
				r := &failingReader{r: bytes.NewReader(randomBytes(t, n))}
				err := h.store.Put(t.Context(), key, r, size, "")
				if !errors.Is(err, errBroken) {
					t.Errorf("Put error = %v, want one wrapping %v", err, errBroken)
				}
				wantNotFound(t, h.store, key)
			})
		}
	}
	// A failed overwrite keeps the object it would have replaced.
	put(t, h.store, "fail/keep", []byte("kept"))
	if err := h.store.Put(t.Context(), "fail/keep", &failingReader{r: strings.NewReader("partial")}, -1, ""); err == nil {
		t.Error("Put from a failing reader succeeded")
	}
	if got := readAll(t, h.store, "fail/keep"); string(got) != "kept" {
		t.Errorf("after a failed overwrite read %q, want %q", got, "kept")
	}
	if names := h.list(t); !slices.Equal(names, []string{"fail/keep"}) {
		t.Errorf("store holds %q, want only [fail/keep]", names)
	}
}

func testCanceledContext(t *testing.T, h harness) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := h.store.Put(ctx, "canceled", strings.NewReader("x"), 1, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a canceled context: %v, want context.Canceled", err)
	}
	wantNotFound(t, h.store, "canceled")
}

func testInvalidKeys(t *testing.T, h harness) {
	ctx := t.Context()
	for _, key := range []string{
		"", "../x", "/abs", "a//b", "a/../b", "a b", "é", strings.Repeat("a", 600),
		"..", ".", "./a", "a/.", "a/", "a\\b", "a\x00b", "~put-1", "a?b", "a%2fb",
		strings.Repeat("s", maxSegmentLen+1),
	} {
		name := key
		if len(name) > 20 {
			name = name[:20] + "…"
		}
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			if err := h.store.Put(ctx, key, strings.NewReader("x"), 1, ""); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Put(%q) error = %v, want ErrInvalidKey", key, err)
			}
			if _, err := h.store.Open(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Open(%q) error = %v, want ErrInvalidKey", key, err)
			}
			if err := h.store.Delete(ctx, key); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Delete(%q) error = %v, want ErrInvalidKey", key, err)
			}
		})
	}
	if names := h.list(t); len(names) != 0 {
		t.Errorf("store holds %q after invalid puts, want nothing", names)
	}
	// The longest segments work, in a key near the longest.
	seg := strings.Repeat("k", maxSegmentLen)
	long := seg + "/" + seg
	put(t, h.store, long, []byte("ok"))
	if got := readAll(t, h.store, long); string(got) != "ok" {
		t.Errorf("read %q under the longest key, want %q", got, "ok")
	}
}

func testConcurrentPuts(t *testing.T, h harness) {
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			// Shared prefixes, so directory creation races too.
			key := fmt.Sprintf("cc/%02d/%d", i%3, i)
			errs[i] = h.store.Put(t.Context(), key, strings.NewReader(key), int64(len(key)), "text/plain")
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Put %d: %v", i, err)
		}
	}
	for i := range n {
		key := fmt.Sprintf("cc/%02d/%d", i%3, i)
		if got := readAll(t, h.store, key); string(got) != key {
			t.Errorf("read %q under %s, want the key itself", got, key)
		}
	}
}

func testServeContentRange(t *testing.T, h harness) {
	data := randomBytes(t, 1000)
	put(t, h.store, "serve/obj", data)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, err := h.store.Open(r.Context(), "serve/obj")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer obj.Close()
		// Set, so ServeContent does not read the start to sniff a type.
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", obj.ModTime(), obj)
	}))
	defer srv.Close()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Range", "bytes=100-199")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("status = %d, want 206; body %q", resp.StatusCode, body)
	}
	if got, want := resp.Header.Get("Content-Range"), "bytes 100-199/1000"; got != want {
		t.Errorf("Content-Range = %q, want %q", got, want)
	}
	if !bytes.Equal(body, data[100:200]) {
		t.Errorf("body is %d bytes, not bytes 100-199 of the object", len(body))
	}
}

// put stores data under key or fails the test.
func put(tb testing.TB, s Store, key string, data []byte) {
	tb.Helper()
	if err := s.Put(tb.Context(), key, bytes.NewReader(data), int64(len(data)), "application/octet-stream"); err != nil {
		tb.Fatalf("Put(%s): %v", key, err)
	}
}

// open opens key, closing the Object when the test ends.
func open(tb testing.TB, s Store, key string) Object {
	tb.Helper()
	obj, err := s.Open(tb.Context(), key)
	if err != nil {
		tb.Fatalf("Open(%s): %v", key, err)
	}
	tb.Cleanup(func() { obj.Close() })
	return obj
}

// readAll returns the bytes under key.
func readAll(tb testing.TB, s Store, key string) []byte {
	tb.Helper()
	b, err := io.ReadAll(open(tb, s, key))
	if err != nil {
		tb.Fatalf("read %s: %v", key, err)
	}
	return b
}

func wantNotFound(tb testing.TB, s Store, key string) {
	tb.Helper()
	obj, err := s.Open(tb.Context(), key)
	if err == nil {
		obj.Close()
		tb.Errorf("Open(%s) succeeded, want ErrNotFound", key)
	} else if !errors.Is(err, ErrNotFound) {
		tb.Errorf("Open(%s) error = %v, want ErrNotFound", key, err)
	}
}

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// onlyReader hides every method but Read, as a network body would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

var errBroken = errors.New("connection broken")

// failingReader yields r and then errBroken instead of EOF, like an upload
// whose client went away.
type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errBroken
	}
	return n, err
}
