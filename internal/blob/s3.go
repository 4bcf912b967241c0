package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

const (
	// defaultPartSize is the part size of multipart uploads, and so the
	// memory one Put of a stream of unknown size holds at a time. S3
	// wants at least 5 MiB for every part but the last.
	defaultPartSize = 8 << 20
	// maxParts is S3's limit on the parts of one upload.
	maxParts = 10000
	// maxSinglePut is S3's limit on one PutObject.
	maxSinglePut = 5 << 30
	// defaultChunkSize is how much one ranged GET of an Object asks for:
	// large enough that sequential reads cost few requests, small enough
	// that a seek away wastes little and no connection stays open long.
	defaultChunkSize = 4 << 20
)

// S3Config says where an S3 store is and how to reach it.
type S3Config struct {
	// Bucket is the bucket's name; it must exist.
	Bucket string
	// Endpoint is the base URL of an S3-compatible service, such as
	// "http://127.0.0.1:9000"; empty means AWS itself.
	Endpoint string
	// Region is the signing region; empty means the AWS config chain's,
	// or us-east-1 with an Endpoint (most self-hosted stores ignore it).
	Region string
	// AccessKey and SecretKey are static credentials; empty means the
	// standard AWS environment variables and config chain.
	AccessKey string
	SecretKey string
	// PathStyle addresses the bucket as ENDPOINT/BUCKET/KEY rather than
	// BUCKET.ENDPOINT/KEY, as most self-hosted stores need.
	PathStyle bool
	// Prefix is put before every key with a "/" between, so several
	// stores can share a bucket.
	Prefix string
}

// String describes the configuration without its secret, so that a
// configuration that ends up in a log or an error does not leak it.
func (c S3Config) String() string {
	secret := ""
	if c.SecretKey != "" {
		secret = "REDACTED"
	}
	return fmt.Sprintf("{Bucket:%s Endpoint:%s Region:%s AccessKey:%s SecretKey:%s PathStyle:%t Prefix:%s}",
		c.Bucket, c.Endpoint, c.Region, c.AccessKey, secret, c.PathStyle, c.Prefix)
}

// S3 is a Store of objects in an S3-compatible bucket, through the AWS SDK.
//
// Put sends a seekable body of known size in one PutObject, and anything
// else in parts of 8 MiB (one PutObject when it is smaller than a part);
// objects appear only when complete either way. Objects read lazily in
// ranged GETs of 4 MiB that all ask for the version seen at Open.
type S3 struct {
	client *s3.Client
	bucket string
	prefix string // "" or ending in "/"

	// Tests lower these to exercise multipart uploads and chunked reads
	// with small objects.
	partSize  int64
	chunkSize int64
}

var _ Store = (*S3)(nil)

// NewS3 returns a store on the bucket that cfg describes. It makes no
// request: a missing bucket or bad credentials show in the first Put.
// Probing with HeadBucket would need a permission (s3:ListBucket) that a
// least-privilege policy for media need not grant.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("blob: s3 store needs a bucket")
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		return nil, errors.New("blob: s3 store needs both an access key and a secret key, or neither")
	}
	if cfg.Endpoint != "" {
		// Caught here, since the SDK's error for "host:port" without a
		// scheme comes only with the first request and is obscure.
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("blob: s3 endpoint must be a URL such as http://HOST:PORT or https://HOST")
		}
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := checkKey(prefix); err != nil {
			return nil, fmt.Errorf("blob: s3 prefix: %w", err)
		}
		prefix += "/"
	}

	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	if cfg.Endpoint != "" {
		// Self-hosted stores often reject or mangle the newer default
		// checksums (CRC32 trailers on every upload); send and check
		// them only where the API requires them.
		opts = append(opts,
			config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("blob: load AWS config: %w", err)
	}
	if awsCfg.Region == "" && cfg.Endpoint != "" {
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = cfg.PathStyle
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return &S3{
		client:    client,
		bucket:    cfg.Bucket,
		prefix:    prefix,
		partSize:  defaultPartSize,
		chunkSize: defaultChunkSize,
	}, nil
}

// Client returns the store's SDK client, its bucket and its key prefix
// ("" or ending in "/"), for code that needs S3 itself rather than a
// Store: tusd's S3 store keeps resumable uploads as multipart uploads
// beside the media. Keys it writes under the prefix must not collide with
// the Store's own (media keys never start with "uploads/").
func (s *S3) Client() (client *s3.Client, bucket, prefix string) {
	return s.client, s.bucket, s.prefix
}

// objectKey returns the S3 key for a key that has passed checkKey.
func (s *S3) objectKey(key string) *string { return aws.String(s.prefix + key) }

// Put stores exactly size bytes from r under key (size -1: unknown).
//
// A seekable r (an upload spooled to a file) goes in one PutObject without
// buffering; over plain HTTP the SDK reads it twice, to sign its SHA-256
// and to send it.
// Anything else is read a part at a time: one PutObject if it ends within
// the first part, a multipart upload otherwise, aborted on any error. The
// SDK refuses an unseekable body over plain HTTP, and its upload manager is
// deprecated, so Put makes every body it sends seekable itself.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("blob: put: %w", err)
	}
	var err error
	if n, ok := seekableLen(r); ok && n <= maxSinglePut {
		if size >= 0 && n != size {
			err = fmt.Errorf("%w: reader has %d bytes, want %d", errSize, n, size)
		} else {
			err = s.putObject(ctx, key, r.(io.ReadSeeker), n, contentType)
		}
	} else {
		err = s.putStream(ctx, key, &sizeReader{r: ctxReader{ctx, r}, want: size}, size, contentType)
	}
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	return nil
}

