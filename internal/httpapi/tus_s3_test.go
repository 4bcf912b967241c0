package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// S3Env names the environment variable with the --media URL of a real
// S3-compatible server to run the S3 upload tests on as well as the
// in-process fake, e.g.
// s3://plaza-test?endpoint=http://127.0.0.1:8333&region=us-east-1&path_style=true
// (plus access_key and secret_key if the server wants them). The bucket
// must exist; each test works under a prefix of its own below the URL's.
const S3Env = "PLAZA_TEST_S3"

// s3Backend is an S3 server to test against.
type s3Backend struct {
	name string
	// url returns a --media URL for a fresh prefix of the test's own.
	url func(tb testing.TB) string
}

// s3Backends returns the in-process fake, and the server PLAZA_TEST_S3
// names when set.
func s3Backends() []s3Backend {
	bs := []s3Backend{{name: "fake", url: fakeS3URL}}
	if u := os.Getenv(S3Env); u != "" {
		bs = append(bs, s3Backend{name: "real", url: func(tb testing.TB) string { return realS3URL(tb, u) }})
	}
	return bs
}

// fakeS3URL starts gofakes3 (which speaks multipart uploads) for the test
// and returns its URL.
func fakeS3URL(tb testing.TB) string { return fakeS3URLAt(tb, nil) }

// fakeS3URLAt is fakeS3URL with the fake's clock, which dates objects and
// parts, set by the test (nil: the real one).
func fakeS3URLAt(tb testing.TB, clock *s3Clock) string {
	tb.Helper()
	var backend *s3mem.Backend
	opts := []gofakes3.Option{gofakes3.WithLogger(gofakes3.DiscardLog())}
	if clock != nil {
		backend = s3mem.New(s3mem.WithTimeSource(clock))
		// Requests are signed with the real time.
		opts = append(opts, gofakes3.WithTimeSource(clock), gofakes3.WithTimeSkewLimit(0))
	} else {
		backend = s3mem.New()
	}
	if err := backend.CreateBucket("media"); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(gofakes3.New(backend, opts...).Server())
	// A PATCH interrupted midway drops its connection: expected, unlogged.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	tb.Cleanup(srv.Close)
	return "s3://media/node-media?endpoint=" + url.QueryEscape(srv.URL) + "&region=us-east-1&path_style=true&access_key=test&secret_key=test"
}

// realS3URL returns base with a fresh prefix below its own, whose objects
// are deleted when the test ends.
func realS3URL(tb testing.TB, base string) string {
	tb.Helper()
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: malformed URL", S3Env)
	}
	u.Path = "/" + strings.Trim(strings.Trim(u.Path, "/")+"/plazatest-"+strings.ToLower(rand.Text()), "/")
	bucket := openBucket(tb, u.String())
	tb.Cleanup(func() {
		client, name, prefix := bucket.Client()
		ctx := context.Background()
		p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &name, Prefix: &prefix})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				tb.Logf("cleaning up %s: %v", prefix, err)
				return
			}
			for _, o := range page.Contents {
				client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &name, Key: o.Key})
			}
		}
	})
	return u.String()
}

