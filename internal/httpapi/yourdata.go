package httpapi

import (
	"net/http"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
)

// This file serves "Your data" beyond the export: the legacy contact and
// memorialisation (scheduled deletion is DELETE /me, in accounts.go).

// legacyContactJSON is one's legacy contact.
type legacyContactJSON struct {
	AccountID   plaza.ID  `json:"account_id"`
	Handle      string    `json:"handle"`
	DisplayName string    `json:"display_name"`
	MayDownload bool      `json:"may_download"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func toLegacyContactJSON(l account.LegacyContact) legacyContactJSON {
	return legacyContactJSON{AccountID: l.ContactID, Handle: l.Handle, DisplayName: l.DisplayName, MayDownload: l.MayDownload, UpdatedAt: l.UpdatedAt}
}

func (s *Server) getLegacyContact(w http.ResponseWriter, r *http.Request) error {
	l, err := s.accounts.LegacyContact(r.Context(), authOf(r).Account.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toLegacyContactJSON(l))
}

func (s *Server) putLegacyContact(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		AccountID   plaza.ID `json:"account_id"`
		MayDownload *bool    `json:"may_download"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	var p plaza.Problems
	if req.AccountID == 0 {
		p.Add("account_id", "is required")
	}
	if req.MayDownload == nil {
		p.Add("may_download", "is required: true or false")
	}
	if err := p.Err(); err != nil {
		return err
	}
	l, err := s.accounts.SetLegacyContact(r.Context(), authOf(r).Account.ID, req.AccountID, *req.MayDownload)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toLegacyContactJSON(l))
}

func (s *Server) deleteLegacyContact(w http.ResponseWriter, r *http.Request) error {
	if err := s.accounts.RemoveLegacyContact(r.Context(), authOf(r).Account.ID); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) memorialise(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	a, err := s.accounts.Memorialise(r.Context(), actorOf(r), id, req.Reason)
	if err != nil {
		return err
	}
	return s.writeMe(w, r, a)
}