// seekableLen returns how many bytes are left in r, if r can seek.
func seekableLen(r io.Reader) (int64, bool) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		return 0, false
	}
	// Some ReadSeekers (an *os.File on a pipe) fail to seek: stream them.
	cur, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, false
	}
	end, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, false
	}
	if _, err := rs.Seek(cur, io.SeekStart); err != nil {
		return 0, false
	}
	return end - cur, true
}

func (s *S3) putObject(ctx context.Context, key string, body io.ReadSeeker, n int64, contentType string) error {
	in := &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           s.objectKey(key),
		Body:          body,
		ContentLength: aws.Int64(n),
	}
	if contentType != "" {
		in.ContentType = &contentType
	}
	_, err := s.client.PutObject(ctx, in)
	return err
}

// putStream uploads r, of size bytes or -1, buffering one part at a time.
func (s *S3) putStream(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	partSize := s.partSize
	if size > partSize*maxParts {
		// Round up so the upload fits S3's part count.
		partSize = (size + maxParts - 1) / maxParts
	}
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, r, partSize)
	if err == io.EOF {
		return s.putObject(ctx, key, bytes.NewReader(buf.Bytes()), n, contentType)
	}
	if err != nil {
		return err
	}
	return s.putMultipart(ctx, key, r, &buf, partSize, contentType)
}

// putMultipart uploads first, a full part already read, and the rest of r
// as a multipart upload, which S3 shows under key only once completed.
func (s *S3) putMultipart(ctx context.Context, key string, r io.Reader, first *bytes.Buffer, partSize int64, contentType string) (err error) {
	in := &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: s.objectKey(key)}
	if contentType != "" {
		in.ContentType = &contentType
	}
	up, err := s.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return fmt.Errorf("create multipart upload: %w", err)
	}
	defer func() {
		if err == nil {
			return
		}
		// Abort even when ctx is what failed: an abandoned upload's
		// parts are stored (and billed) until a lifecycle rule ends
		// them.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, aerr := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: &s.bucket, Key: s.objectKey(key), UploadId: up.UploadId,
		}); aerr != nil {
			err = fmt.Errorf("%w (and abort multipart upload: %v)", err, aerr)
		}
	}()

	var parts []types.CompletedPart
	buf := first
	for num := int32(1); ; num++ {
		if num > maxParts {
			return fmt.Errorf("more than %d parts of %d bytes", maxParts, partSize)
		}
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:        &s.bucket,
			Key:           s.objectKey(key),
			UploadId:      up.UploadId,
			PartNumber:    aws.Int32(num),
			Body:          bytes.NewReader(buf.Bytes()),
			ContentLength: aws.Int64(int64(buf.Len())),
		})
		if err != nil {
			return fmt.Errorf("upload part %d: %w", num, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})

		buf.Reset()
		n, err := io.CopyN(buf, r, partSize)
		if err != nil && err != io.EOF {
			return err
		}
		if n == 0 {
			break
		}
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &s.bucket,
		Key:             s.objectKey(key),
		UploadId:        up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return fmt.Errorf("complete multipart upload: %w", err)
	}
	return nil
}

