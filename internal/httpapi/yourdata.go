package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/export"
)

// This file serves "Your data" beyond one's own export (exports.go): the
// legacy contact, the legacy contact's export of a memorialised account,
// and memorialisation (scheduled deletion is DELETE /me, in accounts.go).

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
	if plaza.ErrorCode(err) == plaza.ENotFound {
		// None chosen is a normal state, not a missing resource: the
		// settings screen asks on every visit, and a 404 there reads as
		// an error in the browser's console.
		return noContent(w)
	}
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

// legacyExport starts an export of a memorialised account's data for its
// legacy contact, who then follows and downloads it as their own
// (GET /me/exports/{id}). Anyone else, the account itself included, is
// told the account is not found: the answer does not reveal who the
// legacy contact is, or whether the account has one.
func (s *Server) legacyExport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil || s.exports == nil {
		return plaza.Errorf(plaza.ENotFound, "account not found")
	}
	caller := authOf(r).Account.ID
	if err := s.accounts.CheckLegacyExport(r.Context(), id, caller); err != nil {
		return err
	}
	e, err := s.exports.Request(r.Context(), id, caller)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, toExportJSON(e))
}

// LegacyContactSection is the export's "legacy_contact" section: the
// legacy contact the person chose (legacy_contact.json), null when none.
func LegacyContactSection(accounts *account.Service) export.Section {
	return func(ctx context.Context, subject plaza.ID, w *export.Writer) error {
		out := struct {
			LegacyContact *legacyContactJSON `json:"legacy_contact"`
		}{}
		l, err := accounts.LegacyContact(ctx, subject)
		switch {
		case err == nil:
			j := toLegacyContactJSON(l)
			out.LegacyContact = &j
		case plaza.ErrorCode(err) != plaza.ENotFound:
			return err
		}
		return w.JSON("legacy_contact.json", out)
	}
}
