package blob

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenURL(t *testing.T) {
	f := newFakeS3(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		url  string
	}{
		{"file", "file:" + dir},
		{"file-relative", "file:" + relPath(t, dir)},
		{"file-slashes", "file://" + dir},
		{"s3", "s3://" + testBucket + "?endpoint=" + url.QueryEscape(f.URL) +
			"&region=us-east-1&path_style=true&access_key=test-access&secret_key=test-secret"},
		{"s3-prefix", "s3://" + testBucket + "/pre?endpoint=" + url.QueryEscape(f.URL) +
			"&region=us-east-1&path_style=1&access_key=test-access&secret_key=test-secret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(t.Context(), c.url)
			if err != nil {
				t.Fatalf("Open(%s): %v", c.url, err)
			}
			key := "url/" + c.name
			put(t, s, key, []byte(c.name))
			if got := readAll(t, s, key); string(got) != c.name {
				t.Errorf("read %q, want %q", got, c.name)
			}
		})
	}
	if got := diskFiles(t, dir); len(got) != 3 {
		t.Errorf("files under %s = %q, want the three file: URLs' objects", dir, got)
	}
}

// relPath returns dir relative to the working directory.
func relPath(tb testing.TB, dir string) string {
	tb.Helper()
	wd, err := filepath.Abs(".")
	if err != nil {
		tb.Fatal(err)
	}
	rel, err := filepath.Rel(wd, dir)
	if err != nil {
		tb.Fatal(err)
	}
	return rel
}

func TestOpenBadURL(t *testing.T) {
	const secret = "s3cr3t-VALUE"
	for _, c := range []struct {
		url  string
		want string // in the error
	}{
		{"", `"file:DIR" or "s3://BUCKET`},
		{"/var/media", `"file:DIR" or "s3://BUCKET`},
		{"ftp://host/dir", `"file:DIR" or "s3://BUCKET`},
		{"S3://b", `"file:DIR" or "s3://BUCKET`},
		{"file:", "without a directory"},
		{"file://host/dir", "bad file URL"},
		{"s3://", "without a bucket"},
		{"s3://?endpoint=http://x", "without a bucket"},
		{"s3://b?pathstyle=true&secret_key=" + secret, `unknown s3 URL parameter "pathstyle"`},
		{"s3://b?path_style=maybe", "path_style"},
		{"s3://b?region=a&region=b", `"region" given 2 times`},
		{"s3://b?access_key=AKID", "both an access key and a secret key"},
		{"s3://b?secret_key=" + secret, "both an access key and a secret key"},
		{"s3://b?secret_key=" + secret + "%zz", "malformed s3 URL query"},
		{"s3://b\x7f?secret_key=" + secret, "malformed s3 URL"},
		{"s3://AKID:" + secret + "@b", "user info"},
		{"s3://b?endpoint=127.0.0.1:9000&access_key=a&secret_key=" + secret, "endpoint must be a URL"},
		{"s3://b/../x?access_key=a&secret_key=" + secret, "s3 prefix"},
	} {
		t.Run(c.url, func(t *testing.T) {
			_, err := Open(t.Context(), c.url)
			if err == nil {
				t.Fatalf("Open(%q) succeeded, want an error", c.url)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Open(%q) error = %q, want it to contain %q", c.url, err, c.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("Open(%q) error %q shows the secret", c.url, err)
			}
		})
	}
}
