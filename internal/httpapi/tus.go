package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/filelocker"
	"github.com/tus/tusd/v2/pkg/filestore"
	tus "github.com/tus/tusd/v2/pkg/handler"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Resumable uploads speak tus 1.0 (tus.io) through tusd's handler: a
// video cut off at 80 % on a train continues from there. The parts arrive
// in DATA/uploads, or with media in S3 in the bucket (see tus_s3.go), where
// any node can continue them; when the last byte is in, the file goes
// through the same checks as a single-request upload and becomes a media
// item, whose JSON is the final PATCH's response (and its ID the
// Plaza-Media-Id header).
//
// tusd knows nothing of accounts: each upload records its owner in its
// metadata at creation, and every later request is checked against it.

const ownerKey = "plaza_owner"

// uploadStore is what Plaza asks of a tusd store: tusd's filestore and S3
// store both have it.
type uploadStore interface {
	tus.DataStore
	tus.TerminaterDataStore
}

type resumable struct {
	store   uploadStore
	handler *tus.UnroutedHandler
	// s3 and locks are set when uploads are kept in S3.
	s3    *s3Uploads
	locks *dbLocker
}

// tusLockWait is how long a request waits for its upload's lock, tusd's
// default: long enough for a dead node's lock to be taken over (see
// dbLocker).
const tusLockWait = 20 * time.Second

// newResumable keeps uploads in dir, or in bucket if not nil, using dir
// only for the parts of a PATCH on their way to S3.
func (s *Server) newResumable(dir string, bucket *blob.S3) (*resumable, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("uploads directory: %w", err)
	}
	r := &resumable{}
	composer := tus.NewStoreComposer()
	if bucket != nil {
		store, up := newS3UploadStore(bucket, dir)
		store.UseIn(composer)
		r.store, r.s3 = store, up
		r.locks = newDBLocker(s.db, s.log)
		r.locks.UseIn(composer)
	} else {
		store := filestore.New(dir)
		store.UseIn(composer)
		filelocker.New(dir).UseIn(composer)
		r.store = store
	}
	h, err := tus.NewUnroutedHandler(tus.Config{
		StoreComposer:              composer,
		BasePath:                   "/api/v1/uploads/",
		MaxSize:                    s.media.Config().MaxUpload(),
		DisableDownload:            true,
		DisableConcatenation:       true,
		Cors:                       &tus.CorsConfig{Disable: true},
		Logger:                     tusLogger(s.log),
		AcquireLockTimeout:         tusLockWait,
		PreUploadCreateCallback:    s.tusCreate,
		PreFinishResponseCallback:  s.tusFinish,
		PreUploadTerminateCallback: s.tusTerminate,
	})
	if err != nil {
		return nil, err
	}
	r.handler = h
	return r, nil
}

