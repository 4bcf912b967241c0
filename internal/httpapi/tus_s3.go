package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	tus "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/s3store"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/blob"
)

// With media in S3, resumable uploads live there too, under uploads/ beside
// the media, as tusd's S3 store keeps them: UPLOAD.info (the upload's JSON),
// a multipart upload to the key UPLOAD that receives each part of 5 MiB or
// more, and UPLOAD.part, the tail too small to be a part yet. Any node can
// continue any upload; dbLocker keeps two nodes from writing one at once.
// The upload's ID is tusd's "OBJECT+MULTIPART", OBJECT being the ID of its
// quota reservation.

// uploadsPrefix is the key prefix of resumable uploads below the media
// store's own prefix. Media keys start with two digits, exports with
// "exports/": no key of theirs starts with it.
const uploadsPrefix = "uploads/"

// s3Uploads is where resumable uploads are kept in S3.
type s3Uploads struct {
	client *s3.Client
	bucket string
	prefix string // ends in "/"
}

// s3PartBuffers bounds how many parts of one PATCH tusd's S3 store keeps
// waiting in temporary files, received but not yet being sent, so that a
// fast client on a slow store costs a bounded amount of scratch disk. It
// does not count the part being received (tusd writes it to a file of
// its own, so up to s3PartBuffers+1 parts wait) nor the parts being sent,
// which keep their files until S3 has them: at most 10 at once per node,
// the store's concurrency. Parts are 50 MiB.
const s3PartBuffers = 4

// newS3UploadStore returns tusd's S3 store on bucket, keeping the parts of a
// PATCH being sent in scratch, a node-local directory.
func newS3UploadStore(bucket *blob.S3, scratch string) (s3store.S3Store, *s3Uploads) {
	client, name, prefix := bucket.Client()
	up := &s3Uploads{client: client, bucket: name, prefix: prefix + uploadsPrefix}
	store := s3store.New(name, client)
	store.ObjectPrefix = up.prefix
	store.TemporaryDirectory = scratch
	store.MaxBufferedParts = s3PartBuffers
	return store, up
}

// s3Upload is what one listing tells of an upload in S3.
type s3Upload struct {
	hasInfo bool
	// last is the latest write seen among its objects: .info, .part and,
	// once completed, the upload itself. Parts are not objects until
	// completion: they are looked at separately (lastPart).
	last time.Time
}

// list returns the uploads under the prefix by object ID.
func (u *s3Uploads) list(ctx context.Context) (map[string]*s3Upload, error) {
	ups := map[string]*s3Upload{}
	p := s3.NewListObjectsV2Paginator(u.client, &s3.ListObjectsV2Input{Bucket: &u.bucket, Prefix: aws.String(u.prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list resumable uploads: %w", err)
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), u.prefix)
			id, suffix, _ := strings.Cut(name, ".")
			if id == "" || strings.Contains(id, "/") {
				continue
			}
			up := ups[id]
			if up == nil {
				up = &s3Upload{}
				ups[id] = up
			}
			if suffix == "info" {
				up.hasInfo = true
			}
			if t := aws.ToTime(o.LastModified); t.After(up.last) {
				up.last = t
			}
		}
	}
	return ups, nil
}

// info reads the .info object of the upload with object ID obj.
func (u *s3Uploads) info(ctx context.Context, obj string) (tus.FileInfo, error) {
	out, err := u.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &u.bucket, Key: aws.String(u.prefix + obj + ".info")})
	if err != nil {
		return tus.FileInfo{}, err
	}
	defer out.Body.Close()
	var fi tus.FileInfo
	if err := json.NewDecoder(out.Body).Decode(&fi); err != nil {
		return tus.FileInfo{}, fmt.Errorf("upload %s: bad info: %w", obj, err)
	}
	return fi, nil
}

// lastPart returns when the latest part of the upload id arrived, zero
// without parts; gone reports that S3 has no such multipart upload (it was
// completed or aborted).
func (u *s3Uploads) lastPart(ctx context.Context, id string) (last time.Time, gone bool, err error) {
	obj, multipart, ok := strings.Cut(id, "+")
	if !ok {
		return time.Time{}, true, nil
	}
	p := s3.NewListPartsPaginator(u.client, &s3.ListPartsInput{
		Bucket: &u.bucket, Key: aws.String(u.prefix + obj), UploadId: aws.String(multipart),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			var apiErr smithy.APIError
			if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NoSuchUpload" || apiErr.ErrorCode() == "NoSuchKey") {
				return time.Time{}, true, nil
			}
			return time.Time{}, false, err
		}
		for _, part := range page.Parts {
			if t := aws.ToTime(part.LastModified); t.After(last) {
				last = t
			}
		}
	}
	return last, false, nil
}

// deleteOrphan removes the objects of an upload without .info (a
// termination that failed halfway); its multipart upload, if any is left,
// is aborted by abortOrphanMultiparts.
func (u *s3Uploads) deleteOrphan(ctx context.Context, obj string) error {
	for _, key := range []string{u.prefix + obj + ".part", u.prefix + obj} {
		if _, err := u.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &u.bucket, Key: aws.String(key)}); err != nil {
			return err
		}
	}
	return nil
}

