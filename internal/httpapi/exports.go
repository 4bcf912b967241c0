package httpapi

import (
	"net/http"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/export"
)

// The data export ("Your data"): a person asks for an export of
// everything they have, a background job writes it as a ZIP, and they
// download it until it expires. Every route here is allowed in any
// standing: a suspended or terms-gated person may still take their data
// and leave. An export is seen only by whoever asked for it; anyone
// else's ID answers 404, as for one that does not exist.

// exportJSON is an export as its requester sees it.
type exportJSON struct {
	ID plaza.ID `json:"id"`
	// AccountID is whose data it holds: the requester's own, or the
	// account they are the legacy contact of.
	AccountID   plaza.ID   `json:"account_id"`
	Status      string     `json:"status"`
	Progress    float64    `json:"progress"`
	Size        int64      `json:"size"`
	DownloadURL *string    `json:"download_url"`
	ExpiresAt   *time.Time `json:"expires_at"`
	CreatedAt   time.Time  `json:"created_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Error       string     `json:"error,omitempty"`
}

func toExportJSON(e export.Export) exportJSON {
	out := exportJSON{ID: e.ID, AccountID: e.AccountID, Status: e.Status, Progress: e.Progress, Size: e.Size, CreatedAt: e.CreatedAt, Error: e.Error}
	if e.Status == export.Ready {
		u := "/api/v1/me/exports/" + e.ID.String() + "/download"
		out.DownloadURL = &u
	}
	if !e.ExpiresAt.IsZero() {
		t := e.ExpiresAt
		out.ExpiresAt = &t
	}
	if !e.FinishedAt.IsZero() {
		t := e.FinishedAt
		out.FinishedAt = &t
	}
	return out
}

// errNoExports answers when the server runs without the export service.
var errNoExports = plaza.Errorf(plaza.ENotFound, "export not found")

func (s *Server) requestExport(w http.ResponseWriter, r *http.Request) error {
	if s.exports == nil {
		return errNoExports
	}
	me := authOf(r).Account.ID
	e, err := s.exports.Request(r.Context(), me, me)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, toExportJSON(e))
}

func (s *Server) listExports(w http.ResponseWriter, r *http.Request) error {
	if s.exports == nil {
		return writeJSON(w, http.StatusOK, list[exportJSON]{Items: []exportJSON{}})
	}
	es, err := s.exports.List(r.Context(), authOf(r).Account.ID)
	if err != nil {
		return err
	}
	out := list[exportJSON]{Items: make([]exportJSON, 0, len(es))}
	for _, e := range es {
		out.Items = append(out.Items, toExportJSON(e))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getExport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil || s.exports == nil {
		return errNoExports
	}
	e, err := s.exports.Get(r.Context(), authOf(r).Account.ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toExportJSON(e))
}

// downloadExport streams the ZIP to the person who asked for it, with
// Range support (http.ServeContent), so a large download can resume.
func (s *Server) downloadExport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil || s.exports == nil {
		return errNoExports
	}
	obj, e, err := s.exports.Open(r.Context(), authOf(r).Account.ID, id)
	if err != nil {
		return err
	}
	defer obj.Close()
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="plaza-export-`+e.ID.String()+`.zip"`)
	h.Set("Content-Security-Policy", mediaCSP)
	// Someone's whole data must not stay in a shared browser's cache.
	h.Set("Cache-Control", "no-store")
	h.Set("ETag", `"export-`+e.ID.String()+`"`)
	http.ServeContent(w, r, "", e.FinishedAt, obj)
	return nil
}