// tusError turns a Plaza error into tusd's, keeping the status and code.
func (s *Server) tusError(err error) error {
	if sqldb.IsDiskFull(err) {
		s.storage.markFull()
		s.log.Error("storage full", "route", "uploads", "err", err)
		err = sqldb.ErrDiskFull
	}
	e := plaza.AsError(err)
	if e == nil {
		return err
	}
	status := statusOf[e.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	return tus.NewError(e.Code, e.Message, status)
}

func (s *Server) tusCreate(hook tus.HookEvent) (tus.HTTPResponse, tus.FileInfoChanges, error) {
	info, ok := hook.Context.Value(infoKey{}).(*reqInfo)
	if !ok || info.auth == nil {
		return tus.HTTPResponse{}, tus.FileInfoChanges{}, tus.NewError("unauthenticated", "sign in first", http.StatusUnauthorized)
	}
	owner := info.auth.Account.ID
	if hook.Upload.SizeIsDeferred {
		return tus.HTTPResponse{}, tus.FileInfoChanges{}, tus.NewError(plaza.EInvalid, "Upload-Length: is required", http.StatusBadRequest)
	}
	if !cleanText(hook.Upload.MetaData["filetype"]) {
		return tus.HTTPResponse{}, tus.FileInfoChanges{}, tus.NewError(plaza.EInvalid, "Upload-Metadata filetype: must be valid UTF-8 without NUL bytes", http.StatusBadRequest)
	}
	// The declared length is held against the quota from now until the
	// upload is finished, terminated or abandoned; the upload takes the
	// reservation's ID.
	res, err := s.media.Reserve(hook.Context, owner, hook.Upload.Size, true)
	if err != nil {
		return tus.HTTPResponse{}, tus.FileInfoChanges{}, s.tusError(err)
	}
	// Keep only what Plaza uses: the claimed type (a hint, sniffing
	// decides) and the owner. A client's file name is never stored.
	meta := tus.MetaData{ownerKey: owner.String(), "filetype": hook.Upload.MetaData["filetype"]}
	return tus.HTTPResponse{}, tus.FileInfoChanges{ID: res.ID.String(), MetaData: meta}, nil
}

// reservationOf returns the quota reservation of a resumable upload, whose
// ID it shares; ok is false for an upload created without one.
func reservationOf(up tus.FileInfo) (media.Reservation, bool) {
	id, ok := reservationID(up.ID)
	if !ok {
		return media.Reservation{}, false
	}
	owner, err := plaza.ParseID("owner", up.MetaData[ownerKey])
	if err != nil {
		return media.Reservation{}, false
	}
	return media.Reservation{ID: id, Owner: owner, Bytes: up.Size}, true
}

// tusTerminate gives a cancelled upload's quota back.
func (s *Server) tusTerminate(hook tus.HookEvent) (tus.HTTPResponse, error) {
	if res, ok := reservationOf(hook.Upload); ok {
		if err := s.media.Release(hook.Context, res.ID); err != nil {
			return tus.HTTPResponse{}, err
		}
	}
	return tus.HTTPResponse{}, nil
}

// reservationID returns the ID of an upload's quota reservation: the
// whole upload ID with the filestore, the part before "+" with the S3
// store (whose IDs are "OBJECT+MULTIPART").
func reservationID(upload string) (plaza.ID, bool) {
	obj, _, _ := strings.Cut(upload, "+")
	id, err := plaza.ParseID("upload", obj)
	return id, err == nil
}

// validUploadID reports whether id has the shape of the IDs this server's
// store makes, so that nothing else (a "%2F" decoded to "/") reaches a file
// path or an S3 key.
func (r *resumable) validUploadID(id string) bool {
	obj, multipart, hasPlus := strings.Cut(id, "+")
	if _, err := plaza.ParseID("upload", obj); err != nil {
		return false
	}
	if r.s3 == nil {
		return !hasPlus
	}
	if multipart == "" {
		return false
	}
	for i := 0; i < len(multipart); i++ {
		if c := multipart[i]; c <= ' ' || c >= 0x7f || c == '/' || c == '\\' {
			return false
		}
	}
	return true
}

func (s *Server) tusFinish(hook tus.HookEvent) (tus.HTTPResponse, error) {
	owner, err := plaza.ParseID("owner", hook.Upload.MetaData[ownerKey])
	if err != nil {
		return tus.HTTPResponse{}, tus.NewError(plaza.EInternal, "upload without an owner", http.StatusInternalServerError)
	}
	// Read through the store: a local file, or the object S3 has just
	// assembled from the parts.
	up, err := s.uploads.store.GetUpload(hook.Context, hook.Upload.ID)
	if err != nil {
		return tus.HTTPResponse{}, fmt.Errorf("finished upload: %w", err)
	}
	f, err := up.GetReader(hook.Context)
	if err != nil {
		return tus.HTTPResponse{}, fmt.Errorf("finished upload: %w", err)
	}
	var it media.Item
	if res, ok := reservationOf(hook.Upload); ok {
		it, err = s.media.UploadReserved(hook.Context, res, f, hook.Upload.MetaData["filetype"])
	} else {
		it, err = s.media.Upload(hook.Context, owner, f, hook.Upload.MetaData["filetype"])
	}
	f.Close()
	// Processed or refused, the parts are no longer needed.
	s.removeUpload(hook.Context, hook.Upload.ID)
	if err != nil {
		return tus.HTTPResponse{}, s.tusError(err)
	}
	body, _ := json.Marshal(it)
	return tus.HTTPResponse{
		StatusCode: http.StatusOK,
		Header:     tus.HTTPHeader{"Plaza-Media-Id": it.ID.String(), "Content-Type": "application/json; charset=utf-8"},
		Body:       string(body),
	}, nil
}

func (s *Server) removeUpload(ctx context.Context, id string) {
	up, err := s.uploads.store.GetUpload(ctx, id)
	if err == nil {
		err = s.uploads.store.AsTerminatableUpload(up).Terminate(ctx)
	}
	if err != nil {
		s.log.Warn("could not remove finished upload parts", "upload", id, "err", err)
	}
}

// tusRequest hands a request to tusd after checking that the upload, if
// the request names one, belongs to the caller (others get 404).
func (s *Server) tusRequest(serve func(http.ResponseWriter, *http.Request)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.uploads == nil {
			return plaza.Errorf(plaza.ENotFound, "this server does not take resumable uploads")
		}
		if r.Method == http.MethodPost {
			// Charged when an upload starts; its chunks are free.
			if err := s.uploadBudget.Take(r.Context(), authOf(r).Account.ID.String(), 1); err != nil {
				return err
			}
		}
		if id := r.PathValue("id"); id != "" {
			if !s.uploads.validUploadID(id) {
				return plaza.Errorf(plaza.ENotFound, "upload not found")
			}
			up, err := s.uploads.store.GetUpload(r.Context(), id)
			if err != nil {
				return plaza.Errorf(plaza.ENotFound, "upload not found")
			}
			info, err := up.GetInfo(r.Context())
			if err != nil || info.MetaData[ownerKey] != authOf(r).Account.ID.String() {
				return plaza.Errorf(plaza.ENotFound, "upload not found")
			}
		}
		// tusd's unrouted handler takes the upload ID as the whole path.
		h := http.StripPrefix("/api/v1/uploads", http.HandlerFunc(serve))
		s.uploads.handler.Middleware(h).ServeHTTP(w, r)
		if id, ok := reservationID(r.PathValue("id")); ok && r.Method == http.MethodPatch {
			// Bytes arrived: the upload is alive, keep its quota held.
			if err := s.media.Touch(context.WithoutCancel(r.Context()), id); err != nil {
				s.log.Warn("could not renew an upload's reservation", "upload", id.String(), "err", err)
			}
		}
		return nil
	}
}

