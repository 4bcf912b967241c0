package httpapi

import (
	"net/http"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/media"
)

// myMediaPage is the default and the largest page of GET /me/media.
const (
	myMediaPage    = 50
	myMediaPageMax = 100
)

// mediaItemJSON is one of the caller's own media items as GET /me/media
// lists it: what it is, not where it is stored or its hash.
type mediaItemJSON struct {
	ID          plaza.ID  `json:"id"`
	Kind        string    `json:"kind"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	Width       int       `json:"width"`
	Height      int       `json:"height"`
	DurationMS  int64     `json:"duration_ms"`
	HasThumb    bool      `json:"has_thumbnail"`
	CreatedAt   time.Time `json:"created_at"`
	// InMessages says that a sent message carries the item, so deleting
	// it frees the quota but leaves it readable in that conversation
	// until the message is recalled.
	InMessages bool `json:"in_messages"`
}

// listMyMedia lists the caller's own media, newest first, a page at a
// time (?before= the previous page's next_cursor, ?limit=1–100).
func (s *Server) listMyMedia(w http.ResponseWriter, r *http.Request) error {
	if s.media == nil {
		return plaza.Errorf(plaza.ENotFound, "this server does not store media")
	}
	limit, err := queryInt(r, "limit", myMediaPage, 1, myMediaPageMax)
	if err != nil {
		return err
	}
	var before plaza.ID
	if c := r.URL.Query().Get("before"); c != "" {
		if before, err = plaza.ParseID("before", c); err != nil {
			return plaza.Invalid("before", "must be a next_cursor from a previous page")
		}
	}
	owner := authOf(r).Account.ID
	items, err := s.media.List(r.Context(), owner, before, int(limit))
	if err != nil {
		return err
	}
	ids := make([]plaza.ID, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	sent, err := s.media.InMessages(r.Context(), owner, ids)
	if err != nil {
		return err
	}
	out := make([]mediaItemJSON, len(items))
	for i, it := range items {
		out[i] = toMediaItemJSON(it, sent[it.ID])
	}
	return writeJSON(w, http.StatusOK, idPage(out, limit, func(m mediaItemJSON) plaza.ID { return m.ID }))
}

func toMediaItemJSON(it media.Item, inMessages bool) mediaItemJSON {
	return mediaItemJSON{ID: it.ID, Kind: it.Kind, ContentType: it.ContentType, Size: it.Size, Width: it.Width, Height: it.Height,
		DurationMS: it.DurationMS, HasThumb: it.HasThumb, CreatedAt: it.CreatedAt, InMessages: inMessages}
}
