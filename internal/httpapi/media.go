package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// multipartOverhead is the room allowed around the file part (boundaries,
// part headers) on top of the largest upload.
const multipartOverhead = 64 << 10

// uploadMedia takes a multipart upload (field "file") and streams it to
// the media service, which refuses it as soon as it passes its kind's
// limit: nothing is buffered whole in memory.
func (s *Server) uploadMedia(w http.ResponseWriter, r *http.Request) error {
	if s.media == nil {
		return plaza.Errorf(plaza.ENotFound, "this server does not store media")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return plaza.Errorf(plaza.EUnsupportedMediaType, "send the file as multipart/form-data in a field named file")
	}
	if err := s.uploadBudget.Take(r.Context(), authOf(r).Account.ID.String(), 1); err != nil {
		return err
	}
	limit := s.media.Config().MaxUpload()
	if r.ContentLength > limit+multipartOverhead {
		return plaza.Errorf(plaza.ETooLarge, "the upload is larger than %d MiB", limit>>20).WithDetails(map[string]any{"limit_bytes": limit})
	}
	// The server's ReadTimeout suits JSON requests, not a 200 MiB video
	// on a phone link: give the body time in proportion to the limit.
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadDeadline(limit, s.cfg.UploadMinDeadline))); err != nil {
		s.log.Warn("could not extend the upload's read deadline", "err", err)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+multipartOverhead)
	owner := authOf(r).Account.ID
	// A declared length is reserved before a byte is read, so concurrent
	// uploads cannot together pass the quota; without one the service
	// reserves what arrived before it stores anything.
	var res media.Reservation
	if r.ContentLength > 0 {
		if res, err = s.media.Reserve(r.Context(), owner, min(r.ContentLength, limit), false); err != nil {
			return err
		}
		// Settling deletes the reservation, so this only matters when
		// the request fails before the file part.
		defer func() {
			if err := s.media.Release(context.WithoutCancel(r.Context()), res.ID); err != nil {
				s.log.Warn("could not release media reservation", "err", err)
			}
		}()
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return plaza.Invalid("body", "must be multipart/form-data")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return plaza.Invalid("file", "is required: send the file in a multipart field named file")
		}
		if err != nil {
			return uploadError(err, limit)
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		// The part's file name is never used: bytes are stored under IDs.
		// Its type is only a hint, but it must be text.
		if !cleanText(part.Header.Get("Content-Type")) {
			part.Close()
			return plaza.Invalid("file.content_type", "must be valid UTF-8 without NUL bytes")
		}
		var it media.Item
		if res.ID != 0 {
			it, err = s.media.UploadReserved(r.Context(), res, part, part.Header.Get("Content-Type"))
		} else {
			it, err = s.media.Upload(r.Context(), owner, part, part.Header.Get("Content-Type"))
		}
		part.Close()
		if err != nil {
			return uploadError(err, limit)
		}
		w.Header().Set("Location", "/api/v1/media/"+it.ID.String())
		return writeJSON(w, http.StatusCreated, it)
	}
}

// uploadMinRate is the slowest link a single-request upload of the
// largest size must still fit through: 256 KiB/s (2 Mbit/s).
const uploadMinRate = 256 << 10

// uploadDeadline is how long the body of an upload of at most limit bytes
// may take: what limit takes at uploadMinRate, and at least floor.
func uploadDeadline(limit int64, floor time.Duration) time.Duration {
	return max(floor, time.Duration(limit/uploadMinRate)*time.Second)
}

func uploadError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return plaza.Errorf(plaza.ETooLarge, "the upload is larger than %d MiB", limit>>20).WithDetails(map[string]any{"limit_bytes": limit})
	}
	if plaza.AsError(err) != nil || sqldb.IsDiskFull(err) {
		return err
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errUploadTimeout
	}
	return plaza.Invalid("body", "the upload was cut off or is not valid multipart")
}

// errUploadTimeout answers an upload that did not arrive within its
// deadline: the client is slow, not wrong, and tus can resume.
var errUploadTimeout = plaza.Errorf(plaza.ERequestTimeout,
	"the upload took too long to arrive; on a slow connection use resumable uploads (POST /api/v1/uploads, tus 1.0), which continue where they stopped")

// mediaCSP forbids everything a served file could do if a browser were
// tricked into rendering it as a page.
const mediaCSP = "default-src 'none'; sandbox"

func (s *Server) getMedia(w http.ResponseWriter, r *http.Request) error {
	return s.serveMedia(w, r, false)
}

