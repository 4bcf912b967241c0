package blob

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// testBucket is the fake's bucket; S3 wants names of 3 or more characters.
const testBucket = "media"

// fakeS3 is an in-memory S3 server that records the requests it gets, so
// tests can count GETs and see multipart uploads.
type fakeS3 struct {
	URL   string
	conns atomic.Int64 // connections accepted

	mu   sync.Mutex
	reqs []fakeRequest
}

// fakeRequest is what fakeS3 records of a request.
type fakeRequest struct {
	method string
	query  url.Values
	ranged bool
}

func newFakeS3(tb testing.TB) *fakeS3 {
	tb.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(testBucket); err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
	f := &fakeS3{}
	handler := gofakes3.New(backend).Server()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := fakeRequest{method: r.Method, query: r.URL.Query(), ranged: r.Header.Get("Range") != ""}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		f.mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	// An Object that seeks away mid-range drops its connection, and the
	// fake then logs a superfluous WriteHeader: expected, so unlogged.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			f.conns.Add(1)
		}
	}
	srv.Start()
	tb.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// count returns how many requests so far match.
func (f *fakeS3) count(match func(fakeRequest) bool) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.reqs {
		if match(r) {
			n++
		}
	}
	return n
}

func isRangedGet(r fakeRequest) bool { return r.method == http.MethodGet && r.ranged }

func isCreateMultipart(r fakeRequest) bool {
	return r.method == http.MethodPost && r.query.Has("uploads")
}

func isUploadPart(r fakeRequest) bool {
	return r.method == http.MethodPut && r.query.Has("partNumber")
}

func (f *fakeS3) config() S3Config {
	return S3Config{
		Bucket:    testBucket,
		Endpoint:  f.URL,
		Region:    "us-east-1",
		AccessKey: "test-access",
		SecretKey: "test-secret",
		PathStyle: true,
	}
}

func newTestS3(tb testing.TB, cfg S3Config) *S3 {
	tb.Helper()
	s, err := NewS3(tb.Context(), cfg)
	if err != nil {
		tb.Fatalf("NewS3: %v", err)
	}
	return s
}

func newS3Harness(tb testing.TB) harness {
	tb.Helper()
	s := newTestS3(tb, newFakeS3(tb).config())
	// S3's smallest part, so the suite's 6 and 7 MiB streams go as
	// multipart uploads.
	s.partSize = 5 << 20
	return harness{store: s, list: func(tb testing.TB) []string { return bucketNames(tb, s) }}
}

// bucketNames lists the bucket's objects and unfinished multipart uploads.
func bucketNames(tb testing.TB, s *S3) []string {
	tb.Helper()
	ctx := tb.Context()
	var names []string
	objs, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &s.bucket})
	if err != nil {
		tb.Fatalf("list objects: %v", err)
	}
	for _, o := range objs.Contents {
		names = append(names, *o.Key)
	}
	ups, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &s.bucket})
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchUpload":
		// gofakes3 answers so for a bucket that never had an upload.
	case err != nil:
		tb.Fatalf("list multipart uploads: %v", err)
	default:
		for _, u := range ups.Uploads {
			names = append(names, "upload:"+*u.Key)
		}
	}
	slices.Sort(names)
	return names
}

func TestS3SequentialReadsInChunks(t *testing.T) {
	f := newFakeS3(t)
	s := newTestS3(t, f.config())
	data := randomBytes(t, 6<<20)
	put(t, s, "seq", data)

	obj := open(t, s, "seq")
	got := new(bytes.Buffer)
	// Small reads, as io.Copy makes: they must not each cost a request.
	if _, err := io.CopyBuffer(got, onlyReader{obj}, make([]byte, 32<<10)); err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatal("read bytes differ from those put")
	}
	if got, want := f.count(isRangedGet), 2; got != want {
		t.Errorf("ranged GETs for 6 MiB = %d, want %d (4 MiB chunks)", got, want)
	}
	// Each range is read to its end, so its connection goes back to the
	// pool: one connection for the put, the head and both GETs.
	if got := f.conns.Load(); got != 1 {
		t.Errorf("connections = %d, want 1", got)
	}
}