func openBucket(tb testing.TB, rawURL string) *blob.S3 {
	tb.Helper()
	st, err := blob.Open(context.Background(), rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	return st.(*blob.S3)
}

// eachS3 runs fn once per engine and S3 backend.
func eachS3(t *testing.T, fn func(t *testing.T, eng sqldb.Engine, s3URL string)) {
	t.Helper()
	for _, eng := range sqldbtest.Engines() {
		for _, b := range s3Backends() {
			t.Run(string(eng)+"/"+b.name, func(t *testing.T) { fn(t, eng, b.url(t)) })
		}
	}
}

// twoNodes returns two servers sharing one database and one bucket, each
// with its own S3 client and scratch directory, as two nodes behind a
// load balancer.
func twoNodes(t *testing.T, eng sqldb.Engine, s3URL string, opts ...envOption) (a, b *testEnv) {
	t.Helper()
	db := sqldbtest.Open(t, eng)
	node := func() *testEnv {
		return newEnv(t, append(opts, func(c *envConfig) {
			c.db = db
			c.bucket = openBucket(t, s3URL)
		})...)
	}
	return node(), node()
}

// uploadPath returns the path of an upload's URL, to send to any node.
func uploadPath(tb testing.TB, location string) string {
	tb.Helper()
	u, err := url.Parse(location)
	if err != nil || u.Path == "" {
		tb.Fatalf("bad Location %q", location)
	}
	return u.RequestURI()
}

func (e *testEnv) createS3Upload(token string, size int) string {
	e.t.Helper()
	res, err := e.tus("POST", "/api/v1/uploads", token, nil, map[string]string{
		"Upload-Length":   strconv.Itoa(size),
		"Upload-Metadata": "filetype " + base64.StdEncoding.EncodeToString([]byte("application/octet-stream")),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusCreated || loc == "" {
		e.t.Fatalf("create: got %d with Location %q, want 201 and a location", res.StatusCode, loc)
	}
	return uploadPath(e.t, loc)
}

// patch sends data at offset and returns the response, its body read.
func (e *testEnv) patch(path, token string, offset int, data []byte) (*http.Response, []byte) {
	e.t.Helper()
	res, err := e.tus("PATCH", path, token, bytes.NewReader(data), map[string]string{
		"Upload-Offset": strconv.Itoa(offset), "Content-Type": "application/offset+octet-stream",
	})
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, body
}

// offset returns HEAD's Upload-Offset, -1 for a status other than 200.
func (e *testEnv) offset(path, token string) int {
	e.t.Helper()
	res, err := e.tus("HEAD", path, token, nil, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return -1
	}
	n, err := strconv.Atoi(res.Header.Get("Upload-Offset"))
	if err != nil {
		e.t.Fatalf("HEAD: Upload-Offset %q", res.Header.Get("Upload-Offset"))
	}
	return n
}

// uploadObjects lists what the bucket holds under uploads/: objects and
// multipart uploads in progress.
func uploadObjects(tb testing.TB, e *testEnv) (objects, multiparts []string) {
	tb.Helper()
	u := e.api.uploads.s3
	ctx := context.Background()
	out, err := u.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &u.bucket, Prefix: aws.String(u.prefix)})
	if err != nil {
		tb.Fatal(err)
	}
	for _, o := range out.Contents {
		objects = append(objects, aws.ToString(o.Key))
	}
	mp, err := u.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &u.bucket, Prefix: aws.String(u.prefix)})
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range mp.Uploads {
		multiparts = append(multiparts, aws.ToString(m.Key))
	}
	return objects, multiparts
}

