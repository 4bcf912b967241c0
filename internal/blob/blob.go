// Package blob stores media bytes: on local disk (Disk) for one node and in
// S3-compatible object storage (S3) for many. Both sit behind the small Store
// interface and are picked by URL with Open.
//
// A blob is only bytes under a key; what they are (type, owner, who may see
// them) is recorded by the media package in the database.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Store keeps media bytes under keys such as "ab/cd/384509780243079168".
//
// Keys are at most 512 bytes of [A-Za-z0-9/_.-], without "..", a leading
// "/", empty or "." path segments, or segments over 255 bytes. Every method
// rejects other keys before touching storage, so a key can never name
// anything outside the store.
//
// A Store is safe for concurrent use; an Object it returns is not.
type Store interface {
	// Put stores exactly size bytes from r under key (size -1: unknown).
	// r yielding fewer or more bytes than a known size is an error. Put
	// never leaves a partial object visible under key: when r or the
	// write fails midway, key keeps its previous object or stays missing.
	// contentType is stored as metadata where the backend has a place
	// for it.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error

	// Open returns the object under key for reading with random access,
	// as http.ServeContent needs for Range requests. The error wraps
	// ErrNotFound when there is no such object. The caller closes the
	// Object.
	Open(ctx context.Context, key string) (Object, error)

	// Delete removes the object under key; deleting a missing key is not
	// an error.
	Delete(ctx context.Context, key string) error
}

// Object is an open object. Size and ModTime describe it as it was when it
// was opened.
type Object interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// ErrNotFound is wrapped by the error that Open returns for a missing key.
var ErrNotFound = errors.New("blob: not found")

// MaxKeyLen is the longest key a Store accepts, in bytes.
const MaxKeyLen = 512

// maxSegmentLen is the longest path segment of a key, in bytes: the longest
// file name most file systems take, so that Disk and S3 accept the same keys.
const maxSegmentLen = 255

// urlForms names the accepted URL forms in errors, so an operator who
// mistypes --media sees what to write instead.
const urlForms = `want "file:DIR" or "s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION&path_style=true"`

// Open opens the store that rawURL names:
//
//	file:DIR                    files under DIR (created if missing)
//	s3://BUCKET[/PREFIX]?QUERY  an S3-compatible bucket
//
// The S3 query takes endpoint (e.g. http://127.0.0.1:9000; leave it out for
// AWS itself), region, path_style (true for most self-hosted stores),
// access_key and secret_key. Without access_key and secret_key, credentials
// come from the standard AWS environment variables and config chain; prefer
// that outside tests, since a URL tends to end up in process listings and
// shell history. Errors never repeat the URL, which may carry the secret.
func Open(ctx context.Context, rawURL string) (Store, error) {
	switch {
	case strings.HasPrefix(rawURL, "file:"):
		dir, err := fileURLDir(strings.TrimPrefix(rawURL, "file:"))
		if err != nil {
			return nil, err
		}
		return NewDisk(dir)
	case strings.HasPrefix(rawURL, "s3://"):
		cfg, err := parseS3URL(rawURL)
		if err != nil {
			return nil, err
		}
		return NewS3(ctx, cfg)
	default:
		return nil, fmt.Errorf("blob: unsupported media URL: %s", urlForms)
	}
}

// fileURLDir returns the directory of a "file:" URL without its scheme:
// "DIR" as given, or "///abs/dir" (file:///abs/dir) as an absolute path.
func fileURLDir(rest string) (string, error) {
	if strings.HasPrefix(rest, "//") {
		u, err := url.Parse("file:" + rest)
		if err != nil || (u.Host != "" && u.Host != "localhost") || u.Path == "" {
			return "", fmt.Errorf("blob: bad file URL: %s", urlForms)
		}
		return u.Path, nil
	}
	if rest == "" {
		return "", fmt.Errorf("blob: file URL without a directory: %s", urlForms)
	}
	return rest, nil
}