func TestS3SeekOpensNoRequest(t *testing.T) {
	f := newFakeS3(t)
	s := newTestS3(t, f.config())
	put(t, s, "k", randomBytes(t, 1000))
	obj := open(t, s, "k")
	// ServeContent seeks to the end and back before reading.
	for _, off := range []int64{0, 500, 999} {
		if _, err := obj.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := obj.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if got := f.count(isRangedGet); got != 0 {
		t.Errorf("GETs after seeks only = %d, want 0", got)
	}
}

func TestS3PutPaths(t *testing.T) {
	data := randomBytes(t, 11<<20)
	for _, c := range []struct {
		name      string
		r         func() io.Reader
		size      int64
		multipart bool
	}{
		// A seekable body goes whole, however large.
		{"seekable", func() io.Reader { return bytes.NewReader(data) }, int64(len(data)), false},
		{"stream", func() io.Reader { return onlyReader{bytes.NewReader(data)} }, -1, true},
		{"small-stream", func() io.Reader { return onlyReader{bytes.NewReader(data[:1000])} }, -1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeS3(t)
			s := newTestS3(t, f.config())
			s.partSize = 5 << 20
			if err := s.Put(t.Context(), "k", c.r(), c.size, "video/mp4"); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if got, want := f.count(isCreateMultipart) == 1, c.multipart; got != want {
				t.Errorf("multipart upload = %t, want %t", got, want)
			}
			if c.multipart {
				// 11 MiB in 5 MiB parts.
				if got := f.count(isUploadPart); got != 3 {
					t.Errorf("parts uploaded = %d, want 3", got)
				}
			}
			head, err := s.client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.objectKey("k")})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if got := *head.ContentType; got != "video/mp4" {
				t.Errorf("Content-Type = %q, want video/mp4", got)
			}
		})
	}
}

func TestS3Prefix(t *testing.T) {
	f := newFakeS3(t)
	cfg := f.config()
	cfg.Prefix = "/plaza/media/"
	s := newTestS3(t, cfg)
	put(t, s, "ab/1", []byte("x"))
	if got, want := bucketNames(t, s), []string{"plaza/media/ab/1"}; !slices.Equal(got, want) {
		t.Errorf("bucket holds %q, want %q", got, want)
	}
	if got := readAll(t, s, "ab/1"); string(got) != "x" {
		t.Errorf("read %q, want %q", got, "x")
	}

	cfg.Prefix = "../up"
	if _, err := NewS3(t.Context(), cfg); err == nil {
		t.Error("NewS3 with prefix ../up succeeded")
	}
}

func TestS3MissingBucket(t *testing.T) {
	f := newFakeS3(t)
	cfg := f.config()
	cfg.Bucket = "nobucket"
	s := newTestS3(t, cfg)
	// A missing bucket is a configuration error, which must not pass for
	// a missing object on Put or Delete.
	if err := s.Put(t.Context(), "k", strings.NewReader("x"), 1, ""); err == nil {
		t.Error("Put into a missing bucket succeeded")
	}
	if err := s.Delete(t.Context(), "k"); err == nil {
		t.Error("Delete in a missing bucket succeeded")
	}
}

func TestS3ConfigHidesSecret(t *testing.T) {
	cfg := S3Config{Bucket: "b", AccessKey: "AKID", SecretKey: "hunter2-secret"}
	for _, s := range []string{cfg.String(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", &cfg)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("formatted config %q shows the secret", s)
		}
	}
	if _, err := NewS3(t.Context(), S3Config{Bucket: "b", AccessKey: "AKID"}); err == nil {
		t.Error("NewS3 with an access key and no secret succeeded")
	}
	if _, err := NewS3(t.Context(), S3Config{}); err == nil {
		t.Error("NewS3 without a bucket succeeded")
	}
}