func (s *Server) getMediaThumbnail(w http.ResponseWriter, r *http.Request) error {
	return s.serveMedia(w, r, true)
}

// serveMedia serves an item to its uploader, to members of a
// conversation that carries it, to anyone signed in when a published
// channel post carries it, and to whoever may see a microblog post that
// carries it; everyone else gets 404, the same as for an ID that does not
// exist. An item its uploader deleted is served only to members of a
// conversation whose sent message still carries it (the uploader among
// them): it is no longer the uploader's, and in posts deleted means gone.
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, thumb bool) error {
	notFound := plaza.Errorf(plaza.ENotFound, "media not found")
	if s.media == nil {
		return notFound
	}
	id, err := pathID(r, "id")
	if err != nil {
		return notFound
	}
	it, err := s.media.GetForServing(r.Context(), id)
	if plaza.ErrorCode(err) == plaza.ENotFound {
		return notFound
	}
	if err != nil {
		return err
	}
	viewer := authOf(r).Account.ID
	if it.OwnerID != viewer || it.Released {
		ok, err := s.chat.CanSeeMedia(r.Context(), viewer, id)
		if err != nil {
			return err
		}
		if !ok && s.channels != nil && !it.Released {
			// Media in a channel post goes to whoever may see the post
			// (anyone signed in, for a published post of an active
			// channel that no moderation decision hides).
			if ok, err = s.channels.CanSeeMedia(r.Context(), viewer, id); err != nil {
				return err
			}
		}
		if !ok && s.microblog != nil && !it.Released {
			// Media in a microblog post goes to whoever may see the post.
			if ok, err = s.microblog.CanSeeMedia(r.Context(), viewer, id); err != nil {
				return err
			}
		}
		if !ok {
			return notFound
		}
	}
	obj, err := s.media.Open(r.Context(), it, thumb)
	if it.Released && errors.Is(err, blob.ErrNotFound) {
		// The sweep removed the bytes between the lookup and here.
		return notFound
	}
	if err != nil {
		return err
	}
	defer obj.Close()
	h := w.Header()
	setMediaHeaders(h, it, thumb)
	// Private media must not outlive the session in the browser's disk
	// cache (a shared computer, after sign-out). Clients that want to keep
	// media keep it themselves: the web client holds it in memory for the
	// page's life.
	h.Set("Cache-Control", "no-store")
	h.Set("ETag", `"`+it.ID.String()+map[bool]string{true: "-t", false: ""}[thumb]+`"`)
	if it.Kind == media.KindFile && !thumb {
		h.Set("Content-Disposition", `attachment; filename="`+it.ID.String()+`"`)
	} else {
		h.Set("Content-Disposition", "inline")
	}
	http.ServeContent(w, r, "", it.CreatedAt, obj)
	return nil
}

// deleteMedia deletes the caller's own upload, freeing its quota at once
// (see media.Service.Delete for what stays readable); someone else's
// answers 404, the same as an ID that does not exist.
func (s *Server) deleteMedia(w http.ResponseWriter, r *http.Request) error {
	notFound := plaza.Errorf(plaza.ENotFound, "media not found")
	if s.media == nil {
		return notFound
	}
	id, err := pathID(r, "id")
	if err != nil {
		return notFound
	}
	if err := s.media.Delete(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) mediaUsage(w http.ResponseWriter, r *http.Request) error {
	if s.media == nil {
		return plaza.Errorf(plaza.ENotFound, "this server does not store media")
	}
	u, err := s.media.Usage(r.Context(), authOf(r).Account.ID)
	if err != nil {
		return err
	}
	cfg := s.media.Config()
	return writeJSON(w, http.StatusOK, map[string]any{
		"used_bytes": u.Used, "reserved_bytes": u.Reserved, "unfinished_uploads": u.Unfinished, "kept_bytes": u.Kept,
		"quota_bytes": cfg.Quota, "max_unfinished_uploads": cfg.MaxUnfinished,
		"limits": map[string]int64{"image": cfg.MaxImage, "audio": cfg.MaxAudio, "video": cfg.MaxVideo, "file": cfg.MaxFile},
	})
}

// cleanText reports whether s is valid UTF-8 without NUL bytes, which
// PostgreSQL refuses in text and logs mangle.
func cleanText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// setMediaHeaders sets what every answer with a media item's bytes carries:
// its type, and the headers that keep a browser from running or sniffing it
// or another site from embedding it.
func setMediaHeaders(h http.Header, it media.Item, thumb bool) {
	ctype := it.ContentType
	if thumb {
		ctype = it.ThumbType()
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Security-Policy", mediaCSP)
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
}