// pruneUploads removes unfinished uploads untouched for longer than maxAge,
// appending the IDs of the uploads removed to *removed.
func pruneUploads(dir string, maxAge time.Duration, now time.Time, removed *[]string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	n := 0
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || fi.IsDir() || now.Sub(fi.ModTime()) < maxAge {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
			if id, ok := strings.CutSuffix(e.Name(), ".info"); ok {
				*removed = append(*removed, id)
			}
		}
	}
	return n, nil
}

// uploadMaxIdle is how long an unfinished upload may go without receiving
// anything before the pruner removes it.
const uploadMaxIdle = 24 * time.Hour

// pruneUploadsOnce removes abandoned uploads and gives their quota back,
// and deletes lapsed reservations.
func (s *Server) pruneUploadsOnce(ctx context.Context, now time.Time) {
	if s.uploads.s3 != nil {
		s.pruneS3UploadsOnce(ctx, now)
	} else {
		s.pruneUploadFiles(ctx, now)
	}
	if _, err := s.media.PruneReservations(ctx); err != nil {
		s.log.Warn("pruning media reservations failed", "err", err)
	}
}

func (s *Server) pruneS3UploadsOnce(ctx context.Context, now time.Time) {
	removed, err := s.pruneS3Uploads(ctx, uploadMaxIdle, now)
	if err != nil {
		s.log.Warn("pruning unfinished uploads failed", "err", err)
	} else if len(removed) > 0 {
		s.log.Info("pruned unfinished uploads", "uploads", len(removed))
	}
	for _, id := range removed {
		if err := s.media.Release(ctx, id); err != nil {
			s.log.Warn("could not release an abandoned upload's reservation", "upload", id.String(), "err", err)
		}
	}
	if _, err := s.uploads.locks.prune(ctx); err != nil {
		s.log.Warn("pruning upload locks failed", "err", err)
	}
	// A PATCH spools its parts here on their way to S3 and removes them
	// when sent; a node killed meanwhile leaves them behind.
	var ignored []string
	if n, err := pruneUploads(s.cfg.UploadsDir, uploadMaxIdle, now, &ignored); err != nil {
		s.log.Warn("pruning upload scratch files failed", "err", err)
	} else if n > 0 {
		s.log.Info("pruned upload scratch files left by a crash", "files", n)
	}
}

func (s *Server) pruneUploadFiles(ctx context.Context, now time.Time) {
	var removed []string
	if n, err := pruneUploads(s.cfg.UploadsDir, uploadMaxIdle, now, &removed); err != nil {
		s.log.Warn("pruning unfinished uploads failed", "err", err)
	} else if n > 0 {
		s.log.Info("pruned unfinished uploads", "files", n)
	}
	for _, name := range removed {
		if id, err := plaza.ParseID("upload", name); err == nil {
			if err := s.media.Release(ctx, id); err != nil {
				s.log.Warn("could not release an abandoned upload's reservation", "upload", name, "err", err)
			}
		}
	}
}

// RunUploadPruner removes unfinished resumable uploads a day old, hourly,
// until ctx ends.
func (s *Server) RunUploadPruner(ctx context.Context) {
	if s.uploads == nil {
		return
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.pruneUploadsOnce(ctx, time.Now())
		}
	}
}

func (s *Server) tusPost(w http.ResponseWriter, r *http.Request)   { s.uploads.handler.PostFile(w, r) }
func (s *Server) tusHead(w http.ResponseWriter, r *http.Request)   { s.uploads.handler.HeadFile(w, r) }
func (s *Server) tusPatch(w http.ResponseWriter, r *http.Request)  { s.uploads.handler.PatchFile(w, r) }
func (s *Server) tusDelete(w http.ResponseWriter, r *http.Request) { s.uploads.handler.DelFile(w, r) }