// Open looks the object up with HeadObject and returns an Object that
// fetches its bytes lazily. Reads use ctx: cancelling it ends them.
func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("blob: open: %w", err)
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.objectKey(key)})
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", key, s3Error(err))
	}
	return &s3Object{
		ctx:     ctx,
		s:       s,
		key:     key,
		size:    aws.ToInt64(head.ContentLength),
		modTime: aws.ToTime(head.LastModified),
		etag:    aws.ToString(head.ETag),
	}, nil
}

// Delete removes the object under key; S3 answers a delete of a missing key
// with success.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("blob: delete: %w", err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: s.objectKey(key)})
	if err != nil {
		if errors.Is(s3Error(err), ErrNotFound) {
			return nil
		}
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

// s3Error returns err, wrapping ErrNotFound too when it says that the key
// does not exist. A missing bucket is a configuration error, not a
// missing object, except that HEAD answers carry no body to tell them
// apart.
func s3Error(err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		case "NoSuchBucket":
			return err
		}
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() == http.StatusNotFound {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// s3Object reads an S3 object in ranged GETs from its current offset. Seek
// only moves the offset; the next Read opens a new range there.
type s3Object struct {
	// ctx is Open's: an Object is a stream opened under a context, like
	// sql.Rows, and io.Reader has no other way to take one.
	ctx     context.Context
	s       *S3
	key     string
	size    int64
	modTime time.Time
	etag    string

	off    int64         // next byte Read returns
	body   io.ReadCloser // open range [off, end), or nil
	end    int64
	closed bool
}

func (o *s3Object) Size() int64        { return o.size }
func (o *s3Object) ModTime() time.Time { return o.modTime }

func (o *s3Object) Read(p []byte) (int, error) {
	if o.closed {
		return 0, fmt.Errorf("blob: read %s: %w", o.key, fs.ErrClosed)
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if o.off >= o.size {
			return 0, io.EOF
		}
		if o.body == nil {
			if err := o.openRange(); err != nil {
				return 0, err
			}
		}
		// Never past the range: a store that ignored Range would
		// otherwise hand out bytes from the wrong offset.
		if left := o.end - o.off; int64(len(p)) > left {
			p = p[:left]
		}
		n, err := o.body.Read(p)
		o.off += int64(n)
		if o.off == o.end {
			o.closeBody()
			return n, nil
		}
		if err == io.EOF {
			o.closeBody()
			return n, fmt.Errorf("blob: read %s: range ended at %d, want %d: %w", o.key, o.off, o.end, io.ErrUnexpectedEOF)
		}
		if err != nil {
			// The next Read reopens at off, which retries.
			o.closeBody()
			return n, fmt.Errorf("blob: read %s: %w", o.key, err)
		}
		if n > 0 {
			return n, nil
		}
	}
}

// openRange starts a GET of the next chunk from off. If-Match pins it to the
// version Open saw, so an overwrite between chunks fails the read instead of
// splicing two objects together.
func (o *s3Object) openRange() error {
	end := min(o.off+o.s.chunkSize, o.size)
	in := &s3.GetObjectInput{
		Bucket: &o.s.bucket,
		Key:    o.s.objectKey(o.key),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", o.off, end-1)),
	}
	if o.etag != "" {
		in.IfMatch = &o.etag
	}
	out, err := o.s.client.GetObject(o.ctx, in)
	if err != nil {
		return fmt.Errorf("blob: read %s at %d: %w", o.key, o.off, s3Error(err))
	}
	// A 200 instead of 206 means the store ignored Range and sends from
	// byte 0; that is only right when reading from byte 0.
	if out.ContentRange == nil && o.off != 0 {
		out.Body.Close()
		return fmt.Errorf("blob: read %s at %d: store ignored the Range header", o.key, o.off)
	}
	o.body, o.end = out.Body, end
	return nil
}

func (o *s3Object) closeBody() {
	if o.body != nil {
		// Closing before the end of a range drops the connection rather
		// than draining up to a chunk: cheap, and rare (a seek away).
		o.body.Close()
		o.body = nil
	}
}

func (o *s3Object) Seek(offset int64, whence int) (int64, error) {
	if o.closed {
		return 0, fmt.Errorf("blob: seek %s: %w", o.key, fs.ErrClosed)
	}
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = o.off + offset
	case io.SeekEnd:
		abs = o.size + offset
	default:
		return 0, fmt.Errorf("blob: seek %s: invalid whence %d", o.key, whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("blob: seek %s: negative position %d", o.key, abs)
	}
	if abs != o.off {
		o.closeBody()
		o.off = abs
	}
	return abs, nil
}

func (o *s3Object) Close() error {
	o.closeBody()
	o.closed = true
	return nil
}