// Bounds on one pruning run's sweep of multipart uploads: it lists at most
// this many pages (of up to 1,000) and aborts at most this many; the next
// run goes on.
const (
	orphanMultipartPages  = 20
	orphanMultipartAborts = 1000
)

// abortOrphanMultiparts aborts the multipart uploads under the prefix begun
// before cutoff whose upload has no .info object in ups, the listing of
// the objects taken before: one a node created and then died before
// writing .info, or one whose abort failed when its objects were deleted.
// No object tells of them, yet S3 keeps (and bills) their parts until
// they are aborted. A multipart upload a day old cannot be an upload
// being created, which writes .info right after.
func (u *s3Uploads) abortOrphanMultiparts(ctx context.Context, ups map[string]*s3Upload, cutoff time.Time) (aborted int, err error) {
	p := s3.NewListMultipartUploadsPaginator(u.client, &s3.ListMultipartUploadsInput{Bucket: &u.bucket, Prefix: aws.String(u.prefix)})
	var failed error
	for pages := 0; pages < orphanMultipartPages && p.HasMorePages(); pages++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			return aborted, fmt.Errorf("list multipart uploads: %w", err)
		}
		for _, m := range out.Uploads {
			obj := strings.TrimPrefix(aws.ToString(m.Key), u.prefix)
			if obj == "" || strings.ContainsAny(obj, "/.") || !aws.ToTime(m.Initiated).Before(cutoff) {
				continue
			}
			if up := ups[obj]; up != nil && up.hasInfo {
				continue
			}
			_, err := u.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &u.bucket, Key: m.Key, UploadId: m.UploadId})
			var apiErr smithy.APIError
			if err != nil && !(errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchUpload") {
				failed = fmt.Errorf("abort multipart upload %s: %w", obj, err)
				continue
			}
			aborted++
			if aborted >= orphanMultipartAborts {
				return aborted, failed
			}
		}
	}
	return aborted, failed
}

// pruneS3Uploads terminates the uploads in S3 that received nothing for
// maxAge, through the store (which aborts the multipart upload and
// deletes the objects), and returns the IDs of their reservations.
//
// An upload's last activity is the latest of its objects' and parts'
// modification times, as S3 records them: every PATCH writes a part or
// the .part tail. Each upload is locked while it is judged and removed, so
// a client resuming it at that moment either waits and finds it gone or
// keeps it alive.
func (s *Server) pruneS3Uploads(ctx context.Context, maxAge time.Duration, now time.Time) (removed []plaza.ID, err error) {
	u := s.uploads.s3
	ups, err := u.list(ctx)
	if err != nil {
		return nil, err
	}
	cutoff := now.Add(-maxAge)
	for obj, up := range ups {
		if up.last.After(cutoff) {
			continue
		}
		if !up.hasInfo {
			if err := u.deleteOrphan(ctx, obj); err != nil {
				s.log.Warn("could not delete what is left of a resumable upload", "upload", obj, "err", err)
			}
			continue
		}
		fi, err := u.info(ctx, obj)
		if err != nil {
			s.log.Warn("could not read an abandoned resumable upload", "upload", obj, "err", err)
			continue
		}
		ok, err := s.pruneS3Upload(ctx, fi.ID, cutoff)
		if err != nil {
			s.log.Warn("could not remove an abandoned resumable upload", "upload", fi.ID, "err", err)
			continue
		}
		if !ok {
			continue
		}
		if id, err := plaza.ParseID("upload", obj); err == nil {
			removed = append(removed, id)
		}
	}
	if n, err := u.abortOrphanMultiparts(ctx, ups, cutoff); err != nil {
		s.log.Warn("could not abort the multipart uploads of lost resumable uploads", "aborted", n, "err", err)
	} else if n > 0 {
		s.log.Info("aborted the multipart uploads of lost resumable uploads", "aborted", n)
	}
	return removed, nil
}

// pruneS3Upload terminates upload id, under its lock, if no part of it
// arrived after cutoff. It reports whether it did.
func (s *Server) pruneS3Upload(ctx context.Context, id string, cutoff time.Time) (bool, error) {
	// A request holding the lock shows the upload is in use: pass it
	// over this time rather than interrupt it.
	lock := s.uploads.locks.newLock(id)
	got, err := lock.TryLock(ctx)
	if err != nil || !got {
		return false, err
	}
	defer lock.Unlock()
	last, _, err := s.uploads.s3.lastPart(ctx, id)
	if err != nil {
		return false, err
	}
	if last.After(cutoff) {
		return false, nil
	}
	up, err := s.uploads.store.GetUpload(ctx, id)
	if err != nil {
		return false, err
	}
	if err := s.uploads.store.AsTerminatableUpload(up).Terminate(ctx); err != nil {
		return false, err
	}
	return true, nil
}
