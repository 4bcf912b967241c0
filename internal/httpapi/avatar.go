package httpapi

import (
	"net/http"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/media"
)

// Profile photos: the owner picks one of their uploaded images; the server
// keeps a square copy (media.MakeAvatar) and serves it at a versioned URL
// to anyone signed in who may see the profile.

func (s *Server) putAvatar(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		MediaID plaza.ID `json:"media_id"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.MediaID == 0 {
		return plaza.Invalid("media_id", "is required")
	}
	// Each photo decodes and scales an image and stores a new one, like an
	// upload, so it is charged to the uploads budget: otherwise one large
	// upload could be re-processed without limit.
	if err := s.uploadBudget.Take(r.Context(), authOf(r).Account.ID.String(), 1); err != nil {
		return err
	}
	if s.media == nil {
		return plaza.Errorf(plaza.ENotFound, "media not found")
	}
	ctx := r.Context()
	me := authOf(r).Account.ID
	it, err := s.media.MakeAvatar(ctx, me, req.MediaID)
	if err != nil {
		return err
	}
	old, err := s.accounts.SetAvatar(ctx, me, it.ID)
	if err != nil {
		s.dropAvatar(r, it.ID)
		return err
	}
	s.dropAvatar(r, old)
	p, err := s.accounts.Profile(ctx, me)
	if err != nil {
		return err
	}
	out, err := s.profileOf(r, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// dropAvatar deletes a profile photo's item that is no longer in use (0:
// none). A failure leaves an item in the owner's media, which they may
// delete; it does not fail the request.
func (s *Server) dropAvatar(r *http.Request, id plaza.ID) {
	if id == 0 {
		return
	}
	err := s.media.Delete(r.Context(), authOf(r).Account.ID, id)
	if err != nil && plaza.ErrorCode(err) != plaza.ENotFound {
		s.log.WarnContext(r.Context(), "could not delete a replaced profile photo", "media_id", id.String(), "err", err)
	}
}

func (s *Server) deleteAvatar(w http.ResponseWriter, r *http.Request) error {
	old, err := s.accounts.ClearAvatar(r.Context(), authOf(r).Account.ID)
	if err != nil {
		return err
	}
	if s.media != nil {
		s.dropAvatar(r, old)
	}
	return noContent(w)
}

// getAvatar serves a profile photo (?size=64 for the small one). Its URL
// carries the version, so it may be cached for a year, privately: the
// photo is for signed-in people, and not for whoever its owner blocked.
func (s *Server) getAvatar(w http.ResponseWriter, r *http.Request) error {
	notFound := plaza.Errorf(plaza.ENotFound, "profile photo not found")
	id, err := pathID(r, "id")
	if err != nil || s.media == nil {
		return notFound
	}
	var thumb bool
	switch r.URL.Query().Get("size") {
	case "", "256":
	case "64":
		thumb = true
	default:
		return plaza.Invalid("size", "must be 64 or 256")
	}
	ctx := r.Context()
	if b, err := s.chat.Blocked(ctx, id, authOf(r).Account.ID); err != nil {
		return err
	} else if b {
		return notFound
	}
	mid, version, err := s.accounts.Avatar(ctx, id)
	if plaza.ErrorCode(err) == plaza.ENotFound {
		return notFound
	}
	if err != nil {
		return err
	}
	it, err := s.media.Get(ctx, mid)
	if plaza.ErrorCode(err) == plaza.ENotFound || (err == nil && (it.OwnerID != id || it.Kind != media.KindImage)) {
		return notFound
	}
	if err != nil {
		return err
	}
	obj, err := s.media.Open(ctx, it, thumb)
	if err != nil {
		return err
	}
	defer obj.Close()
	h := w.Header()
	setMediaHeaders(h, it, thumb)
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	h.Set("Content-Disposition", "inline")
	etag := `"avatar-` + id.String() + "-" + plaza.ID(version).String()
	if thumb {
		etag += "-64"
	}
	h.Set("ETag", etag+`"`)
	http.ServeContent(w, r, "", it.CreatedAt, obj)
	return nil
}