// parseS3URL turns "s3://bucket/prefix?endpoint=…" into an S3Config.
// Unknown query parameters are errors so that a typo (pathstyle=true) does
// not silently fall back to a default.
func parseS3URL(rawURL string) (S3Config, error) {
	// url.Error repeats the whole URL, secret included: never wrap it.
	u, err := url.Parse(rawURL)
	if err != nil {
		return S3Config{}, fmt.Errorf("blob: malformed s3 URL: %s", urlForms)
	}
	if u.User != nil {
		return S3Config{}, fmt.Errorf("blob: s3 URL must not carry user info; use access_key and secret_key: %s", urlForms)
	}
	cfg := S3Config{
		Bucket: u.Host,
		Prefix: strings.Trim(u.Path, "/"),
	}
	if cfg.Bucket == "" {
		return S3Config{}, fmt.Errorf("blob: s3 URL without a bucket: %s", urlForms)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return S3Config{}, fmt.Errorf("blob: malformed s3 URL query: %s", urlForms)
	}
	for name, values := range q {
		if len(values) != 1 {
			return S3Config{}, fmt.Errorf("blob: s3 URL parameter %q given %d times", name, len(values))
		}
		v := values[0]
		switch name {
		case "endpoint":
			cfg.Endpoint = v
		case "region":
			cfg.Region = v
		case "path_style":
			switch v {
			case "true", "1":
				cfg.PathStyle = true
			case "false", "0":
				cfg.PathStyle = false
			default:
				return S3Config{}, fmt.Errorf("blob: s3 URL parameter path_style=%q: want true or false", v)
			}
		case "access_key":
			cfg.AccessKey = v
		case "secret_key":
			cfg.SecretKey = v
		default:
			return S3Config{}, fmt.Errorf("blob: unknown s3 URL parameter %q (known: endpoint, region, path_style, access_key, secret_key)", name)
		}
	}
	return cfg, nil
}

// ErrInvalidKey is wrapped by the error of any Store method given a key
// that breaks the key rules.
var ErrInvalidKey = errors.New("invalid key")

// checkKey reports whether key is one a Store accepts. The rules keep keys
// portable across file systems and S3, and make path traversal impossible:
// no "..", no absolute paths, no empty or "." segments, no characters that a
// file system or URL would treat specially.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes, longer than %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '/' || c == '_' || c == '.' || c == '-'
		if !ok {
			return fmt.Errorf("%w %q: byte %#x at %d is not one of [A-Za-z0-9/_.-]", ErrInvalidKey, key, c, i)
		}
	}
	if strings.Contains(key, "..") {
		return fmt.Errorf("%w %q: contains \"..\"", ErrInvalidKey, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." {
			return fmt.Errorf("%w %q: empty or \".\" path segment", ErrInvalidKey, key)
		}
		if len(seg) > maxSegmentLen {
			return fmt.Errorf("%w: path segment of %d bytes, longer than %d", ErrInvalidKey, len(seg), maxSegmentLen)
		}
	}
	return nil
}

// ctxReader stops a copy when its context ends, for sources (a slow client's
// upload) that do not watch the context themselves.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// errSize is wrapped by Put's error when r yields a different number of
// bytes than the size it was given.
var errSize = errors.New("size mismatch")

// sizeReader reads r to its end and fails when it yields other than want
// bytes (want -1: any number), so Put stores exactly what the caller said.
type sizeReader struct {
	r    io.Reader
	want int64
	n    int64
}

func (s *sizeReader) Read(p []byte) (int, error) {
	if s.want >= 0 {
		// Ask for at most one byte past want: enough to notice extra
		// bytes without consuming much of them.
		left := max(s.want-s.n+1, 1)
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.want >= 0 && s.n > s.want {
		return n, fmt.Errorf("%w: reader has more than %d bytes", errSize, s.want)
	}
	if err == io.EOF && s.want >= 0 && s.n < s.want {
		return n, fmt.Errorf("%w: reader ended after %d of %d bytes", errSize, s.n, s.want)
	}
	return n, err
}