// scratchBytes returns how many bytes node e's tusd S3 store holds in its
// scratch directory.
func scratchBytes(tb testing.TB, e *testEnv) int64 {
	tb.Helper()
	entries, err := os.ReadDir(e.api.cfg.UploadsDir)
	if err != nil {
		tb.Fatal(err)
	}
	var n int64
	for _, de := range entries {
		if fi, err := de.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func lockRows(tb testing.TB, db *sqldb.DB) int {
	tb.Helper()
	var n int
	if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM upload_locks`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// An upload started on node A and cut off there goes on on node B, which
// finishes it; the media item is readable through A. The parts take both
// of the S3 store's paths: a tail under S3's 5 MiB minimum part kept
// aside, then joined to the next PATCH's bytes to make a part.
func TestResumableUploadAcrossNodes(t *testing.T) {
	eachS3(t, func(t *testing.T, eng sqldb.Engine, s3URL string) {
		a, b := twoNodes(t, eng, s3URL)
		u := a.register("walker")
		other := a.register("snoop")
		const size = 11 << 20
		data := make([]byte, size)
		_, _ = rand.Read(data)
		path := a.createS3Upload(u.token, size)
		if !strings.Contains(path, "+") {
			t.Errorf("upload path %q is not an S3 store's OBJECT+MULTIPART", path)
		}

		for _, r := range [][2]int{{0, 3 << 20}, {3 << 20, 6 << 20}} {
			if res, body := a.patch(path, u.token, r[0], data[r[0]:r[1]]); res.StatusCode != http.StatusNoContent {
				t.Fatalf("PATCH %d–%d on A: got %d %s, want 204", r[0], r[1], res.StatusCode, body)
			}
		}
		// Node B sees what A received; others see nothing.
		if n := b.offset(path, u.token); n != 6<<20 {
			t.Fatalf("HEAD on B: offset %d, want %d", n, 6<<20)
		}
		if n := b.offset(path, other.token); n != -1 {
			t.Errorf("another account's HEAD on B: offset %d, want a 404", n)
		}
		res, body := b.patch(path, u.token, 6<<20, data[6<<20:])
		id := res.Header.Get("Plaza-Media-Id")
		if res.StatusCode != http.StatusOK || id == "" {
			t.Fatalf("final PATCH on B: got %d %s (Plaza-Media-Id %q), want 200 with the media item", res.StatusCode, body, id)
		}
		got := a.do("GET", "/api/v1/media/"+id, u.token, nil)
		if got.status != http.StatusOK || sha256.Sum256(got.raw) != sha256.Sum256(data) {
			t.Errorf("download through A: got %d and %d bytes, want 200 and the %d bytes sent", got.status, len(got.raw), size)
		}
		if n := a.offset(path, u.token); n != -1 {
			t.Errorf("HEAD on A after completion: offset %d, want a 404", n)
		}
		if objs, mps := uploadObjects(t, a); len(objs) != 0 || len(mps) != 0 {
			t.Errorf("after completion the bucket keeps %q and multipart uploads %q, want nothing under uploads/", objs, mps)
		}
		if n := lockRows(t, a.db); n != 0 {
			t.Errorf("%d upload locks left, want 0", n)
		}
		if r, n := a.usage(t, u.token); r != 0 || n != 0 {
			t.Errorf("usage after completion: %v reserved, %v unfinished; want 0 and 0", r, n)
		}
	})
}

// Two PATCHes to one upload on two nodes at once: the one holding the lock
// is asked to stop and does (400 ERR_UPLOAD_INTERRUPTED), keeping what it
// received; the other then finds the offset moved (409). Neither corrupts
// the upload: it completes with exactly the bytes sent.
func TestResumableUploadConcurrentPatchesOnTwoNodes(t *testing.T) {
	eachS3(t, func(t *testing.T, eng sqldb.Engine, s3URL string) {
		a, b := twoNodes(t, eng, s3URL)
		u := a.register("racer")
		const size = 7 << 20
		data := make([]byte, size)
		_, _ = rand.Read(data)
		path := a.createS3Upload(u.token, size)
		uploadID := path[strings.LastIndex(path, "/")+1:]

		// A's PATCH sends 1 MiB and then stalls, holding the lock.
		pr, pw := io.Pipe()
		t.Cleanup(func() { pw.CloseWithError(errors.New("test over")) })
		go func() { pw.Write(data[:1<<20]) }()
		type result struct {
			status int
			err    error
		}
		aDone := make(chan result, 1)
		go func() {
			res, err := a.tus("PATCH", path, u.token, pr, map[string]string{
				"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
			})
			if err != nil {
				aDone <- result{err: err}
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			aDone <- result{status: res.StatusCode}
		}()
		waitFor(t, "A's PATCH to hold the lock", func() bool { h, _ := lockHolder(t, a.db, uploadID); return h != "" })
		// and to have received bytes, which it spools to its scratch
		// directory on their way to S3.
		waitFor(t, "A to receive bytes", func() bool { return scratchBytes(t, a) > 0 })

		resB, bodyB := b.patch(path, u.token, 0, data)
		// A's client is still sending: only B's request for the lock can
		// have ended A's PATCH.
		var resA result
		select {
		case resA = <-aDone:
		case <-time.After(30 * time.Second):
			t.Fatal("A's PATCH went on after B's: it was never asked to release its lock")
		}
		t.Logf("A: %d %v; B: %d %s", resA.status, resA.err, resB.StatusCode, bytes.TrimSpace(bodyB))
		if resA.err != nil || resA.status != http.StatusBadRequest {
			t.Errorf("the interrupted PATCH on A: got %d, %v; want 400 (ERR_UPLOAD_INTERRUPTED)", resA.status, resA.err)
		}
		// B wrote only once A had stopped and saved what it had, so B's
		// offset no longer matched.
		if resB.StatusCode != http.StatusConflict {
			t.Fatalf("B's PATCH: got %d %s, want 409 (ERR_MISMATCHED_OFFSET)", resB.StatusCode, bodyB)
		}
		n := b.offset(path, u.token)
		if n <= 0 || n > 1<<20 {
			t.Fatalf("after A's interrupted PATCH the upload has %d bytes, want 0 < n ≤ 1 MiB", n)
		}
		res, body := a.patch(path, u.token, n, data[n:])
		id := res.Header.Get("Plaza-Media-Id")
		if res.StatusCode != http.StatusOK || id == "" {
			t.Fatalf("PATCH of the rest on A: got %d %s, want 200", res.StatusCode, body)
		}
		got := b.do("GET", "/api/v1/media/"+id, u.token, nil)
		if got.status != http.StatusOK || sha256.Sum256(got.raw) != sha256.Sum256(data) {
			t.Errorf("download: got %d and %d bytes, want 200 and the %d bytes sent", got.status, len(got.raw), size)
		}
	})
}

// The pruner terminates an upload in S3 that received nothing for a day
// (aborting its multipart upload and deleting its objects) and gives its
// quota back; one written to within the day stays.
func TestResumableUploadPrunedFromS3(t *testing.T) {
	eachS3(t, func(t *testing.T, eng sqldb.Engine, s3URL string) {
		a, _ := twoNodes(t, eng, s3URL)
		u := a.register("leaver")
		const size = 9 << 20
		data := make([]byte, size)
		path := a.createS3Upload(u.token, size)
		// A whole part, then a tail kept aside.
		for _, r := range [][2]int{{0, 6 << 20}, {6 << 20, 7 << 20}} {
			if res, body := a.patch(path, u.token, r[0], data[r[0]:r[1]]); res.StatusCode != http.StatusNoContent {
				t.Fatalf("PATCH %d–%d: got %d %s, want 204", r[0], r[1], res.StatusCode, body)
			}
		}
		if objs, mps := uploadObjects(t, a); len(objs) != 2 || len(mps) != 1 {
			t.Fatalf("an upload in progress has objects %q and multipart uploads %q, want .info, .part and one multipart upload", objs, mps)
		}

		// A part a killed node left in its scratch directory.
		left := filepath.Join(a.api.cfg.UploadsDir, "tusd-s3-tmp-1234")
		if err := os.WriteFile(left, []byte("part"), 0o600); err != nil {
			t.Fatal(err)
		}

		// A multipart upload without .info, as a node killed while
		// creating an upload leaves it.
		orphan := orphanMultipart(t, a, "384509780243079168")

		a.api.pruneUploadsOnce(t.Context(), time.Now().Add(time.Hour))
		if _, mps := uploadObjects(t, a); !slices.Contains(mps, orphan) {
			t.Errorf("an hour on, multipart uploads %q, want the lost one (%s) kept", mps, orphan)
		}
		if _, err := os.Stat(left); err != nil {
			t.Errorf("a scratch file an hour old: %v, want it kept", err)
		}
		if n := a.offset(path, u.token); n != 7<<20 {
			t.Fatalf("HEAD after pruning an hour on: offset %d, want the upload kept with %d bytes", n, 7<<20)
		}

		a.api.pruneUploadsOnce(t.Context(), time.Now().Add(25*time.Hour))
		if n := a.offset(path, u.token); n != -1 {
			t.Errorf("HEAD after pruning a day on: offset %d, want a 404", n)
		}
		if objs, mps := uploadObjects(t, a); len(objs) != 0 || len(mps) != 0 {
			t.Errorf("after pruning the bucket keeps %q and multipart uploads %q, want nothing under uploads/", objs, mps)
		}
		if r, n := a.usage(t, u.token); r != 0 || n != 0 {
			t.Errorf("usage after pruning: %v reserved, %v unfinished; want 0 and 0", r, n)
		}
		if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a scratch file a day old: %v, want it removed", err)
		}
	})
}

// orphanMultipart begins a multipart upload to the key of upload object
// obj, and returns the key.
func orphanMultipart(tb testing.TB, e *testEnv, obj string) string {
	tb.Helper()
	u := e.api.uploads.s3
	key := u.prefix + obj
	if _, err := u.client.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: &u.bucket, Key: &key}); err != nil {
		tb.Fatal(err)
	}
	return key
}

// The pruner passes over an upload whose lock a request holds, without
// asking it to stop, and prunes it on a later run.
func TestResumableUploadPruneSkipsLockedUpload(t *testing.T) {
	eachS3(t, func(t *testing.T, eng sqldb.Engine, s3URL string) {
		a, _ := twoNodes(t, eng, s3URL)
		u := a.register("holder")
		path := a.createS3Upload(u.token, 1<<20)
		id := path[strings.LastIndex(path, "/")+1:]
		// A request on another node holds the lock.
		held := testLocker(a.db, nil).newLock(id)
		if err := held.Lock(t.Context(), func() {}); err != nil {
			t.Fatal(err)
		}
		a.api.pruneUploadsOnce(t.Context(), time.Now().Add(25*time.Hour))
		if releaseRequested(t, a.db, id) {
			t.Error("the pruner asked the request holding the upload's lock to stop")
		}
		if err := held.Unlock(); err != nil {
			t.Fatal(err)
		}
		if n := a.offset(path, u.token); n != 0 {
			t.Fatalf("HEAD after pruning a day on while locked: offset %d, want the upload kept", n)
		}
		a.api.pruneUploadsOnce(t.Context(), time.Now().Add(25*time.Hour))
		if n := a.offset(path, u.token); n != -1 {
			t.Errorf("HEAD after pruning a day on, unlocked: offset %d, want a 404", n)
		}
	})
}

// s3Clock is the fake S3 server's clock, moved by the test.
type s3Clock struct{ testClock }

func (c *s3Clock) Now() time.Time                  { return c.now() }
func (c *s3Clock) Since(t time.Time) time.Duration { return c.now().Sub(t) }

// An upload is abandoned when nothing was written to it for a day, not a
// day after it started: a whole part or a tail kept aside (.part) written
// since keeps it.
func TestResumableUploadPruneCountsLastWrite(t *testing.T) {
	start := time.Now()
	clock := &s3Clock{testClock{t: start}}
	a, _ := twoNodes(t, sqldb.SQLite, fakeS3URLAt(t, clock))
	u := a.register("slowpoke")
	data := make([]byte, 9<<20)
	partUp := a.createS3Upload(u.token, len(data))
	tailUp := a.createS3Upload(u.token, len(data))
	// Multipart uploads without .info: one begun with the others, one
	// begun later.
	oldOrphan := orphanMultipart(t, a, "384509780243079168")
	clock.advance(23 * time.Hour)
	newOrphan := orphanMultipart(t, a, "384509780243079169")
	if res, body := a.patch(partUp, u.token, 0, data[:6<<20]); res.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH of a part: got %d %s, want 204", res.StatusCode, body)
	}
	if res, body := a.patch(tailUp, u.token, 0, data[:1<<20]); res.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH of a tail: got %d %s, want 204", res.StatusCode, body)
	}

	a.api.pruneUploadsOnce(t.Context(), start.Add(25*time.Hour))
	if n := a.offset(partUp, u.token); n != 6<<20 {
		t.Errorf("upload last written to 2 h before pruning, with a part: offset %d, want it kept with %d bytes", n, 6<<20)
	}
	if n := a.offset(tailUp, u.token); n != 1<<20 {
		t.Errorf("upload last written to 2 h before pruning, with a tail: offset %d, want it kept with %d bytes", n, 1<<20)
	}
	// The uploads' own multipart uploads, begun 25 h before, stay: they
	// have .info.
	if _, mps := uploadObjects(t, a); len(mps) != 3 || slices.Contains(mps, oldOrphan) || !slices.Contains(mps, newOrphan) {
		t.Errorf("multipart uploads after pruning %q, want the two uploads' and %s, not %s", mps, newOrphan, oldOrphan)
	}

	a.api.pruneUploadsOnce(t.Context(), start.Add(48*time.Hour))
	for _, up := range []string{partUp, tailUp} {
		if n := a.offset(up, u.token); n != -1 {
			t.Errorf("upload last written to 25 h before pruning: offset %d, want a 404", n)
		}
	}
	if objs, mps := uploadObjects(t, a); len(objs) != 0 || len(mps) != 0 {
		t.Errorf("after pruning the bucket keeps %q and multipart uploads %q, want nothing under uploads/", objs, mps)
	}
}

// Only IDs of the shape the store makes reach it: nothing decoded from
// %2F or %5C becomes part of a file path or an S3 key.
func TestValidUploadID(t *testing.T) {
	file, bucket := &resumable{}, &resumable{s3: &s3Uploads{}}
	for _, c := range []struct {
		id           string
		file, bucket bool
	}{
		{"384509780243079168", true, false},
		{"384509780243079168+2~Xy_z.9-Q", false, true},
		{"384509780243079168+", false, false},
		{"384509780243079168+a/b", false, false},
		{"384509780243079168+a\\b", false, false},
		{"384509780243079168+a b", false, false},
		{"../384509780243079168+ab", false, false},
		{"x+abc", false, false},
		{"", false, false},
	} {
		if got := file.validUploadID(c.id); got != c.file {
			t.Errorf("filestore: validUploadID(%q) = %t, want %t", c.id, got, c.file)
		}
		if got := bucket.validUploadID(c.id); got != c.bucket {
			t.Errorf("S3: validUploadID(%q) = %t, want %t", c.id, got, c.bucket)
		}
	}
}
